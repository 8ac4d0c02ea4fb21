//! `medkit evaluate` against Python medkit 0.17's SeqEvalEvaluator on two tiny documents
//! (expected values computed with medkit; characters and a tiny WordLevel tokenizer).

use medkit_tests::{medkit, text, write_jsonl};
use serde_json::Value;
use std::path::Path;

const REFERENCE: &str = r#"{"uid": "d1", "text": "the né patient has severe asthma and fever.", "metadata": {}, "anns": [{"uid": "d1-r0", "label": "disease", "text": "severe asthma", "spans": [{"start": 19, "end": 32, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}, {"uid": "d1-r1", "label": "disease", "text": "fever", "spans": [{"start": 37, "end": 42, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}, {"uid": "d1-r2", "label": "person", "text": "né patient", "spans": [{"start": 4, "end": 14, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}], "_class_name": "medkit.core.text.document.TextDocument"}
{"uid": "d2", "text": "fever and asthma.", "metadata": {}, "anns": [{"uid": "d2-r0", "label": "disease", "text": "fever", "spans": [{"start": 0, "end": 5, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}], "_class_name": "medkit.core.text.document.TextDocument"}"#;
const PREDICTED: &str = r#"{"uid": "d1", "text": "the né patient has severe asthma and fever.", "metadata": {}, "anns": [{"uid": "d1-p0", "label": "disease", "text": "asthma", "spans": [{"start": 26, "end": 32, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}, {"uid": "d1-p1", "label": "disease", "text": "fever", "spans": [{"start": 37, "end": 42, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}, {"uid": "d1-p2", "label": "person", "text": "né patient", "spans": [{"start": 4, "end": 14, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}], "_class_name": "medkit.core.text.document.TextDocument"}
{"uid": "d2", "text": "fever and asthma.", "metadata": {}, "anns": [{"uid": "d2-p0", "label": "symptom", "text": "fever", "spans": [{"start": 0, "end": 5, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}, {"uid": "d2-p1", "label": "disease", "text": "asthma", "spans": [{"start": 10, "end": 16, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}], "_class_name": "medkit.core.text.document.TextDocument"}"#;
/// [CLS] $A [SEP], BERT pre-tokenizer, a 12-word vocabulary.
const TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":1,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],"normalizer":null,"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[1],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[2],"tokens":["[SEP]"]}}},"decoder":null,"model":{"type":"WordLevel","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"the":3,"patient":4,"has":5,"severe":6,"asthma":7,"and":8,"fever":9,".":10,"né":11},"unk_token":"[UNK]"}}"#;

fn write(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

fn setup() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let r = write_jsonl(&dir.path().join("ref.jsonl"), &[REFERENCE]);
    let p = write_jsonl(&dir.path().join("pred.jsonl"), &[PREDICTED]);
    (dir, r.display().to_string(), p.display().to_string())
}

fn evaluate(args: &[&str]) -> Value {
    let mut all = vec!["evaluate"];
    all.extend(args);
    let out = medkit(&all);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(got: &Value, expected: &[(&str, f64)]) {
    let obj = got.as_object().unwrap();
    let names: Vec<&str> = obj.keys().map(String::as_str).collect();
    let exp_names: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(names, exp_names);
    for (name, value) in expected {
        let g = obj[*name].as_f64().unwrap();
        assert!((g - value).abs() <= 1e-12, "{name}: {g} vs {value}");
    }
}

const BY_LABEL_3: [&str; 12] = [
    "disease_precision",
    "disease_recall",
    "disease_f1-score",
    "disease_support",
    "person_precision",
    "person_recall",
    "person_f1-score",
    "person_support",
    "symptom_precision",
    "symptom_recall",
    "symptom_f1-score",
    "symptom_support",
];
const BY_LABEL_3_VALUES: [f64; 12] = [
    1.0 / 3.0,
    1.0 / 3.0,
    1.0 / 3.0,
    3.0,
    1.0,
    1.0,
    1.0,
    1.0,
    0.0,
    0.0,
    0.0,
    0.0,
];

fn with_labels(head: &[(&'static str, f64)]) -> Vec<(&'static str, f64)> {
    let mut v = head.to_vec();
    v.extend(BY_LABEL_3.iter().copied().zip(BY_LABEL_3_VALUES));
    v
}

#[test]
fn characters_iob2_macro_as_medkit() {
    let (_d, r, p) = setup();
    let got = evaluate(&[
        "--reference",
        &r,
        "--predicted",
        &p,
        "--scheme",
        "iob2",
        "--by-label",
    ]);
    let third = 0.4444444444444444;
    check(
        &got,
        &with_labels(&[
            ("macro_precision", third),
            ("macro_recall", third),
            ("macro_f1-score", third),
            ("support", 4.0),
            ("accuracy", 0.6833333333333333),
        ]),
    );
    assert!(got["support"].is_u64());
}

#[test]
fn characters_bilou_weighted_as_medkit() {
    let (_d, r, p) = setup();
    let args = [
        "--reference",
        &r,
        "--predicted",
        &p,
        "--average",
        "weighted",
        "--by-label",
    ];
    check(
        &evaluate(&args),
        &with_labels(&[
            ("weighted_precision", 0.5),
            ("weighted_recall", 0.5),
            ("weighted_f1-score", 0.5),
            ("support", 4.0),
            ("accuracy", 0.6833333333333333),
        ]),
    );
}

#[test]
fn tokenizer_bilou_macro_as_medkit() {
    let (d, r, p) = setup();
    let tok = write(d.path(), "tokenizer.json", TOKENIZER);
    let args = [
        "--reference",
        &r,
        "--predicted",
        &p,
        "--tokenizer",
        &tok,
        "--by-label",
    ];
    let third = 0.4444444444444444;
    check(
        &evaluate(&args),
        &with_labels(&[
            ("macro_precision", third),
            ("macro_recall", third),
            ("macro_f1-score", third),
            ("support", 4.0),
            ("accuracy", 0.7647058823529411),
        ]),
    );
}

#[test]
fn labels_remapping_as_medkit() {
    let (_d, r, p) = setup();
    let args = [
        "--reference",
        &r,
        "--predicted",
        &p,
        "--scheme",
        "iob2",
        "--average",
        "weighted",
        "--by-label",
        "--labels-remapping",
        "symptom=disease",
    ];
    check(
        &evaluate(&args),
        &[
            ("weighted_precision", 0.625),
            ("weighted_recall", 0.75),
            ("weighted_f1-score", 0.6785714285714286),
            ("support", 4.0),
            ("accuracy", 0.7666666666666667),
            ("disease_precision", 0.5),
            ("disease_recall", 0.6666666666666666),
            ("disease_f1-score", 0.5714285714285715),
            ("disease_support", 3.0),
            ("person_precision", 1.0),
            ("person_recall", 1.0),
            ("person_f1-score", 1.0),
            ("person_support", 1.0),
        ],
    );
}

#[test]
fn micro_average_uses_overall_names() {
    let (_d, r, p) = setup();
    let got = evaluate(&["--reference", &r, "--predicted", &p, "--average", "micro"]);
    check(
        &got,
        &[
            ("overall_precision", 0.4),
            ("overall_recall", 0.5),
            ("overall_f1-score", 0.4444444444444445),
            ("overall_support", 4.0),
            ("overall_acc", 0.6833333333333333),
        ],
    );
}

#[test]
fn missing_or_extra_documents_are_named() {
    let (d, r, p) = setup();
    let first_pred = PREDICTED.lines().next().unwrap();
    let partial = write_jsonl(&d.path().join("partial.jsonl"), &[first_pred])
        .display()
        .to_string();
    let out = medkit(&["evaluate", "--reference", &r, "--predicted", &partial]);
    assert!(!out.status.success());
    assert!(text(&out).contains("reference document 'd2' has no predicted document"));
    let out = medkit(&["evaluate", "--reference", &partial, "--predicted", &p]);
    assert!(!out.status.success());
    assert!(text(&out).contains("predicted document 'd2' has no reference document"));
    for bad in [
        vec!["--labels-remapping", "symptom"],
        vec!["--tokenizer", "/nonexistent/tokenizer.json"],
        vec!["--scheme", "iobes"],
    ] {
        let mut args = vec!["evaluate", "--reference", &r, "--predicted", &p];
        args.extend(bad.iter().copied());
        assert!(!medkit(&args).status.success(), "{bad:?}");
    }
}

#[test]
fn library_evaluate_entities_matches_documents() {
    use medkit_corpus::medkit_json::read_documents;
    use medkit_host::evaluator::{evaluate_documents, evaluate_entities, EvaluateOptions};
    use medkit_host::plugins::PluginSet;

    medkit_tests::medkit_bin(); // builds the plugins when missing
    let plugins = PluginSet::load(&[medkit_tests::profile_dir()]);
    let (_d, r, p) = setup();
    let read = |path: &str| -> Vec<_> {
        read_documents(Path::new(path))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let (reference, predicted) = (read(&r), read(&p));
    let options = EvaluateOptions {
        scheme: "iob2".into(),
        ..EvaluateOptions::default()
    };
    let by_docs = evaluate_documents(&plugins, &reference, &predicted, &options).unwrap();
    let entities: Vec<Vec<_>> = predicted
        .iter()
        .map(|d| d.entities().cloned().collect())
        .collect();
    let by_entities = evaluate_entities(&plugins, &reference, &entities, &options).unwrap();
    assert_eq!(by_docs, by_entities);
    assert_eq!(by_docs["macro_f1-score"], 0.4444444444444444);
    assert!(evaluate_entities(&plugins, &reference, &entities[..1], &options).is_err());
    // a swapped-in operation name that no plugin provides is a clear error
    let options = EvaluateOptions {
        metrics_operation: "no-such-metrics".into(),
        ..EvaluateOptions::default()
    };
    let err = evaluate_documents(&plugins, &reference, &predicted, &options).unwrap_err();
    assert!(format!("{err:#}").contains("no-such-metrics"));
}
