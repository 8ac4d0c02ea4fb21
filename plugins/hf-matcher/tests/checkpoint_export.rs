//! Our logits for checkpoints the trainer (`medkit run`) saved, for
//! scripts/interop/check_checkpoint_logits.py (Python transformers reloads each checkpoint and
//! compares). Ignored by default; run by tests/tests/interop_transformers.rs through
//! scripts/test-interop.sh.
mod encoder_util;

use std::path::PathBuf;

use encoder_util::*;
use medkit_plugin_hf::model::TokenClassifier;
use medkit_plugin_hf::tokenizer::HfTokenizer;
use tch::Device;

/// Tokens per sentence, as the Python side truncates too.
const MAX_LENGTH: usize = 48;

#[test]
#[ignore = "interop: run by scripts/test-interop.sh (tests/tests/interop_transformers.rs)"]
fn export_checkpoint_logits() {
    let dirs = std::env::var("MEDKIT_INTEROP_CHECKPOINTS")
        .expect("MEDKIT_INTEROP_CHECKPOINTS: checkpoint directories, separated by ':'");
    let dirs: Vec<PathBuf> = dirs.split(':').map(PathBuf::from).collect();
    assert!(
        !dirs.is_empty() && dirs.iter().all(|d| d.is_dir()),
        "{dirs:?}"
    );
    for dir in dirs {
        let model = TokenClassifier::from_dir(&dir, None, Device::Cpu)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let tok = HfTokenizer::from_dir(&dir).unwrap();
        let (ids, mask) = batch(&tok, &sentences(), Some(MAX_LENGTH));
        let logits = tch::no_grad(|| model.forward_t(&ids, &mask, false));
        let tensors = vec![
            ("input_ids".to_string(), ids),
            ("attention_mask".into(), mask),
            ("logits".into(), logits),
        ];
        medkit_plugin_hf::weights::write_safetensors(
            &dir.join("rust_logits.safetensors"),
            &tensors,
        )
        .unwrap();
        eprintln!("exported our logits for {}", dir.display());
    }
}
