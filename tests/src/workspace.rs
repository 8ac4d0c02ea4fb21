//! The workspace and its builds: the root, the `medkit` binary and plugin libraries built for the
//! tests' profile, plugins built outside the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The cargo profile directory the tests were built in (target/debug or target/release).
pub fn profile_dir() -> PathBuf {
    // current_exe = target/<profile>/deps/<test>-<hash>
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("profile dir")
        .to_path_buf()
}

/// The `medkit` binary in the tests' profile dir; the host and the plugins are (re)built once
/// per test process, so the tests never run stale libraries.
pub fn medkit_bin() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(build_workspace);
    profile_dir().join("medkit")
}

/// Builds the host binary and every plugin library of the workspace for the tests' profile.
pub fn build_workspace() {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root())
        // --tests: features resolved as `cargo test --workspace` resolves them (dev-dependencies
        // included), so this build reuses that run's libraries instead of rebuilding them.
        .args(["build", "--workspace", "--lib", "--bins", "--tests"]);
    if profile_dir().ends_with("release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo build");
    assert!(status.success(), "cargo build --workspace failed");
}

/// Builds a plugin that lives outside the workspace (its own Cargo project) and returns a copy
/// of its library `lib_name` (e.g. "medkit_plugin_template"). All such builds share one target
/// dir to reuse dependencies, so they are serialised.
pub fn build_external_plugin(manifest_dir: &Path, lib_name: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let target = root().join("target").join("external-plugins");
    let status = Command::new(env!("CARGO"))
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo build (external plugin)");
    assert!(
        status.success(),
        "building {} failed",
        manifest_dir.display()
    );
    let built = lib_file(&target.join("debug"), lib_name);
    let keep = target.join("copies").join(format!(
        "{:x}",
        manifest_dir
            .to_string_lossy()
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
    ));
    std::fs::create_dir_all(&keep).expect("mkdir");
    let copy = keep.join(built.file_name().unwrap());
    std::fs::copy(&built, &copy).expect("copy built plugin");
    copy
}

/// The template plugin of `examples/template-plugin` (metrics `token-accuracy`, callback
/// `epoch-file`), built outside the workspace.
pub fn template_plugin() -> PathBuf {
    build_external_plugin(
        &root().join("examples/template-plugin"),
        "medkit_plugin_template",
    )
}

/// Copies the library files of `from` into a fresh private directory (so tests can combine
/// plugins per directory).
pub fn plugin_dir_with(files: &[PathBuf]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in files {
        std::fs::copy(f, dir.path().join(f.file_name().unwrap())).expect("copy plugin");
    }
    dir
}

/// The library file of crate `name` (e.g. "medkit_plugin_template") in `dir`.
pub fn lib_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// A copy of `sdk/` in `work/sdk`, standing alone (no workspace keys), with version `version`:
/// the SDK another release would be, for the ABI-compatibility tests. Returns its folder.
pub fn sdk_copy(work: &Path, version: &str) -> PathBuf {
    let sdk = work.join("sdk");
    std::fs::create_dir_all(sdk.join("src")).unwrap();
    for f in std::fs::read_dir(root().join("sdk/src")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, sdk.join("src").join(f.file_name().unwrap())).unwrap();
    }
    let manifest = std::fs::read_to_string(root().join("sdk/Cargo.toml"))
        .unwrap()
        .replace(
            "version.workspace = true",
            &format!("version = \"{version}\""),
        )
        .replace("edition.workspace = true", "edition = \"2021\"")
        .replace("license.workspace = true", "")
        .replace("abi_stable.workspace = true", "abi_stable = \"0.11.3\"")
        .replace("inventory.workspace = true", "inventory = \"0.3\"")
        .replace("log.workspace = true", "log = \"0.4\"")
        .replace("serde_json.workspace = true", "serde_json = \"1\"")
        .replace(
            "serde.workspace = true",
            "serde = { version = \"1\", features = [\"derive\"] }",
        );
    std::fs::write(sdk.join("Cargo.toml"), manifest).unwrap();
    sdk
}

/// The template plugin with its `src/lib.rs` as `source`, built against the SDK in `sdk` (in
/// `work/plugin`); returns the library.
pub fn template_built_against(work: &Path, sdk: &Path, source: &str) -> PathBuf {
    let plugin = work.join("plugin");
    std::fs::create_dir_all(plugin.join("src")).unwrap();
    std::fs::write(plugin.join("src/lib.rs"), source).unwrap();
    let m = std::fs::read_to_string(root().join("examples/template-plugin/Cargo.toml"))
        .unwrap()
        .replace("../../sdk", sdk.to_str().unwrap());
    std::fs::write(plugin.join("Cargo.toml"), m).unwrap();
    std::fs::copy(root().join("Cargo.lock"), plugin.join("Cargo.lock")).unwrap();
    build_external_plugin(&plugin, "medkit_plugin_template")
}

/// The template plugin's source.
pub fn template_source() -> String {
    std::fs::read_to_string(root().join("examples/template-plugin/src/lib.rs")).unwrap()
}
