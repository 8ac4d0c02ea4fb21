//! CLI checks that need only the host binary and the metrics plugin (no libtorch):
//! `medkit seqeval` on tags seqeval does not know (fixtures of
//! scripts/seqeval_unknown_tags_fixtures.py) and `medkit plugins`' exit status.
//!
//! The host binary is copied with the metrics plugin into a temporary directory, so that the
//! binary's own directory (always searched for plugins) holds exactly that plugin.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// target/<profile>/, where cargo put the `medkit` binary of these tests.
fn profile_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_medkit"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The metrics plugin library, built (once per test process) for the tests' profile.
fn metrics_plugin() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(root)
            .args(["build", "-p", "medkit-plugin-metrics", "--lib"]);
        if profile_dir().ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo build -p medkit-plugin-metrics");
        assert!(
            status.success(),
            "cargo build -p medkit-plugin-metrics failed"
        );
    });
    let name = format!(
        "{}medkit_plugin_metrics{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    profile_dir().join(name)
}

/// A directory holding a copy of the host binary and of the metrics plugin.
fn install() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let plugin = metrics_plugin();
    std::fs::copy(&plugin, dir.path().join(plugin.file_name().unwrap())).unwrap();
    let bin = dir.path().join("medkit");
    std::fs::copy(env!("CARGO_BIN_EXE_medkit"), &bin).unwrap();
    (dir, bin)
}

/// Runs the copied binary. Its copy was open for writing a moment ago: a process another test
/// thread forks meanwhile inherits that descriptor until it execs, and the kernel then refuses
/// to run the file ("Text file busy"), so that error is retried.
fn run(bin: &Path, args: &[&str]) -> Output {
    spawn_retrying(|| {
        Command::new(bin)
            .args(args)
            .env_remove("MEDKIT_PLUGIN_PATH")
            .env_remove("RUST_LOG")
            .output()
    })
}

fn spawn_retrying<T>(mut f: impl FnMut() -> std::io::Result<T>) -> T {
    const ETXTBSY: i32 = 26;
    for _ in 0..50 {
        match f() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other.expect("run medkit"),
        }
    }
    panic!("medkit: the copied binary is still busy after 1 s");
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_listing_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (_install, bin) = install();
    // `medkit plugins | head -0`: the reader is gone before the first line is written
    let mut child = spawn_retrying(|| {
        Command::new(&bin)
            .arg("plugins")
            .env_remove("MEDKIT_PLUGIN_PATH")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
    });
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}: {stderr}",
        out.status
    );
}

#[test]
fn plugins_lists_everything_then_fails_on_a_broken_file() {
    let (_install, bin) = install();
    let out = run(&bin, &["plugins"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("medkit-plugin-metrics") && t.contains("seqeval"),
        "{t}"
    );

    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("libbroken.so"), "not a shared library\n").unwrap();
    let out = run(
        &bin,
        &["--plugin-dir", broken.path().to_str().unwrap(), "plugins"],
    );
    let (stdout, t) = (String::from_utf8_lossy(&out.stdout), text(&out));
    assert_eq!(out.status.code(), Some(1), "{t}");
    // the working plugins are still listed, then the error, then the failure
    let listed = stdout.find("medkit-plugin-metrics").expect("plugin listed");
    let error = stdout.find("error: ").expect("error line");
    assert!(listed < error, "{stdout}");
    assert!(stdout[error..].contains("libbroken.so"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 plugin file error(s), listed above"),
        "{t}"
    );
}

fn write_pairs(dir: &Path, name: &str, case: &Value) -> String {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    let (t, p) = (case["t"].as_array().unwrap(), case["p"].as_array().unwrap());
    for (t, p) in t.iter().zip(p) {
        writeln!(f, "{}", serde_json::json!({"y_true": t, "y_pred": p})).unwrap();
    }
    path.display().to_string()
}

fn assert_close(expected: &Value, got: &Value, what: &str) {
    match (expected.as_f64(), got.as_f64()) {
        (None, None) => assert!(expected.is_null() && got.is_null(), "{what}"),
        (Some(e), Some(g)) => assert!((e - g).abs() <= 1e-12, "{what}: {e} vs {g}"),
        _ => panic!("{what}: {expected} vs {got}"),
    }
}

/// Default mode reads BILOU's L-/U- and malformed tags as seqeval 1.2.2 does, with its warning
/// once per distinct tag on stderr, whatever `--scheme` says; strict mode refuses them.
#[test]
fn seqeval_default_mode_matches_python_on_unknown_tags() {
    let fixture: Value = serde_json::from_str(include_str!(
        "../../plugins/metrics/tests/fixtures/seqeval_unknown_tags.json"
    ))
    .unwrap();
    let (install, bin) = install();
    let mut checked = 0;
    for (i, case) in fixture["cases"].as_array().unwrap().iter().enumerate() {
        // cases where seqeval answered with warnings and there is a tag; every 40th keeps it short
        if case["m"] != "default" || case["e"] == true || case["a"].is_null() || i % 40 != 0 {
            continue;
        }
        let input = write_pairs(install.path(), &format!("case{i}.jsonl"), case);
        let zd = case["z"].to_string();
        let mut args = vec!["seqeval", "--input", &input, "--zero-division", &zd];
        if checked % 2 == 1 {
            args.extend(["--scheme", "bilou"]); // ignored by default mode, with a warning
        }
        let out = run(&bin, &args);
        assert!(out.status.success(), "case {i}: {}", text(&out));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows = case["r"].as_array().unwrap();
        assert_eq!(
            got.as_object().unwrap().len(),
            rows.len() + 1,
            "{got} vs {case}"
        );
        for row in rows {
            let name = row[0].as_str().unwrap();
            let g = &got[name];
            assert_close(&row[1], &g["precision"], name);
            assert_close(&row[2], &g["recall"], name);
            assert_close(&row[3], &g["f1-score"], name);
            assert_eq!(row[4], g["support"], "case {i} {name}");
        }
        assert_close(&case["a"], &got["accuracy"], "accuracy");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let warned: Vec<&str> = stderr
            .lines()
            .filter_map(|l| l.split_once("seqeval: ").map(|(_, w)| w))
            .filter(|w| w.ends_with(" seems not to be NE tag."))
            .collect();
        let expected: Vec<&str> = case["w"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(warned, expected, "case {i}: {stderr}");
        checked += 1;
    }
    assert!(checked >= 40, "{checked}");

    // the issue's example: BILOU tags with --scheme bilou in default mode
    let dir = install.path();
    let case = serde_json::json!({
        "t": [["B-PER", "L-PER", "O", "U-LOC"]],
        "p": [["B-PER", "L-PER", "O", "U-PER"]],
    });
    let input = write_pairs(dir, "bilou.jsonl", &case);
    let out = run(&bin, &["seqeval", "--input", &input, "--scheme", "bilou"]);
    assert!(out.status.success(), "{}", text(&out));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    // seqeval 1.2.2: {'LOC': p 0 r 0, 'PER': p 0.5 r 1.0 support 1}, accuracy 0.75
    assert_eq!(got["PER"]["support"], 1);
    assert_eq!(got["PER"]["precision"], 0.5);
    assert_eq!(got["LOC"]["recall"], 0.0);
    assert_eq!(got["accuracy"], 0.75);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for tag in ["L-PER", "U-LOC", "U-PER"] {
        let line = format!("seqeval: {tag} seems not to be NE tag.");
        assert_eq!(stderr.matches(&line).count(), 1, "{stderr}");
    }
    // strict mode raises on them, as seqeval (ValueError: Invalid token)
    let out = run(
        &bin,
        &[
            "seqeval", "--input", &input, "--mode", "strict", "--scheme", "iob2",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("bilou.jsonl:1:") && t.contains("invalid token is found: L-PER"),
        "{t}"
    );
}
