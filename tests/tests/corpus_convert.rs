//! `medkit convert`: conversions through the binary, and every kind of bad input (medkit JSONL,
//! BRAT, CoNLL; reversed spans, entity texts of another length than their spans') failing with
//! file:line, a non-zero exit, and no output left behind.

use medkit_tests::{convert_args, corpus_data, entity, medkit, text, text_document, write_jsonl};
use std::path::{Path, PathBuf};

fn rich_lines() -> Vec<String> {
    std::fs::read_to_string(corpus_data("rich.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn convert(
    from: &str,
    to: &str,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = convert_args(from, to, input, output);
    args.extend(extra);
    medkit(&args)
}

/// Runs a failing conversion; the message must name `needle` (file:line), the old output stays.
fn assert_fails(from: &str, input: &Path, needle: &str, what: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.jsonl");
    let out_new = tmp.path().join("new.jsonl");
    std::fs::write(&out, "OLD").unwrap();
    for o in [&out, &out_new] {
        let r = convert(from, "medkit", input, o, &[]);
        let msg = text(&r);
        assert!(!r.status.success(), "{what}: should fail");
        assert!(
            msg.contains(needle),
            "{what}: {msg:?} should name {needle:?}"
        );
        assert!(msg.contains(what), "{what}: {msg:?}");
    }
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "OLD",
        "{what}: output replaced"
    );
    assert!(!out_new.exists(), "{what}: output created");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "{what}: temp files left: {leftovers:?}");
}

fn bad_jsonl(name: &str, f: impl FnOnce(&mut Vec<String>)) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join(name);
    let mut lines = rich_lines();
    f(&mut lines);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    (tmp, p)
}

#[test]
fn medkit_to_medkit_is_identical() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["rich.jsonl", "bc5cdr_sentences.jsonl"] {
        let out = tmp.path().join(f);
        let r = convert("medkit", "medkit", &corpus_data(f), &out, &[]);
        assert!(r.status.success(), "{}", text(&r));
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(corpus_data(f)).unwrap()
        );
    }
}

#[test]
fn brat_to_medkit_with_filter_and_split() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s.jsonl");
    let r = convert(
        "brat",
        "medkit",
        &corpus_data("brat"),
        &out,
        &["--filter-overlaps", "--split-sentences"],
    );
    let msg = text(&r);
    assert!(r.status.success(), "{msg}");
    assert!(
        msg.contains("3 documents read, 7 written with 8 entities"),
        "{msg}"
    );
    assert!(
        msg.contains("6 entities dropped as overlapping, 1 lost by sentence splitting"),
        "{msg}"
    );
    let mine = std::fs::read_to_string(&out).unwrap();
    let theirs = std::fs::read_to_string(corpus_data("brat_sentences_expected.jsonl")).unwrap();
    assert_eq!(mine.lines().count(), theirs.lines().count());
}

#[test]
fn conll_and_brat_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c.jsonl");
    let r = convert("conll", "medkit", &corpus_data("sample.conll"), &out, &[]);
    assert!(r.status.success(), "{}", text(&r));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
    let dir = tmp.path().join("brat");
    let r = convert("medkit", "brat", &corpus_data("rich.jsonl"), &dir, &[]);
    assert!(r.status.success(), "{}", text(&r));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 7); // 3 × (.txt, .ann) + annotation.conf
}

#[test]
fn bad_medkit_jsonl_names_file_and_line() {
    let (_t, p) = bad_jsonl("invalid.jsonl", |l| {
        l[2] = l[2].replace("\"uid\": ", "\"uid\" ")
    });
    assert_fails("medkit", &p, "invalid.jsonl:3", "invalid JSON");
    let (_t, p) = bad_jsonl("types.jsonl", |l| {
        l[1] = l[1].replacen("\"start\": 21", "\"start\": \"21\"", 1)
    });
    assert_fails(
        "medkit",
        &p,
        "types.jsonl:2",
        "expected a non-negative integer",
    );
    let (_t, p) = bad_jsonl("missing.jsonl", |l| {
        l[3] = l[3].replace("\"text\": ", "\"txt\": ")
    });
    assert_fails(
        "medkit",
        &p,
        "missing.jsonl:4",
        "missing required field \"text\"",
    );
    let (_t, p) = bad_jsonl("header.jsonl", |l| l[0] = l[0].replace("0.2", "0.1"));
    assert_fails(
        "medkit",
        &p,
        "header.jsonl:1",
        "unsupported medkit JSON version",
    );
    let (_t, p) = bad_jsonl("dup.jsonl", |l| {
        let first = l[1].clone();
        l.push(first);
    });
    assert_fails("medkit", &p, "dup.jsonl:5", "duplicate document uid");
    let (_t, p) = bad_jsonl("offsets.jsonl", |l| {
        l[1] = l[1].replacen("\"end\": 27", "\"end\": 270", 1)
    });
    assert_fails(
        "medkit",
        &p,
        "offsets.jsonl:2",
        "not within the document text",
    );
    // truncated last line: cut in the middle, no final newline
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("trunc.jsonl");
    let full = rich_lines().join("\n");
    std::fs::write(&p, &full[..full.len() - 40]).unwrap();
    assert_fails("medkit", &p, "trunc.jsonl:4", "truncated last line");
    // non-UTF-8 bytes
    let p = tmp.path().join("latin1.jsonl");
    let mut bytes = (rich_lines()[..3].join("\n") + "\n").into_bytes();
    let at = bytes.len() - 20;
    bytes[at] = 0xe9;
    std::fs::write(&p, bytes).unwrap();
    assert_fails("medkit", &p, "latin1.jsonl:3", "invalid UTF-8");
}

fn brat_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("corpus");
    std::fs::create_dir(&d).unwrap();
    for (n, c) in files {
        std::fs::write(d.join(n), c).unwrap();
    }
    tmp
}

#[test]
fn bad_brat_names_file_and_line() {
    let txt = "Fièvre aiguë.\n";
    let t = brat_dir(&[("a.ann", "T1\tX 0 6\tFièvre\n")]);
    assert_fails(
        "brat",
        &t.path().join("corpus"),
        "a.ann",
        "no matching text file",
    );
    let t = brat_dir(&[
        ("a.txt", txt),
        ("a.ann", "T1\tX 0 6\tFièvre\nT2\tX zero 6\tFièvre\n"),
    ]);
    assert_fails(
        "brat",
        &t.path().join("corpus"),
        "a.ann:2",
        "malformed entity line",
    );
    let t = brat_dir(&[("a.txt", txt), ("a.ann", "T1\tX 0 60\tFièvre\n")]);
    assert_fails(
        "brat",
        &t.path().join("corpus"),
        "a.ann:1",
        "outside the text",
    );
    let t = brat_dir(&[("a.txt", txt), ("a.ann", "T1\tX 0 7\tFièvre\n")]);
    assert_fails(
        "brat",
        &t.path().join("corpus"),
        "a.ann:1",
        "spans cover 7 characters",
    );
    let t = brat_dir(&[("a.txt", txt), ("a.ann", "T1\tX 0 6\tFièvre\nA1\tNeg T9\n")]);
    assert_fails(
        "brat",
        &t.path().join("corpus"),
        "a.ann:2",
        "unknown annotation T9",
    );
    let t = brat_dir(&[("a.txt", txt), ("a.ann", "T1 X 0 6 Fièvre\n")]);
    assert_fails(
        "brat",
        &t.path().join("corpus"),
        "a.ann:1",
        "malformed annotation",
    );
    // a file that resolves outside the corpus folder
    let t = brat_dir(&[("a.ann", "")]);
    std::fs::write(t.path().join("secret.txt"), "outside").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(t.path().join("secret.txt"), t.path().join("corpus/a.txt"))
            .unwrap();
        assert_fails(
            "brat",
            &t.path().join("corpus"),
            "a.txt",
            "outside the corpus folder",
        );
    }
}

#[test]
fn bad_conll_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("x.conll");
    std::fs::write(&p, "Le\tO\nfièvre\tB-SIGN\n\ntoux\tX-SIGN\n").unwrap();
    assert_fails("conll", &p, "x.conll:4", "is not an IOB2 tag");
    std::fs::write(&p, "Le\tO\nfièvre\n").unwrap();
    assert_fails("conll", &p, "x.conll:2", "expected token<TAB>tag");
}

#[test]
fn unsafe_uid_is_refused_as_brat_file_name() {
    let (_t, p) = bad_jsonl("uid.jsonl", |l| {
        l.truncate(2);
        l[1] = l[1].replacen(&l[1][9..45].to_string(), "../../escape", 1);
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("brat");
    let r = convert("medkit", "brat", &p, &out, &[]);
    assert!(!r.status.success());
    assert!(
        text(&r).contains("cannot be used as a file name"),
        "{}",
        text(&r)
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// Converts a file whose document line is `line`: it must fail naming `bad.jsonl:2` and `needle`,
/// and write nothing.
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

/// A document with one entity `ent_text` at `span`.
fn one_entity_doc(text: &str, span: (usize, usize), ent_text: &str) -> String {
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
        &one_entity_doc("Fièvre aiguë.", (6, 0), "Fièvre"),
        "span 6-0 is not within the document text",
    );
    convert_fails(
        &one_entity_doc("Fièvre aiguë.", (0, 6), "Fièvre aiguë"),
        "spans cover 6 characters but text",
    );
}
