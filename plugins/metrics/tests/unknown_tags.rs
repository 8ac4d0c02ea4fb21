//! Issue 12: tags Python seqeval 1.2.2 does not know (BILOU's L-/U-, X-foo, b-x, -, B-, ...),
//! against the fixtures of scripts/seqeval_unknown_tags_fixtures.py: default mode computes and
//! warns "{tag} seems not to be NE tag." once per distinct tag; strict mode raises, and so does
//! an empty tag in either mode.

use medkit_plugin_metrics::{
    accuracy_score, classification_report, unknown_tags, Mode, SeqevalOp, StrictScheme,
    ZeroDivision,
};
use medkit_sdk::MetricsComputer;
use serde_json::{json, Value};
use std::cell::RefCell;

const TOLERANCE: f64 = 1e-12;

fn cases() -> Vec<Value> {
    let text = include_str!("fixtures/seqeval_unknown_tags.json");
    let v: Value = serde_json::from_str(text).expect("fixture JSON");
    assert_eq!(v["seqeval"], "1.2.2");
    v["cases"].as_array().expect("cases").clone()
}

fn seqs(v: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn close(expected: &Value, got: f64) -> bool {
    match expected.as_f64() {
        None => got.is_nan(),
        Some(e) => (e - got).abs() <= TOLERANCE,
    }
}

fn warnings(case: &Value) -> Vec<String> {
    serde_json::from_value(case["w"].clone()).unwrap()
}

/// The report's rows as the fixture writes them: [name, precision, recall, f1, support].
fn check_rows(i: usize, case: &Value, rows: &[(String, [f64; 3], u64)]) {
    let expected = case["r"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let exp_names: Vec<&str> = expected.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(names, exp_names, "case {i}: {case}");
    for ((name, values, support), exp) in rows.iter().zip(expected) {
        for (k, v) in values.iter().enumerate() {
            assert!(
                close(&exp[k + 1], *v),
                "case {i} row {name}: {v} vs {exp}: {case}"
            );
        }
        assert_eq!(*support, exp[4].as_u64().unwrap(), "case {i} row {name}");
    }
}

fn mode_of(case: &Value) -> Mode {
    let scheme = case["s"]
        .as_str()
        .map(|s| StrictScheme::from_name(s).unwrap());
    match case["m"].as_str().unwrap() {
        "default" => Mode::Default,
        _ => Mode::Strict(scheme),
    }
}

#[test]
fn library_matches_python_seqeval_on_unknown_tags() {
    let cases = cases();
    assert_eq!(cases.len(), 3000);
    let (mut compared, mut errors, mut warned) = (0, 0, 0);
    for (i, case) in cases.iter().enumerate() {
        let (t, p) = (seqs(&case["t"]), seqs(&case["p"]));
        let zd = if case["z"] == 1 {
            ZeroDivision::One
        } else {
            ZeroDivision::Zero
        };
        let got = classification_report(&t, &p, mode_of(case), zd);
        if case["e"] == true {
            assert!(
                got.is_err(),
                "case {i}: seqeval raised, the port did not: {case}"
            );
            errors += 1;
        } else {
            let report = got.unwrap_or_else(|e| panic!("case {i}: {e}: {case}"));
            let rows: Vec<_> = report
                .rows()
                .into_iter()
                .map(|(n, r)| (n, [r.precision, r.recall, r.f1], r.support))
                .collect();
            check_rows(i, case, &rows);
            if case["m"] == "default" {
                let w: Vec<String> = unknown_tags(&t, &p)
                    .into_iter()
                    .map(|t| format!("{t} seems not to be NE tag."))
                    .collect();
                assert_eq!(w, warnings(case), "case {i}: {case}");
                warned += usize::from(!w.is_empty());
            }
            compared += 1;
        }
        let acc = accuracy_score(&t, &p).unwrap();
        assert!(close(&case["a"], acc), "case {i}: accuracy {acc}: {case}");
    }
    eprintln!(
        "{} cases matched: {compared} reports ({warned} with warnings), {errors} errors",
        compared + errors
    );
    assert_eq!(compared + errors, cases.len());
}

thread_local! {
    static CAPTURED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Captures this thread's warnings (tests run on several threads).
struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            CAPTURED.with(|c| c.borrow_mut().push(r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

fn capture_warnings() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
    });
    CAPTURED.with(|c| c.borrow_mut().clear());
}

fn take_warnings() -> Vec<String> {
    CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// As `medkit seqeval` drives the operation: report mode, labels in order of first appearance,
/// one batch per sequence pair; the result is (rows, accuracy, warnings).
type OpReport = (Vec<(String, [f64; 3], u64)>, f64);

fn run_op(case: &Value) -> Result<OpReport, String> {
    let config = json!({
        "report": true,
        "mode": case["m"],
        "scheme": case["s"].as_str().map(str::to_ascii_lowercase),
        "zero_division": case["z"],
    });
    let mut op = SeqevalOp::from_config(&config.to_string())?;
    let (t, p) = (seqs(&case["t"]), seqs(&case["p"]));
    let mut labels: Vec<String> = Vec::new();
    for (a, b) in t.iter().zip(&p) {
        for tag in a.iter().chain(b) {
            if !labels.contains(tag) {
                labels.push(tag.clone());
            }
        }
    }
    let id = |tag: &String| labels.iter().position(|l| l == tag).unwrap() as i64;
    let encoded: Vec<_> = t
        .iter()
        .zip(&p)
        .map(|(a, b)| (a.iter().map(id).collect(), b.iter().map(id).collect()))
        .collect();
    op.set_labels(labels.clone())?;
    for (a, b) in encoded {
        op.prepare_batch(vec![a], vec![b])?;
    }
    let metrics = op.compute()?;
    let mut rows: Vec<(String, [f64; 3], u64)> = Vec::new();
    let mut accuracy = f64::NAN;
    for m in &metrics {
        if m.name == "accuracy" {
            accuracy = m.value;
            continue;
        }
        let (row, field) = m.name.rsplit_once('/').unwrap();
        if rows.last().is_none_or(|r| r.0 != row) {
            rows.push((row.to_string(), [f64::NAN; 3], 0));
        }
        let r = rows.last_mut().unwrap();
        match field {
            "precision" => r.1[0] = m.value,
            "recall" => r.1[1] = m.value,
            "f1-score" => r.1[2] = m.value,
            "support" => r.2 = m.value as u64,
            other => panic!("unexpected field {other}"),
        }
    }
    Ok((rows, accuracy))
}

#[test]
fn operation_matches_python_seqeval_and_warns_once_per_tag() {
    capture_warnings();
    let cases = cases();
    let (mut compared, mut errors) = (0, 0);
    for (i, case) in cases.iter().enumerate() {
        take_warnings();
        let got = run_op(case);
        let logged = take_warnings();
        if case["e"] == true {
            let e = got.expect_err(&format!("case {i}: seqeval raised, the op did not"));
            assert!(!e.is_empty());
            errors += 1;
            continue;
        }
        let (rows, accuracy) = got.unwrap_or_else(|e| panic!("case {i}: {e}: {case}"));
        check_rows(i, case, &rows);
        assert!(close(&case["a"], accuracy), "case {i}: accuracy {accuracy}");
        let expected: Vec<String> = warnings(case)
            .iter()
            .map(|w| format!("seqeval: {w}"))
            .collect();
        assert_eq!(logged, expected, "case {i}: {case}");
        compared += 1;
    }
    eprintln!("operation: {compared} reports and {errors} errors matched");
    assert_eq!(compared + errors, cases.len());
}

#[test]
fn strict_mode_still_refuses_unknown_tags_and_warnings_are_not_repeated() {
    capture_warnings();
    let strict = json!({"report": true, "mode": "strict", "scheme": "iob2"});
    let mut op = SeqevalOp::from_config(&strict.to_string()).unwrap();
    op.set_labels(vec!["B-A".into(), "L-A".into()]).unwrap();
    let e = op
        .prepare_batch(vec![vec![0, 1]], vec![vec![0, 1]])
        .unwrap_err();
    assert!(
        e.contains("invalid token is found: L-A") && e.contains("I|O|B"),
        "{e}"
    );
    // a training run's operation (iob2: default mode) computes every epoch: one warning per tag
    let mut op = SeqevalOp::from_config(r#"{"tagging_scheme": "iob2"}"#).unwrap();
    op.set_labels(vec!["O".into(), "B-A".into(), "L-A".into(), "U-A".into()])
        .unwrap();
    take_warnings();
    for _ in 0..3 {
        op.prepare_batch(vec![vec![1, 2, 3]], vec![vec![3, 0, 2]])
            .unwrap();
        op.compute().unwrap();
    }
    assert_eq!(
        take_warnings(),
        [
            "seqeval: L-A seems not to be NE tag.",
            "seqeval: U-A seems not to be NE tag."
        ]
    );
}
