//! `medkit annotate` options and inputs: `--op KEY=VALUE` sets any key of the annotating
//! operation and wins over its shorthand flag; empty and whitespace-only documents are annotated
//! with no entity, and training on them goes on; `--quantize int8` runs the int8 model.

use medkit_tests::*;
use std::path::{Path, PathBuf};

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

/// `medkit annotate` of the e2e validation documents with the tiny model into `dir/name`.
fn annotate_e2e(dir: &Path, name: &str, extra: &[&str]) -> (std::process::Output, PathBuf) {
    let out = dir.join(name);
    (
        annotate_tiny(&test_data("e2e/validation.jsonl"), &out, extra),
        out,
    )
}

#[test]
fn annotate_op_sets_any_key_of_the_operation_and_wins_over_its_shorthand() {
    let tmp = tempfile::tempdir().unwrap();
    let annotate = |name: &str, extra: &[&str]| annotate_e2e(tmp.path(), name, extra);
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

/// Each entity's (document index, label, start, end) and score attribute.
fn scored(path: &Path) -> std::collections::HashMap<(usize, String, u64, u64), f64> {
    let docs = entities(path);
    let mut out = std::collections::HashMap::new();
    for (i, d) in jsonl_docs(path).iter().enumerate() {
        for (e, a) in docs[i].iter().zip(d["anns"].as_array().unwrap()) {
            let score = a["attrs"][0]["value"].as_f64().unwrap();
            out.insert((i, e.0.clone(), e.1, e.2), score);
        }
    }
    out
}

#[test]
fn annotate_quantize_int8_is_the_operations_quantize_key_and_refuses_what_cannot_run() {
    let tmp = tempfile::tempdir().unwrap();
    let annotate = |name: &str, extra: &[&str]| {
        let flags = [&["--drop-existing-entities"], extra].concat();
        annotate_e2e(tmp.path(), name, &flags)
    };
    let ok = |name: &str, extra: &[&str]| {
        let (o, out) = annotate(name, extra);
        assert!(o.status.success(), "{}", text(&o));
        out
    };
    let fp32 = ok("fp32.jsonl", &["--aggregation", "none"]);
    let int8 = ok(
        "int8.jsonl",
        &["--aggregation", "none", "--quantize", "int8"],
    );
    let by_op = ok(
        "op.jsonl",
        &["--aggregation", "none", "--op", "quantize=\"int8\""],
    );
    assert_eq!(scored(&int8), scored(&by_op));
    // The int8 model really ran (scores moved) and stayed close to fp32 on the token entities
    // both found.
    let (s32, s8) = (scored(&fp32), scored(&int8));
    let both: Vec<f64> = s32
        .iter()
        .filter_map(|(k, a)| s8.get(k).map(|b| (a - b).abs()))
        .collect();
    assert!(
        both.len() * 2 >= s32.len(),
        "{} of {} entities kept",
        both.len(),
        s32.len()
    );
    let max_diff = both.iter().copied().fold(0.0, f64::max);
    assert!(
        max_diff > 0.0,
        "int8 scores equal fp32's: the quantized path did not run"
    );
    assert!(
        max_diff < 0.05,
        "int8 scores up to {max_diff} away from fp32's"
    );
    for (flags, needle) in [
        (
            &["--quantize", "int8", "--bf16"][..],
            "cannot be combined with bf16",
        ),
        (&["--quantize", "int4"][..], "int4"),
    ] {
        let (o, out) = annotate("bad.jsonl", flags);
        let t = text(&o);
        assert!(!o.status.success() && t.contains(needle), "{flags:?}: {t}");
        assert!(!out.exists(), "{flags:?}: an output was written");
    }
}
