//! Issue 7, span faults in medkit JSONL not covered in corpus_cli.rs: a reversed span and an entity
//! text whose length is not its spans' are errors naming the file and line; nothing is written.

use medkit_tests::*;

fn convert_fails(line: &str, needle: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("bad.jsonl");
    std::fs::write(
        &input,
        format!("{{\"version\": \"0.2\", \"content_type\": \"text_document_list\"}}\n{line}\n"),
    )
    .unwrap();
    let out = tmp.path().join("out.jsonl");
    let o = medkit(&[
        "convert",
        "--from",
        "medkit",
        "--to",
        "medkit",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("bad.jsonl:2") && t.contains(needle), "{t}");
    assert!(!t.contains("panicked"), "{t}");
    assert!(!out.exists());
}

fn doc(text: &str, (start, end): (u64, u64), ent_text: &str) -> String {
    serde_json::json!({"uid": "d1", "text": text, "metadata": {}, "anns": [{
        "uid": "e1", "label": "x", "text": ent_text,
        "spans": [{"start": start, "end": end, "_class_name": "medkit.core.text.span.Span"}],
        "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Entity"}],
        "_class_name": "medkit.core.text.document.TextDocument"})
    .to_string()
}

#[test]
fn reversed_spans_and_text_length_mismatches_name_file_and_line() {
    convert_fails(
        &doc("Fièvre aiguë.", (6, 0), "Fièvre"),
        "span 6-0 is not within the document text",
    );
    convert_fails(
        &doc("Fièvre aiguë.", (0, 6), "Fièvre aiguë"),
        "spans cover 6 characters but text",
    );
}
