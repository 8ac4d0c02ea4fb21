//! `medkit convert --on-error error|skip` through the binary: annotations that cannot be built
//! stop the conversion (file:line, id, no output) or are skipped with a warning and a count.
//! (Here rather than in `tests/`, whose helpers build the whole workspace, plugins included.)

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

const TEXT: &str = "Le patient présente une fièvre élevée.\n";

fn medkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medkit"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MEDKIT_PLUGIN_PATH")
        .output()
        .expect("run medkit")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn convert(from: &str, to: &str, input: &Path, output: &Path, on_error: Option<&str>) -> Output {
    let mut args = vec!["convert", "--from", from, "--to", to];
    args.extend(["--input", input.to_str().unwrap()]);
    args.extend(["--output", output.to_str().unwrap()]);
    if let Some(p) = on_error {
        args.extend(["--on-error", p]);
    }
    medkit(&args)
}

/// The documents of a medkit JSONL file (header skipped).
fn read_jsonl(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn anns_of<'a>(doc: &'a Value, class: &str) -> Vec<&'a Value> {
    doc["anns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["_class_name"].as_str().unwrap().ends_with(class))
        .collect()
}

/// Each entity's plain spans are character offsets into the document text covering its text.
fn assert_offsets_match(doc: &Value) {
    let chars: Vec<char> = doc["text"].as_str().unwrap().chars().collect();
    for e in anns_of(doc, ".Entity") {
        let s = &e["spans"][0];
        let (a, b) = (s["start"].as_u64().unwrap(), s["end"].as_u64().unwrap());
        let covered: String = chars[a as usize..b as usize].iter().collect();
        assert_eq!(covered, e["text"].as_str().unwrap(), "{e}");
    }
}

/// Fails with `needles` in the message, and leaves no output (not even a temp file).
fn assert_fails_cleanly(from: &str, input: &Path, needles: &[&str]) {
    for to in ["medkit", "brat"] {
        for on_error in [None, Some("error")] {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("out");
            let o = convert(from, to, input, &out, on_error);
            let t = text(&o);
            assert!(!o.status.success(), "{to} {on_error:?}: {t}");
            for n in needles {
                assert!(t.contains(n), "{to} {on_error:?}: {t:?} should name {n:?}");
            }
            let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
            assert!(left.is_empty(), "{to} {on_error:?}: left behind {left:?}");
        }
    }
}

fn brat_corpus(dir: &Path) {
    std::fs::write(dir.join("a.txt"), TEXT).unwrap();
    let ann = [
        "T1\tSIGN 24 30\tfièvre",          // 1: kept
        "T2\tSIGN 31 37\télevé",           // 2: text shorter than its span
        "T3\tPERSON 3 10\tpatient",        // 3: kept
        "T4\tSIGN 31 90\télevée",          // 4: span past the end of the text
        "R1\tcause Arg1:T1 Arg2:T2",       // 5: relation to a skipped entity
        "A1\tNegation T3",                 // 6: kept
        "#1\tAnnotatorNotes T4\tC0015967", // 7: note on a skipped entity
        "R2\tr Arg1:T3 Arg2:T1",           // 8: kept
        "T5\tSIGN 38 31\tx",               // 9: reversed span
    ];
    std::fs::write(dir.join("a.ann"), ann.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("b.txt"), "Toux sèche.\n").unwrap();
    std::fs::write(
        dir.join("b.ann"),
        "T1\tSIGN 0 4\tToux\nT2\tSIGN zero 4\tToux\n",
    )
    .unwrap();
}

#[test]
fn brat_on_error_error_stops_with_file_line_and_id_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    brat_corpus(&corpus);
    assert_fails_cleanly(
        "brat",
        &corpus,
        &["a.ann:2: T2: spans cover 6 characters but the text \"élevé\" has 5"],
    );
}

#[test]
fn brat_on_error_skip_converts_the_rest_and_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    brat_corpus(&corpus);
    let out = tmp.path().join("out.jsonl");
    let o = convert("brat", "medkit", &corpus, &out, Some("skip"));
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for warning in [
        "b.ann:2: T2: malformed entity line",
        "a.ann:2: T2: spans cover 6 characters",
        "a.ann:4: T4: span 31-90 is outside the text (39 characters)",
        "a.ann:9: T5: span 38-31 is outside the text",
        "a.ann:5: R1: annotation T2 was skipped as invalid",
        "a.ann:7: #1: annotation T4 was skipped as invalid",
    ] {
        assert!(t.contains(warning), "{t:?} should warn {warning:?}");
    }
    assert!(t.contains("6 annotations skipped as invalid"), "{t}");
    let docs = read_jsonl(&out);
    assert_eq!(docs.len(), 2);
    let a = &docs[0];
    let ents: Vec<_> = anns_of(a, ".Entity")
        .iter()
        .map(|e| {
            (
                e["text"].as_str().unwrap().to_string(),
                e["spans"][0]["start"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ents,
        [("fièvre".to_string(), 24), ("patient".to_string(), 3)]
    );
    assert_offsets_match(a);
    let rels = anns_of(a, ".Relation");
    assert_eq!(rels.len(), 1, "R2 only");
    assert_eq!(rels[0]["metadata"]["brat_id"], "R2");
    let patient = anns_of(a, ".Entity")[1];
    assert_eq!(patient["attrs"][0]["label"], "Negation");
    assert_eq!(anns_of(&docs[1], ".Entity").len(), 1);
    assert_offsets_match(&docs[1]);
    // BRAT out too
    let out = tmp.path().join("brat-out");
    let o = convert("brat", "brat", &corpus, &out, Some("skip"));
    assert!(o.status.success(), "{}", text(&o));
    // a clean corpus: nothing skipped, same output as with "error"
    std::fs::remove_file(corpus.join("b.ann")).unwrap();
    std::fs::write(corpus.join("a.ann"), "T1\tSIGN 24 30\tfièvre\n").unwrap();
    let o = convert(
        "brat",
        "medkit",
        &corpus,
        &tmp.path().join("c.jsonl"),
        Some("skip"),
    );
    assert!(
        text(&o).contains("0 annotations skipped as invalid"),
        "{}",
        text(&o)
    );
}

/// Line 2 a good document; line 3 with `e3` past the end of the text, `e4` whose text is longer
/// than its span and `r1` pointing at `e3`.
fn bad_jsonl(dir: &Path) -> std::path::PathBuf {
    let ent = |uid: &str, t: &str, s: u64, e: u64| {
        json!({"_class_name": "medkit.core.text.annotation.Entity", "uid": uid, "label": "SIGN",
               "spans": [{"_class_name": "medkit.core.text.span.Span", "start": s, "end": e}],
               "text": t, "attrs": [], "metadata": {}})
    };
    let doc = |uid: &str, anns: Vec<Value>| {
        json!({"_class_name": "medkit.core.text.document.TextDocument", "uid": uid,
               "text": TEXT, "metadata": {}, "anns": anns, "attrs": []})
        .to_string()
    };
    let rel = json!({"_class_name": "medkit.core.text.annotation.Relation", "uid": "r1",
                     "label": "r", "source_id": "e1", "target_id": "e3", "attrs": [],
                     "metadata": {}});
    let lines = [
        r#"{"version": "0.2", "content_type": "text_document_list"}"#.to_string(),
        doc("d1", vec![ent("a1", "patient", 3, 10)]),
        doc(
            "d2",
            vec![
                ent("e1", "fièvre", 24, 30),
                rel,
                ent("e3", "élevée", 31, 45),
                ent("e4", "présentes", 11, 19),
                ent("e5", "élevée", 31, 37),
            ],
        ),
    ];
    let p = dir.join("x.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn medkit_jsonl_on_error_error_or_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let input = bad_jsonl(tmp.path());
    assert_fails_cleanly(
        "medkit",
        &input,
        &["x.jsonl:3: anns[2] \"e3\": spans[0]: span 31-45 is not within the document text"],
    );
    let out = tmp.path().join("out.jsonl");
    let o = convert("medkit", "medkit", &input, &out, Some("skip"));
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for warning in [
        "x.jsonl:3: anns[2] \"e3\": spans[0]: span 31-45 is not within",
        "x.jsonl:3: anns[3] \"e4\": spans cover 8 characters but text \"présentes\" has 9",
        "x.jsonl:3: anns[1] \"r1\": relation points at annotation \"e3\", skipped as invalid",
    ] {
        assert!(t.contains(warning), "{t:?} should warn {warning:?}");
    }
    assert!(t.contains("3 annotations skipped as invalid"), "{t}");
    let docs = read_jsonl(&out);
    assert_eq!(docs.len(), 2);
    let uids: Vec<_> = docs[1]["anns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["e1", "e5"]);
    assert_offsets_match(&docs[1]);
    // a line that is not JSON stays an error with "skip", and nothing is written
    let mut s = std::fs::read_to_string(&input).unwrap();
    s.push_str("{not json\n");
    std::fs::write(&input, s).unwrap();
    let out = tmp.path().join("none.jsonl");
    let o = convert("medkit", "medkit", &input, &out, Some("skip"));
    assert!(!o.status.success());
    assert!(text(&o).contains("x.jsonl:4: invalid JSON"), "{}", text(&o));
    assert!(!out.exists());
}

#[test]
fn conll_on_error_skip_reads_a_bad_tag_as_o() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("x.conll");
    std::fs::write(&p, "Le\tO\nfièvre\tB-SIGN\n\ntoux\tX-SIGN\nsèche\tO\n").unwrap();
    assert_fails_cleanly("conll", &p, &["x.conll:4: \"X-SIGN\" is not an IOB2 tag"]);
    let out = tmp.path().join("out.jsonl");
    let o = convert("conll", "medkit", &p, &out, Some("skip"));
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains(
            "x.conll:4: \"X-SIGN\" is not an IOB2 tag (O, B-X, I-X) (token \"toux\" read as O)"
        ),
        "{t}"
    );
    assert!(t.contains("1 annotations skipped as invalid"), "{t}");
    let docs = read_jsonl(&out);
    assert_eq!(docs[1]["text"], "toux sèche");
    assert!(docs[1]["anns"].as_array().unwrap().is_empty());
}

#[test]
fn help_names_the_policy() {
    let t = text(&medkit(&["convert", "--help"]));
    assert!(
        t.contains("--on-error <ON_ERROR>") && t.contains("[default: error]"),
        "{t}"
    );
    assert!(t.contains("cannot be read at all"), "{t}");
}
