//! Tokenization parity with transformers' fast tokenizers: ids, character offsets, word ids,
//! special-tokens mask (fixtures by scripts/encoder_fixtures.py).
mod encoder_util;

use encoder_util::*;
use medkit_plugin_hf::tokenizer::HfTokenizer;

#[test]
fn minilm_tokenizer_json_matches_transformers() {
    let dir = minilm_dir();
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let n = check_tokens(&tok, &fixtures().join("minilm"));
    eprintln!("MiniLM tokenizer.json: {n} sentences identical");
    assert_eq!(tok.pad_id(), 0);
}

#[test]
fn vocab_txt_only_matches_transformers() {
    let dir = fixtures().join("vocab_only");
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let n = check_tokens(&tok, &dir);
    eprintln!("vocab.txt-only WordPiece: {n} sentences identical");
}

#[test]
fn truncation_keeps_special_tokens() {
    let dir = fixtures().join("vocab_only");
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let full = tok
        .encode("the patient was admitted with chest pain", None)
        .unwrap();
    let cut = tok
        .encode("the patient was admitted with chest pain", Some(5))
        .unwrap();
    assert_eq!(cut.ids.len(), 5);
    assert_eq!(cut.ids[..4], full.ids[..4]);
    assert_eq!(cut.ids[4], *full.ids.last().unwrap());
    assert_eq!(cut.special_tokens_mask, vec![1, 0, 0, 0, 1]);
    let empty = tok.encode("", Some(5)).unwrap();
    assert_eq!(empty.ids.len(), 2);
}

#[test]
fn saved_vocab_only_tokenizer_reloads_identically() {
    let dir = fixtures().join("vocab_only");
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let out = tempfile::tempdir().unwrap();
    tok.save(out.path()).unwrap();
    assert!(out.path().join("tokenizer.json").is_file());
    assert!(out.path().join("special_tokens_map.json").is_file());
    let again = HfTokenizer::from_dir(out.path()).unwrap();
    check_tokens(&again, &dir);
}

#[test]
fn vocab_json_merges_only_matches_transformers() {
    let dir = fixtures().join("bpe_only");
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let n = check_tokens(&tok, &dir);
    eprintln!("vocab.json + merges.txt byte-level BPE: {n} sentences identical");
    assert_eq!(tok.pad_id(), tok.token_to_id("<pad>").unwrap());
}

#[test]
fn batch_encoding_equals_single() {
    let dir = fixtures().join("tiny_xlmr");
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let sentences = sentences();
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    for max in [None, Some(12)] {
        let batch = tok.encode_batch(&texts, max).unwrap();
        for (t, b) in texts.iter().zip(&batch) {
            assert_eq!(&tok.encode(t, max).unwrap(), b);
        }
    }
}
