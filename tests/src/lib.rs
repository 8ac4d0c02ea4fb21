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

/// The documents of a medkit JSONL file (the header line skipped), as JSON.
pub fn jsonl_docs(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The tiny random BERT checkpoint of the HF plugin's test fixtures.
pub fn tiny_bert() -> PathBuf {
    root().join("plugins/hf-matcher/tests/fixtures/tiny_bert")
}

/// `annotate --model MODEL --input INPUT --output OUTPUT`, to extend with flags.
pub fn annotate_args<'a>(model: &'a Path, input: &'a Path, output: &'a Path) -> Vec<&'a str> {
    let s = |p: &'a Path| p.to_str().expect("UTF-8 path");
    vec![
        "annotate",
        "--model",
        s(model),
        "--input",
        s(input),
        "--output",
        s(output),
    ]
}

/// Runs `medkit ARGS` and panics with its output unless it succeeds.
pub fn medkit_ok(args: &[&str]) -> Output {
    let out = medkit(args);
    assert!(
        out.status.success(),
        "medkit {} failed:\n{}",
        args.join(" "),
        text(&out)
    );
    out
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
