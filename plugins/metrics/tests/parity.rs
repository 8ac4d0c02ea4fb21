//! Parity with Python seqeval 1.2.2 on the fixtures of scripts/seqeval_fixtures.py.

use medkit_plugin_metrics::{
    accuracy_score, classification_report, Mode, StrictScheme, ZeroDivision,
};
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

fn fixtures() -> Vec<Value> {
    let text = include_str!("fixtures/seqeval_cases.json");
    let v: Value = serde_json::from_str(text).expect("fixture JSON");
    v["cases"].as_array().expect("cases").clone()
}

fn seqs(v: &Value) -> Vec<Vec<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

fn close(expected: &Value, got: f64) -> Option<f64> {
    match expected.as_f64() {
        None => got.is_nan().then_some(0.0),
        Some(e) => {
            let d = (e - got).abs();
            (d <= TOLERANCE).then_some(d)
        }
    }
}

#[test]
fn classification_report_matches_python_seqeval() {
    let cases = fixtures();
    assert!(cases.len() >= 4000);
    let mut max_diff = 0.0f64;
    let (mut compared, mut errors) = (0, 0);
    for (i, case) in cases.iter().enumerate() {
        let (t, p) = (seqs(&case["t"]), seqs(&case["p"]));
        let scheme = case["s"]
            .as_str()
            .map(|s| StrictScheme::from_name(s).unwrap());
        let mode = match case["m"].as_str().unwrap() {
            "default" => Mode::Default,
            _ => Mode::Strict(scheme),
        };
        let zd = if case["z"] == 1 {
            ZeroDivision::One
        } else {
            ZeroDivision::Zero
        };
        let got = classification_report(&t, &p, mode, zd);
        if case["e"] == true {
            assert!(
                got.is_err(),
                "case {i}: seqeval raised, the port did not: {case}"
            );
            errors += 1;
        } else {
            let report = got.unwrap_or_else(|e| panic!("case {i}: {e}: {case}"));
            let rows = report.rows();
            let expected = case["r"].as_array().unwrap();
            assert_eq!(
                rows.len(),
                expected.len(),
                "case {i}: rows {rows:?} vs {case}"
            );
            for ((name, row), exp) in rows.iter().zip(expected) {
                assert_eq!(name, exp[0].as_str().unwrap(), "case {i}");
                for (k, got) in [row.precision, row.recall, row.f1].into_iter().enumerate() {
                    let d = close(&exp[k + 1], got)
                        .unwrap_or_else(|| panic!("case {i} row {name}: {got} vs {exp}"));
                    max_diff = max_diff.max(d);
                }
                assert_eq!(row.support, exp[4].as_u64().unwrap(), "case {i} row {name}");
            }
            compared += 1;
        }
        let acc = accuracy_score(&t, &p).unwrap();
        close(&case["a"], acc).unwrap_or_else(|| panic!("case {i}: accuracy {acc} vs {case}"));
    }
    eprintln!("{compared} reports compared, {errors} errors matched, max abs diff {max_diff:e}");
    assert!(compared > 3000);
}
