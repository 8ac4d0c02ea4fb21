//! Exports saved models for scripts/encoder_check_saved.py (Python reloads them with
//! transformers and compares logits). Ignored by default; run through the script, or by
//! tests/tests/interop_transformers.rs (scripts/test-interop.sh).
mod encoder_util;

use std::path::{Path, PathBuf};

use encoder_util::*;
use medkit_plugin_hf::model::TokenClassifier;
use medkit_plugin_hf::tokenizer::HfTokenizer;
use tch::Device;

fn export(model: &TokenClassifier, tok: &HfTokenizer, max_length: Option<usize>, out: &Path) {
    model.save(out).unwrap();
    tok.save(out).unwrap();
    let (ids, mask) = batch(tok, &sentences(), max_length);
    let logits = tch::no_grad(|| model.forward_t(&ids, &mask, false));
    let tensors = vec![
        ("input_ids".to_string(), ids),
        ("attention_mask".into(), mask),
        ("logits".into(), logits),
    ];
    medkit_plugin_hf::weights::write_safetensors(&out.join("rust_logits.safetensors"), &tensors)
        .unwrap();
    eprintln!("exported {}", out.display());
}

#[test]
#[ignore = "interop: run by scripts/encoder_check_saved.py and scripts/test-interop.sh"]
fn export_saved_models() {
    let root = PathBuf::from(std::env::var("ENCODER_EXPORT_DIR").expect("ENCODER_EXPORT_DIR"));
    tch::manual_seed(7);
    for name in ["tiny_bert", "tiny_roberta", "tiny_xlmr", "tiny_distilbert"] {
        let dir = fixtures().join(name);
        let model = TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
        export(
            &model,
            &HfTokenizer::from_dir(&dir).unwrap(),
            Some(48),
            &root.join(name),
        );
        // A new label set: re-initialised head, written with its id2label.
        let labels: Vec<String> = ["O", "B-drug", "I-drug", "B-dose"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let model = TokenClassifier::from_dir(&dir, Some(&labels), Device::Cpu).unwrap();
        export(
            &model,
            &HfTokenizer::from_dir(&dir).unwrap(),
            Some(48),
            &root.join(format!("{name}_relabelled")),
        );
    }
    // CamemBERT: RoBERTa layers under another model_type (tiny_roberta's weights, renamed type).
    let cam = root.join("camembert_src");
    std::fs::create_dir_all(&cam).unwrap();
    for f in [
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ] {
        std::fs::copy(fixtures().join("tiny_roberta").join(f), cam.join(f)).unwrap();
    }
    let cfg = std::fs::read_to_string(fixtures().join("tiny_roberta/config.json")).unwrap();
    std::fs::write(
        cam.join("config.json"),
        cfg.replace("\"roberta\"", "\"camembert\""),
    )
    .unwrap();
    let model = TokenClassifier::from_dir(&cam, None, Device::Cpu).unwrap();
    assert_eq!(model.config.model_type, "camembert");
    export(
        &model,
        &HfTokenizer::from_dir(&cam).unwrap(),
        Some(48),
        &root.join("tiny_camembert"),
    );
    std::fs::remove_dir_all(&cam).unwrap();
    {
        let dir = minilm_dir();
        let labels: Vec<String> = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("minilm/labels.json")).unwrap(),
        )
        .unwrap();
        let model = TokenClassifier::from_dir(&dir, Some(&labels), Device::Cpu).unwrap();
        export(
            &model,
            &HfTokenizer::from_dir(&dir).unwrap(),
            None,
            &root.join("minilm"),
        );
        // The vocab.txt-only tokenizer, saved as tokenizer.json.
        let vocab_tok = HfTokenizer::from_dir(&fixtures().join("vocab_only")).unwrap();
        export(&model, &vocab_tok, None, &root.join("minilm_vocab_only"));
    }
}
