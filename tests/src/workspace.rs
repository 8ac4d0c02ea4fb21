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
