//! `medkit annotate` options and inputs: `--op KEY=VALUE` sets any key of the annotating
//! operation and wins over its shorthand flag; empty and whitespace-only documents are annotated
//! with no entity, and training on them goes on.

use medkit_tests::*;
use std::path::Path;

/// (label, start, end) of each document's entities in a medkit JSONL output.
fn entities(path: &Path) -> Vec<Vec<(String, u64, u64)>> {
    jsonl_docs(path)
        .iter()
        .map(|d| {
            d["anns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let s = &a["spans"][0];
                    (
                        a["label"].as_str().unwrap().to_string(),
                        s["start"].as_u64().unwrap(),
                        s["end"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn annotate_op_sets_any_key_of_the_operation_and_wins_over_its_shorthand() {
    let tmp = tempfile::tempdir().unwrap();
    let input = test_data("e2e/validation.jsonl");
    let annotate = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        (annotate_tiny(&input, &out, extra), out)
    };
    let (o, shorthand) = annotate("shorthand.jsonl", &["--aggregation", "none"]);
    assert!(o.status.success(), "{}", text(&o));
    let (o, by_op) = annotate(
        "op.jsonl",
        &["--aggregation", "max", "--op", "aggregation_strategy=none"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (o, max) = annotate("max.jsonl", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(entities(&shorthand), entities(&by_op));
    assert_ne!(
        entities(&shorthand),
        entities(&max),
        "the key changed nothing"
    );
    // a key the operation does not take is its error, naming the key
    let (o, _) = annotate("typo.jsonl", &["--op", "agregation=none"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("agregation"), "{t}");
    let (o, _) = annotate("bad.jsonl", &["--op", "stride"]);
    let t = text(&o);
    assert!(
        !o.status.success() && t.contains("--op 'stride': expected KEY=VALUE"),
        "{t}"
    );
}

#[test]
fn empty_documents_annotate_and_train() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = |uid: &str, text: &str| text_document(uid, text, serde_json::json!([])).to_string();
    let input = write_jsonl(
        &tmp.path().join("empty.jsonl"),
        &[doc("e1", ""), doc("e2", "   \n "), doc("e3", "Fièvre.")],
    );
    let out = tmp.path().join("out.jsonl");
    let o = annotate_tiny(&input, &out, &["--batch-size", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    let lines = jsonl_docs(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["anns"].as_array().unwrap().len(), 0);
    assert_eq!(lines[1]["anns"].as_array().unwrap().len(), 0);

    // Training with empty documents among the others.
    let train_src = std::fs::read_to_string(test_data("e2e/train.jsonl")).unwrap();
    let train = tmp.path().join("train.jsonl");
    std::fs::write(
        &train,
        format!("{train_src}{}\n{}\n", doc("e1", ""), doc("e2", "  ")),
    )
    .unwrap();
    let cfg = TinyPipeline {
        train,
        validation: input,
        tokenizer_max_length: None,
        output_dir: tmp.path().join("run"),
        learning_rate: None,
        batch_size: 2,
        ..TinyPipeline::default()
    }
    .write(&tmp.path().join("p.toml"));
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(!t.contains("panicked") && !t.contains("NaN"), "{t}");
}
