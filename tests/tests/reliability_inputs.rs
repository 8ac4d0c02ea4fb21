//! Issue 7, span faults in medkit JSONL not covered in corpus_cli.rs: a reversed span and an entity
//! text whose length is not its spans' are errors naming the file and line; nothing is written.

use medkit_tests::*;

fn convert_fails(line: &str, needle: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_jsonl(&tmp.path().join("bad.jsonl"), &[line]);
    let out = tmp.path().join("out.jsonl");
    let o = medkit(&convert_args("medkit", "medkit", &input, &out));
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("bad.jsonl:2") && t.contains(needle), "{t}");
    assert!(!t.contains("panicked"), "{t}");
    assert!(!out.exists());
}

fn doc(text: &str, span: (usize, usize), ent_text: &str) -> String {
    text_document(
        "d1",
        text,
        serde_json::json!([entity("e1", "x", ent_text, span)]),
    )
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
