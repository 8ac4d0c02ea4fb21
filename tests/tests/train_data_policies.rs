//! The training data's faults on the tiny random BERT: entity texts that do not match their
//! spans and overlapping entities are errors naming file, line, document and entity, or skipped
//! with a count (`[train]` policies); labels outside the trained set and entities cut by
//! truncation are counted.

use medkit_tests::*;
use std::path::{Path, PathBuf};

/// A train corpus with one entity whose text is not its spans' and two overlapping entities.
fn flawed_corpus(dir: &Path) -> PathBuf {
    let src = std::fs::read_to_string(test_data("e2e/train.jsonl")).unwrap();
    let mut lines: Vec<String> = src.lines().map(String::from).collect();
    let mut doc: serde_json::Value = serde_json::from_str(&lines[3]).unwrap();
    let anns = doc["anns"].as_array_mut().unwrap();
    // Same length (medkit's Segment asserts the lengths match; the reader refuses other lengths).
    let n = anns[0]["text"].as_str().unwrap().chars().count();
    anns[0]["text"] = serde_json::json!("x".repeat(n));
    lines[3] = doc.to_string();
    let mut doc: serde_json::Value = serde_json::from_str(&lines[5]).unwrap();
    let anns = doc["anns"].as_array_mut().unwrap();
    let mut inner = anns[0].clone();
    let (s, e) = (
        inner["spans"][0]["start"].as_u64().unwrap(),
        inner["spans"][0]["end"].as_u64().unwrap(),
    );
    let text: Vec<char> = doc["text"].as_str().unwrap().chars().collect();
    inner["uid"] = serde_json::json!("overlapping-inner");
    inner["spans"][0]["end"] = serde_json::json!(s + 2);
    inner["text"] = serde_json::json!(text[s as usize..s as usize + 2].iter().collect::<String>());
    assert!(e > s + 2);
    doc["anns"].as_array_mut().unwrap().push(inner);
    lines[5] = doc.to_string();
    let p = dir.join("flawed.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn training_data_policies_error_or_skip_with_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let train = flawed_corpus(tmp.path());
    let cfg = |name: &str, extra: &str| {
        TinyPipeline {
            train: train.clone(),
            train_keys: extra.into(),
            ..TinyPipeline::checkpointing(&tmp.path().join(name.replace(".toml", "")), 1)
        }
        .write(&tmp.path().join(name))
    };
    // Defaults: both are errors naming file:line, document and entity.
    let o = run_pipeline(&cfg("a.toml", ""), &[]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("flawed.jsonl:4: document")
            && t.contains("has text \"xxx")
            && t.contains("but its spans cover")
            && t.contains("entity_text_mismatch"),
        "{t}"
    );
    let o = run_pipeline(&cfg("b.toml", "entity_text_mismatch = \"skip\""), &[]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("flawed.jsonl:6: document") && t.contains("overlap"),
        "{t}"
    );
    // Skip + keep-longest: the run goes on and says what it dropped.
    let o = run_pipeline(
        &cfg(
            "c.toml",
            "entity_text_mismatch = \"skip\"\noverlapping_entities = \"keep-longest\"",
        ),
        &[],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("skipped 1 entity whose text does not match their spans, in 1 document(s)"),
        "{t}"
    );
    assert!(
        t.contains("dropped 1 overlapping entity (kept the longest), in 1 document(s)"),
        "{t}"
    );
    // A bad policy value names its key.
    let o = run_pipeline(&cfg("d.toml", "overlapping_entities = \"longest\""), &[]);
    let t = text(&o);
    assert!(
        !o.status.success() && t.contains("train.overlapping_entities"),
        "{t}"
    );
}

#[test]
fn labels_outside_the_label_set_and_truncation_are_counted() {
    let tmp = tempfile::tempdir().unwrap();
    // Documents longer than tokenizer_max_length = 12 tokens (truncated as medkit does), and
    // labels without "test".
    let cfg = TinyPipeline {
        labels: vec!["problem".into(), "treatment".into()],
        tokenizer_max_length: Some(12),
        trainable_keys: "long_documents = \"truncate\"".into(),
        ..TinyPipeline::checkpointing(&tmp.path().join("run"), 1)
    }
    .write(&tmp.path().join("p.toml"));
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("entities labelled 'test': not in the trained labels")
            || t.contains("entity labelled 'test': not in the trained labels"),
        "{t}"
    );
    assert!(
        t.contains("cut or dropped by truncation at 12 tokens"),
        "{t}"
    );
}
