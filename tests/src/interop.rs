//! The interop checks' side of the Python scripts and of the ignored tests of other packages.

use crate::{profile_dir, root, text};
use std::path::PathBuf;
use std::process::Command;

/// The project venv's Python (`.venv/bin/python`), for the interop checks; panics naming the
/// set-up command when it is missing.
pub fn venv_python() -> PathBuf {
    let py = root().join(".venv/bin/python");
    assert!(
        py.is_file(),
        "{} not found: run scripts/setup.sh, then scripts/setup-interop.sh (or scripts/test-interop.sh)",
        py.display()
    );
    py
}

/// Runs `.venv/bin/python scripts/interop/SCRIPT ARGS` from the workspace root, prints its
/// output (the checks' summaries and counts) and panics, with that output, unless it exits 0.
pub fn interop_script(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let path = root().join("scripts/interop").join(script);
    let out = Command::new(venv_python())
        .arg(&path)
        .args(args)
        .current_dir(root())
        .env("PYTHONUNBUFFERED", "1")
        .env("TOKENIZERS_PARALLELISM", "false")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("--- {script} ---\n{stdout}");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n--- stderr (last 4000 bytes) ---\n{}",
        out.status,
        tail_of(&String::from_utf8_lossy(&out.stderr), 4000)
    );
    stdout
}

/// The last `n` bytes of `s` (at a char boundary).
pub fn tail_of(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Runs the ignored integration test `test` (a test target name, unique in the workspace) of
/// package `package` (same profile as these tests) with `envs`, and panics with its output
/// unless it passes.
pub fn cargo_test_ignored(package: &str, test: &str, envs: &[(&str, &std::ffi::OsStr)]) {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root())
        // --workspace, not -p: the features of the main `cargo test --workspace` run, so its
        // test binaries are reused (a -p build resolves other features and rebuilds libraries).
        .args(["test", "-q", "--workspace", "--test", test]);
    if profile_dir().ends_with("release") {
        cmd.arg("--release");
    }
    cmd.args(["--", "--ignored", "--nocapture"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo test");
    assert!(
        out.status.success(),
        "cargo test --workspace --test {test} ({package}) -- --ignored failed:\n{}",
        text(&out)
    );
}
