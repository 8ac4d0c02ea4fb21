//! Test corpora: the shipped data of `tests/data/`, and medkit JSONL files written and read back.

use crate::root;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The header line of a medkit JSONL file.
pub const JSONL_HEADER: &str = r#"{"version": "0.2", "content_type": "text_document_list"}"#;

/// A file of `tests/data/` (e.g. "e2e/train.jsonl").
pub fn test_data(path: &str) -> PathBuf {
    root().join("tests/data").join(path)
}

/// A file of the corpus fixtures, `tests/data/corpus/` (most written by Python medkit 0.17).
pub fn corpus_data(name: &str) -> PathBuf {
    test_data("corpus").join(name)
}

/// Writes a medkit JSONL file: the header, then one line per document (or per line of each
/// item); returns its path.
pub fn write_jsonl(path: &Path, docs: &[impl AsRef<str>]) -> PathBuf {
    let mut text = format!("{JSONL_HEADER}\n");
    for d in docs {
        text.push_str(d.as_ref());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path.to_path_buf()
}

/// The documents of a medkit JSONL file (the header line skipped), as JSON.
pub fn jsonl_docs(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A medkit `TextDocument` line with annotations `anns` (a JSON array).
pub fn text_document(uid: &str, text: &str, anns: Value) -> Value {
    json!({"uid": uid, "text": text, "metadata": {}, "anns": anns,
        "_class_name": "medkit.core.text.document.TextDocument"})
}

/// A medkit `Entity` with one span (character offsets `start..end`).
pub fn entity(uid: &str, label: &str, text: &str, (start, end): (usize, usize)) -> Value {
    json!({"uid": uid, "label": label, "text": text,
        "spans": [{"start": start, "end": end, "_class_name": "medkit.core.text.span.Span"}],
        "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"})
}
