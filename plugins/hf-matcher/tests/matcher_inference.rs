//! The ner operation on a saved tiny model whose head is biased towards one tag: entities map
//! back through segment spans (offsets, gaps), carry a score attribute and copied attributes,
//! long segments are windowed, batching keeps input order and results.

use medkit_plugin_hf::inference::HfEntityMatcher;
use medkit_plugin_hf::testing::{temp_dir, write_tiny_bert};
use medkit_plugin_hf::trainable::HfEntityMatcherTrainable;
use medkit_sdk::{AnySpan, Attribute, NerOperation, Segment, Span, Trainable};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tch::Tensor;

/// A saved model predicting `tag` everywhere (its head bias pushed up).
fn biased_model(tag: &str) -> PathBuf {
    let dir = temp_dir(&format!("infer-{tag}"));
    write_tiny_bert(&dir.join("base"), 0).unwrap();
    let config = json!({
        "model_name_or_path": dir.join("base"),
        "labels": ["problem", "treatment"],
        "tagging_scheme": "iob2",
        "seed": 0,
    });
    let mut t = HfEntityMatcherTrainable::from_json(&config.to_string()).unwrap();
    let idx = t.id_to_label().iter().position(|l| l == tag).unwrap();
    let saved = dir.join("model");
    t.save(saved.to_str().unwrap()).unwrap();
    let file = saved.join("model.safetensors");
    let mut tensors = Tensor::read_safetensors(&file).unwrap();
    for (name, tensor) in tensors.iter_mut() {
        if name == "classifier.bias" {
            let mut bias = vec![0f32; 5];
            bias[idx] = 20.0;
            *tensor = Tensor::from_slice(&bias);
        }
    }
    Tensor::write_safetensors(&tensors, &file).unwrap();
    saved
}

fn matcher(model: &Path, extra: Value) -> HfEntityMatcher {
    let mut config = json!({ "model": model });
    config
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    HfEntityMatcher::from_json(&config.to_string()).unwrap()
}

fn segment(doc_text: &str, spans: &[(u64, u64)], attrs: Vec<Attribute>) -> Segment {
    let chars: Vec<char> = doc_text.chars().collect();
    let text: String = spans
        .iter()
        .flat_map(|&(s, e)| chars[s as usize..e as usize].iter())
        .collect();
    Segment {
        uid: "seg".into(),
        label: "sentence".into(),
        spans: spans
            .iter()
            .map(|&(s, e)| AnySpan::Span(Span::new(s, e)))
            .collect(),
        text: text.into(),
        attrs: attrs.into(),
        metadata: "{}".into(),
    }
}

fn plain(spans: &[AnySpan]) -> Vec<(u64, u64)> {
    spans
        .iter()
        .flat_map(|s| s.original_spans())
        .map(|s| (s.start, s.end))
        .collect()
}

fn doc_slice(doc: &str, spans: &[(u64, u64)]) -> String {
    let chars: Vec<char> = doc.chars().collect();
    spans
        .iter()
        .flat_map(|&(s, e)| chars[s as usize..e as usize].iter())
        .collect()
}

#[test]
fn entities_map_through_segment_offsets_and_gaps() {
    let model = biased_model("B-problem");
    let doc = "Motif : Le patient présente une fièvre.";
    // Segment = the sentence, at char offset 8 of the document.
    let neg = Attribute {
        uid: "a1".into(),
        label: "negation".into(),
        value: "false".into(),
        metadata: "{}".into(),
        class_name: "Attribute".into(),
        extra: "{}".into(),
    };
    let mut other = neg.clone();
    other.label = "other".into();
    let seg = segment(doc, &[(8, 39)], vec![neg, other]);
    let mut op = matcher(
        &model,
        json!({"aggregation_strategy": "none", "attrs_to_copy": ["negation"]}),
    );
    let ents = op.run(vec![seg]).unwrap();
    // One entity per token (B- tags never merge): le patient pré ##sente une fi ##èvre .
    let texts: Vec<&str> = ents.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Le", "patient", "pré", "sente", "une", "fi", "èvre", "."]
    );
    assert_eq!(plain(&ents[0].spans), [(8, 10)]);
    assert_eq!(plain(&ents[6].spans), [(34, 38)]);
    for e in &ents {
        assert_eq!(e.label.as_str(), "B-problem"); // strategy none keeps the tag
        assert_eq!(doc_slice(doc, &plain(&e.spans)), e.text.as_str());
        let labels: Vec<&str> = e.attrs.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["negation", "score"]);
        let score = &e.attrs[1];
        let v: f64 = serde_json::from_str(&score.value).unwrap();
        assert!(v > 0.99 && v <= 1.0);
        let meta: Value = serde_json::from_str(&score.metadata).unwrap();
        assert_eq!(meta, json!({"model": model}));
    }

    // Two spans with a gap: "Le patient " + "présente une fièvre." → one grouped entity.
    let doc = "Le patient XXXX présente une fièvre.";
    let seg = segment(doc, &[(0, 11), (16, 36)], vec![]);
    let model = biased_model("I-treatment");
    let mut op = matcher(&model, json!({"aggregation_strategy": "max"}));
    let ents = op.run(vec![seg]).unwrap();
    assert_eq!(ents.len(), 1);
    assert_eq!(ents[0].label.as_str(), "treatment");
    assert_eq!(ents[0].text.as_str(), "Le patient présente une fièvre.");
    assert_eq!(plain(&ents[0].spans), [(0, 11), (16, 36)]);
}

#[test]
fn long_segments_are_windowed_and_batches_keep_order() {
    let model = biased_model("I-problem");
    let long = "Le patient présente une fièvre et un œdème aux jambes depuis trois jours.";
    let short = "Il a une toux.";
    let mut second = segment(short, &[(0, 14)], vec![]);
    second.spans = vec![AnySpan::Span(Span::new(100, 114))].into();
    let segs = vec![segment(long, &[(0, 73)], vec![]), second];
    let run = |extra: Value| {
        let mut op = matcher(&model, extra);
        op.run_batch(segs.clone()).unwrap()
    };
    let whole = run(json!({"aggregation_strategy": "simple"}));
    assert_eq!(whole[0].len(), 1);
    assert_eq!(whole[0][0].text.as_str(), long);
    assert_eq!(plain(&whole[1][0].spans), [(100, 114)]);

    let windowed =
        run(json!({"aggregation_strategy": "simple", "tokenizer_max_length": 8, "stride": 2}));
    assert!(!windowed[0].is_empty());
    let mut prev_end = 0;
    for e in &windowed[0] {
        let s = plain(&e.spans);
        assert!(s[0].0 >= prev_end, "overlapping windows were merged");
        prev_end = s[s.len() - 1].1;
        assert_eq!(doc_slice(long, &s), e.text.as_str());
    }
    assert!(prev_end <= 73);

    let batched = run(json!({"aggregation_strategy": "simple", "batch_size": 4}));
    assert_eq!(batched.len(), 2);
    for (a, b) in whole.iter().flatten().zip(batched.iter().flatten()) {
        assert_eq!((&a.label, &a.text, &a.spans), (&b.label, &b.text, &b.spans));
        let (x, y): (f64, f64) = (
            serde_json::from_str(&a.attrs[0].value).unwrap(),
            serde_json::from_str(&b.attrs[0].value).unwrap(),
        );
        assert!((x - y).abs() < 1e-5);
    }
}
