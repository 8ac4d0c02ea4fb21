//! Test fixtures: a tiny random BERT (WordPiece vocab.txt, 2 layers of width 16) written to a
//! directory, so that tests of the operations run in seconds without downloading a model, and
//! documents with entities found by their surface text.

use medkit_sdk::{Annotation, AnySpan, Segment, Span, TextDocument};
use serde_json::json;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Special tokens first, then French words and sub-words (accents kept: `strip_accents: false`).
pub const VOCAB: &[&str] = &[
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    ".",
    ",",
    "'",
    "le",
    "la",
    "les",
    "un",
    "une",
    "et",
    "de",
    "du",
    "à",
    "a",
    "patient",
    "patiente",
    "pré",
    "##sente",
    "fi",
    "##èvre",
    "œ",
    "##dème",
    "toux",
    "douleur",
    "traitement",
    "par",
    "para",
    "##céta",
    "##mol",
    "il",
    "elle",
    "est",
    "sous",
    "depuis",
    "jours",
    "trois",
    "##s",
    "aux",
    "jambes",
    "sœur",
    "mère",
    "cœur",
    "signe",
    "pas",
    "hôpital",
    "l",
];

const HIDDEN: i64 = 16;
const LAYERS: usize = 2;
const INTERMEDIATE: i64 = 32;
const POSITIONS: i64 = 64;

/// Writes config.json (no label map), vocab.txt, tokenizer_config.json and model.safetensors
/// (encoder only: the head is created when loaded) with weights drawn from `seed`.
pub fn write_tiny_bert(dir: &Path, seed: i64) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("writing {name}: {e}"))
    };
    let config = json!({
        "architectures": ["BertForTokenClassification"],
        "model_type": "bert",
        "vocab_size": VOCAB.len(),
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": 2,
        "intermediate_size": INTERMEDIATE,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": POSITIONS,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "initializer_range": 0.02,
    });
    write(
        "config.json",
        serde_json::to_string_pretty(&config).expect("json"),
    )?;
    write("vocab.txt", VOCAB.join("\n") + "\n")?;
    let tok_config = json!({
        "do_lower_case": true,
        "strip_accents": false,
        "model_max_length": POSITIONS,
        "tokenizer_class": "BertTokenizer",
    });
    write(
        "tokenizer_config.json",
        serde_json::to_string_pretty(&tok_config).expect("json"),
    )?;

    tch::manual_seed(seed);
    let randn = |shape: &[i64]| Tensor::randn(shape, (Kind::Float, tch::Device::Cpu)) * 0.2;
    let ones = |n: i64| Tensor::ones([n], (Kind::Float, tch::Device::Cpu));
    let zeros = |n: i64| Tensor::zeros([n], (Kind::Float, tch::Device::Cpu));
    let v = VOCAB.len() as i64;
    let mut t: Vec<(String, Tensor)> = vec![
        (
            "bert.embeddings.word_embeddings.weight".into(),
            randn(&[v, HIDDEN]),
        ),
        (
            "bert.embeddings.position_embeddings.weight".into(),
            randn(&[POSITIONS, HIDDEN]),
        ),
        (
            "bert.embeddings.token_type_embeddings.weight".into(),
            randn(&[2, HIDDEN]),
        ),
        ("bert.embeddings.LayerNorm.weight".into(), ones(HIDDEN)),
        ("bert.embeddings.LayerNorm.bias".into(), zeros(HIDDEN)),
    ];
    for l in 0..LAYERS {
        let p = format!("bert.encoder.layer.{l}");
        for (name, out, inp) in [
            ("attention.self.query", HIDDEN, HIDDEN),
            ("attention.self.key", HIDDEN, HIDDEN),
            ("attention.self.value", HIDDEN, HIDDEN),
            ("attention.output.dense", HIDDEN, HIDDEN),
            ("intermediate.dense", INTERMEDIATE, HIDDEN),
            ("output.dense", HIDDEN, INTERMEDIATE),
        ] {
            t.push((format!("{p}.{name}.weight"), randn(&[out, inp])));
            t.push((format!("{p}.{name}.bias"), randn(&[out]) * 0.1));
        }
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            t.push((format!("{p}.{norm}.weight"), ones(HIDDEN)));
            t.push((format!("{p}.{norm}.bias"), zeros(HIDDEN)));
        }
    }
    let path = dir.join("model.safetensors");
    Tensor::write_safetensors(&t, &path).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// A fresh directory under the system temp dir, unique to this process and `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("medkit-hf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Character range of the first occurrence of `surface` in `text` at or after char `from`.
pub fn char_range(text: &str, surface: &str, from: usize) -> (u64, u64) {
    let chars: Vec<char> = text.chars().collect();
    let pat: Vec<char> = surface.chars().collect();
    let start = (from..=chars.len() - pat.len())
        .find(|&i| chars[i..i + pat.len()] == pat[..])
        .unwrap_or_else(|| panic!("'{surface}' not in '{text}'"));
    (start as u64, (start + pat.len()) as u64)
}

/// A document whose entities are `(label, surface)`, each found after the previous one.
pub fn document(uid: &str, text: &str, entities: &[(&str, &str)]) -> TextDocument {
    let mut from = 0;
    let anns = entities
        .iter()
        .enumerate()
        .map(|(i, (label, surface))| {
            let (start, end) = char_range(text, surface, from);
            from = end as usize;
            Annotation::Entity(Segment {
                uid: format!("{uid}-e{i}").into(),
                label: (*label).into(),
                spans: vec![AnySpan::Span(Span::new(start, end))].into(),
                text: (*surface).into(),
                attrs: Default::default(),
                metadata: "{}".into(),
            })
        })
        .collect();
    TextDocument {
        uid: uid.into(),
        text: text.into(),
        metadata: "{}".into(),
        anns,
        attrs: Default::default(),
    }
}
