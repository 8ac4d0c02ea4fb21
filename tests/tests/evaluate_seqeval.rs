//! `medkit seqeval` against Python seqeval 1.2.2 (fixtures of scripts/seqeval_fixtures.py), and
//! its input errors.

use medkit_tests::{medkit, text};
use serde_json::Value;
use std::io::Write;

const FIXTURES: &str = include_str!("../../plugins/metrics/tests/fixtures/seqeval_cases.json");

fn write_lines(dir: &std::path::Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
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

#[test]
fn cli_report_matches_python_seqeval() {
    let fixture: Value = serde_json::from_str(FIXTURES).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    // a few cases of every (mode, scheme) where seqeval answered and there is a tag
    for case in fixture["cases"].as_array().unwrap() {
        if case["e"] == true || case["a"].is_null() || case["z"] == "warn" || checked >= 16 {
            continue;
        }
        let t = case["t"].as_array().unwrap();
        let p = case["p"].as_array().unwrap();
        let lines: Vec<String> = t
            .iter()
            .zip(p)
            .map(|(t, p)| serde_json::json!({"y_true": t, "y_pred": p}).to_string())
            .collect();
        let input = write_lines(dir.path(), &format!("case{checked}.jsonl"), &lines);
        let zd = case["z"].to_string();
        let mut args = vec!["seqeval", "--input", &input, "--zero-division", &zd];
        let scheme = case["s"].as_str().map(str::to_ascii_lowercase);
        if case["m"] == "strict" {
            args.extend(["--mode", "strict"]);
            if let Some(s) = &scheme {
                args.extend(["--scheme", s]);
            }
        }
        let out = medkit(&args);
        // default mode reads tags seqeval only warns about (e.g. "X-A") as seqeval does
        assert!(out.status.success(), "{}", text(&out));
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
            assert_eq!(row[4], g["support"], "{name}");
        }
        assert_close(&case["a"], &got["accuracy"], "accuracy");
        checked += 1;
    }
    assert!(checked >= 12);
}

#[test]
fn cli_input_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let ok = r#"{"y_true": ["B-A", "O"], "y_pred": ["B-A", "O"]}"#.to_string();
    let cases = [
        (
            r#"{"y_true": ["O"], "y_pred": ["O", "O"]}"#,
            vec![],
            "y_true has 1 tags but y_pred has 2",
        ),
        ("not json", vec![], "expected {\"y_true\""),
        (r#"{"y_true": [""], "y_pred": ["O"]}"#, vec![], "empty tag"),
        (
            r#"{"y_true": ["U-A"], "y_pred": ["O"]}"#,
            vec!["--mode", "strict", "--scheme", "iob2"],
            "U-A",
        ),
    ];
    for (i, (bad, extra, message)) in cases.iter().enumerate() {
        let input = write_lines(
            dir.path(),
            &format!("bad{i}.jsonl"),
            &[ok.clone(), bad.to_string()],
        );
        let mut args = vec!["seqeval", "--input", &input];
        args.extend(extra);
        let out = medkit(&args);
        assert!(!out.status.success(), "{bad}");
        let t = text(&out);
        assert!(
            t.contains(&format!("bad{i}.jsonl:2:")) && t.contains(message),
            "{t}"
        );
    }
    let empty = write_lines(dir.path(), "empty.jsonl", &["".to_string()]);
    let out = medkit(&["seqeval", "--input", &empty]);
    assert!(
        !out.status.success() && text(&out).contains("no {\"y_true\""),
        "{}",
        text(&out)
    );
    let out = medkit(&["seqeval", "--input", "/nonexistent/pairs.jsonl"]);
    assert!(!out.status.success());
    let out = medkit(&["seqeval", "--input", "x", "--scheme", "iob9"]);
    assert!(!out.status.success());
}
