//! The `seqeval` metrics operation: medkit's keys and values, the seed's micro names, report mode.

use medkit_plugin_metrics::SeqevalOp;
use medkit_sdk::{Metric, MetricsComputer};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Sequences of tags → (labels by id, id sequences).
fn encode(seqs: &[Vec<String>], labels: &mut Vec<String>) -> Vec<Vec<i64>> {
    seqs.iter()
        .map(|s| {
            s.iter()
                .map(|t| {
                    let idx = labels.iter().position(|l| l == t).unwrap_or_else(|| {
                        labels.push(t.clone());
                        labels.len() - 1
                    });
                    idx as i64
                })
                .collect()
        })
        .collect()
}

fn strings(v: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn run(config: Value, t: &[Vec<String>], p: &[Vec<String>]) -> Result<Vec<Metric>, String> {
    let mut op = SeqevalOp::from_config(&config.to_string())?;
    let mut labels = vec!["O".to_string()];
    let (ti, pi) = (encode(t, &mut labels), encode(p, &mut labels));
    op.set_labels(labels)?;
    op.prepare_batch(ti, pi)?;
    op.compute()
}

fn s(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter()
        .map(|x| x.iter().map(|t| t.to_string()).collect())
        .collect()
}

#[test]
fn matches_medkit_seqeval_metrics_computer() {
    let text = include_str!("fixtures/medkit_metrics.json");
    let fixture: Value = serde_json::from_str(text).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() > 100);
    for (i, case) in cases.iter().enumerate() {
        let config = json!({
            "tagging_scheme": case["scheme"],
            "average": case["average"],
            "return_metrics_by_label": case["by_label"],
        });
        let got = run(config, &strings(&case["t"]), &strings(&case["p"])).unwrap();
        let expected = case["metrics"].as_array().unwrap();
        let names: Vec<&str> = got.iter().map(|m| m.name.as_str()).collect();
        let exp_names: Vec<&str> = expected.iter().map(|m| m[0].as_str().unwrap()).collect();
        assert_eq!(names, exp_names, "case {i}");
        for (m, e) in got.iter().zip(expected) {
            match e[1].as_f64() {
                Some(v) => assert!((v - m.value).abs() <= 1e-12, "case {i} {}", m.name),
                None => assert!(m.value.is_nan(), "case {i} {}", m.name),
            }
        }
    }
}

#[test]
fn micro_average_uses_the_seed_names() {
    let t = s(&[&["B-PER", "I-PER", "O", "B-LOC"]]);
    let p = s(&[&["B-PER", "I-PER", "O", "O"]]);
    let got = run(json!({"tagging_scheme": "iob2"}), &t, &p).unwrap();
    let m: BTreeMap<_, _> = got.iter().map(|m| (m.name.to_string(), m.value)).collect();
    let names: Vec<_> = got.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "overall_precision",
            "overall_recall",
            "overall_f1-score",
            "overall_support",
            "overall_acc",
            "LOC_precision",
            "LOC_recall",
            "LOC_f1-score",
            "LOC_support",
            "PER_precision",
            "PER_recall",
            "PER_f1-score",
            "PER_support"
        ]
    );
    assert_eq!(m["overall_precision"], 1.0);
    assert_eq!(m["overall_recall"], 0.5);
    assert_eq!(m["overall_acc"], 0.75);
    let got = run(
        json!({"tagging_scheme": "iob2", "return_metrics_by_label": false}),
        &t,
        &p,
    );
    assert_eq!(got.unwrap().len(), 5);
}

#[test]
fn ignores_minus_100_and_resets_on_compute() {
    let mut op = SeqevalOp::from_config(r#"{"tagging_scheme": "iob2"}"#).unwrap();
    op.set_labels(vec!["O".into(), "B-X".into(), "I-X".into()])
        .unwrap();
    op.prepare_batch(vec![vec![-100, 1, 2, -100]], vec![vec![0, 1, 2, 5]])
        .unwrap();
    let m = op.compute().unwrap();
    assert_eq!(m[2].value, 1.0); // f1
    let m = op.compute().unwrap(); // nothing since the reset
    assert_eq!(m[3].value, 0.0); // support
    assert!(m[4].value.is_nan()); // accuracy over no tag
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    for bad in [
        r#"{"tagging_scheme": "iob9"}"#,
        r#"{"average": "median"}"#,
        r#"{"typo": 1}"#,
        r#"{"report": true, "mode": "lenient"}"#,
        r#"{"report": true, "scheme": "bio9"}"#,
        r#"{"report": true, "zero_division": 2}"#,
        "[",
    ] {
        assert!(SeqevalOp::from_config(bad).is_err(), "{bad}");
    }
    let mut op = SeqevalOp::from_config("{}").unwrap();
    op.set_labels(vec!["O".into()]).unwrap();
    assert!(op.prepare_batch(vec![vec![0]], vec![]).is_err());
    assert!(op.prepare_batch(vec![vec![0]], vec![vec![0, 0]]).is_err());
    assert!(op.prepare_batch(vec![vec![7]], vec![vec![0]]).is_err());
    assert!(op.prepare_batch(vec![vec![-3]], vec![vec![0]]).is_err());
}

#[test]
fn report_mode_flattens_the_classification_report() {
    let t = s(&[&["B-A/x", "I-A/x", "O"], &["U-B"]]);
    let p = s(&[&["B-A/x", "L-A/x", "O"], &["U-B"]]);
    let config = json!({"report": true, "scheme": "bilou", "mode": "strict", "zero_division": 1});
    let got = run(config, &t, &p).unwrap();
    let m: BTreeMap<_, _> = got.iter().map(|m| (m.name.to_string(), m.value)).collect();
    // y_true's A/x is malformed in strict BILOU (B then I, no L): only B counts there
    assert_eq!(m["A/x/support"], 0.0);
    assert_eq!(m["A/x/recall"], 1.0); // zero_division = 1
    assert_eq!(m["B/f1-score"], 1.0);
    assert_eq!(m["micro avg/precision"], 0.5);
    assert_eq!(m["accuracy"], 0.75);
    assert_eq!(got.len(), 5 * 4 + 1);
    // unknown prefixes are refused when a batch uses them
    let bad = run(
        json!({"report": true, "mode": "strict", "scheme": "iob2"}),
        &t,
        &p,
    );
    assert!(bad.unwrap_err().contains("Allowed prefixes are: I|O|B"));
    // default mode reads a tag it does not know by its first character, as seqeval (which
    // warns); only the empty tag is refused (seqeval raises IndexError)
    let got = run(json!({"report": true}), &s(&[&["X-A"]]), &s(&[&["O"]])).unwrap();
    let m: BTreeMap<_, _> = got.iter().map(|m| (m.name.to_string(), m.value)).collect();
    assert_eq!((m["A/support"], m["A/recall"]), (1.0, 0.0));
    let bad = run(json!({"report": true}), &s(&[&[""]]), &s(&[&["O"]]));
    assert!(bad.unwrap_err().contains("empty tag"));
}

#[test]
fn relabelling_between_batches_keeps_earlier_tags() {
    let mut op = SeqevalOp::from_config(r#"{"tagging_scheme": "iob2"}"#).unwrap();
    op.set_labels(vec!["O".into(), "B-X".into()]).unwrap();
    op.prepare_batch(vec![vec![1, 0]], vec![vec![1, 0]])
        .unwrap();
    op.set_labels(vec!["B-Y".into(), "O".into()]).unwrap();
    op.prepare_batch(vec![vec![0, 1]], vec![vec![1, 1]])
        .unwrap();
    let m: BTreeMap<_, _> = op
        .compute()
        .unwrap()
        .into_iter()
        .map(|m| (m.name.to_string(), m.value))
        .collect();
    assert_eq!((m["X_f1-score"], m["Y_recall"]), (1.0, 0.0));
    assert_eq!(m["overall_acc"], 0.75);
}
