//! Training on documents longer than `tokenizer_max_length`, end to end on the tiny random BERT:
//! the e2e sentences joined into a few long French documents. With windows (the default) every
//! entity is trained on and the per-epoch metrics see whole documents (seqeval's support is the
//! corpus's entity count); `long_documents = "truncate"` loses entities, with its warning.

use medkit_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The documents of `src` joined `per_doc` at a time (texts joined by a space, entity spans
/// shifted); returns the file and its entity count.
fn long_documents(src: &Path, per_doc: usize, dest: &Path) -> (PathBuf, usize) {
    let docs = jsonl_docs(src);
    let mut out = Vec::new();
    let mut entities = 0;
    for (i, group) in docs.chunks(per_doc).enumerate() {
        let (mut text, mut anns) = (String::new(), Vec::new());
        for d in group {
            if !text.is_empty() {
                text.push(' ');
            }
            let shift = text.chars().count() as u64;
            text.push_str(d["text"].as_str().unwrap());
            for a in d["anns"].as_array().unwrap() {
                let mut a = a.clone();
                for s in a["spans"].as_array_mut().unwrap() {
                    for k in ["start", "end"] {
                        s[k] = json!(s[k].as_u64().unwrap() + shift);
                    }
                }
                anns.push(a);
            }
        }
        entities += anns.len();
        out.push(text_document(&format!("long-{i}"), &text, Value::Array(anns)).to_string());
    }
    (write_jsonl(dest, &out), entities)
}

fn eval_support(output_dir: &Path, epoch: usize) -> f64 {
    history(output_dir)[epoch]["eval"]["overall_support"]
        .as_f64()
        .expect("overall_support in the eval metrics")
}

#[test]
fn long_documents_train_in_windows_and_are_evaluated_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, _) = long_documents(
        &test_data("e2e/train.jsonl"),
        8,
        &tmp.path().join("train.jsonl"),
    );
    let (validation, nb_entities) = long_documents(
        &test_data("e2e/validation.jsonl"),
        5,
        &tmp.path().join("validation.jsonl"),
    );
    let pipeline = |name: &str, keys: &str| {
        let out = tmp.path().join(name);
        let p = TinyPipeline {
            train: train.clone(),
            validation: validation.clone(),
            tokenizer_max_length: Some(24),
            trainable_keys: keys.into(),
            trainer_keys: "do_metrics_in_training = true".into(),
            epochs: 2,
            ..TinyPipeline::checkpointing(&out, 2)
        }
        .write(&tmp.path().join(format!("{name}.toml")));
        (p, out)
    };

    let (p, out) = pipeline("windows", "window_stride = 4");
    let o = run_pipeline(&p, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("document(s) longer than 24 tokens split into") && t.contains("(stride 4)"),
        "{t}"
    );
    assert!(!t.contains("truncation"), "{t}");
    // Every validation entity reaches seqeval once, whole (a window edge inside an entity would
    // count its continuation as a second entity), in both epochs.
    for epoch in 0..2 {
        assert_eq!(
            eval_support(&out, epoch),
            nb_entities as f64,
            "epoch {epoch}"
        );
    }
    let h = history(&out);
    assert!(h[1]["train"]["overall_support"].as_f64().unwrap() > 0.0);
    let config = read_json(&epoch_checkpoint(&out, 2).join("trainer_config.json"));
    assert_eq!(config["nb_train_documents"], 3);
    assert_eq!(config["nb_eval_documents"], 2);
    assert!(
        config["nb_train_examples"].as_u64().unwrap() > 3
            && config["nb_eval_examples"].as_u64().unwrap() > 2,
        "{config}"
    );

    // medkit's truncation: entities lost, and said so.
    let (p, out) = pipeline("truncate", "long_documents = \"truncate\"");
    let o = run_pipeline(&p, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("cut or dropped by truncation at 24 tokens"),
        "{t}"
    );
    assert!(eval_support(&out, 0) < nb_entities as f64);
    let config = read_json(&epoch_checkpoint(&out, 2).join("trainer_config.json"));
    assert_eq!(config["nb_train_examples"], 3);

    // A bad value is refused before training, naming its key.
    let (p, _) = pipeline("bad", "long_documents = \"foo\"");
    let o = run_pipeline(&p, &[]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("long_documents"), "{t}");
}
