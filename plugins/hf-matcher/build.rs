//! Records the version of the libtorch torch-sys links against (`MEDKIT_LIBTORCH_VERSION`), for
//! checkpoints' provenance when the loaded library cannot be found at run time.

#[path = "src/libtorch_version.rs"]
mod libtorch_version;

fn main() {
    // torch-sys (`links = "tch"`) passes its libtorch lib folder to direct dependents.
    let lib = std::env::var_os("DEP_TCH_LIBTORCH_LIB");
    let version = lib
        .as_ref()
        .and_then(|l| {
            std::path::Path::new(l)
                .parent()
                .map(libtorch_version::version_in)
        })
        .flatten()
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MEDKIT_LIBTORCH_VERSION={version}");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Some(l) = lib {
        let root = std::path::Path::new(&l)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        // Only files that exist: cargo reruns the script (and rebuilds the crate) on every
        // build for a missing one.
        for f in ["build-version", "version.py"].map(|f| root.join(f)) {
            if f.is_file() {
                println!("cargo:rerun-if-changed={}", f.display());
            }
        }
    }
    println!("cargo:rerun-if-changed=src/libtorch_version.rs");
}
