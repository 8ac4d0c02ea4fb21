//! Helpers for the workspace integration tests in `tests/tests/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The `medkit` binary next to the tests' profile dir; built on demand with the plugins.
pub fn medkit_bin() -> PathBuf {
    let bin = profile_dir().join("medkit");
    if !bin.exists() {
        build_workspace();
    }
    bin
}

/// Builds the host binary and every plugin library of the workspace for the tests' profile.
pub fn build_workspace() {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root())
        .args(["build", "--workspace", "--lib", "--bins"]);
    if profile_dir().ends_with("release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo build");
    assert!(status.success(), "cargo build --workspace failed");
}

/// Runs `medkit ARGS` with the environment cleared of MEDKIT_PLUGIN_PATH.
pub fn medkit(args: &[&str]) -> Output {
    Command::new(medkit_bin())
        .args(args)
        .env_remove("MEDKIT_PLUGIN_PATH")
        .output()
        .expect("run medkit")
}

/// stdout + stderr as one string, for assertions.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
