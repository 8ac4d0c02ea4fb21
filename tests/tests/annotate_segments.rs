//! Annotation on segments, as medkit runs an operation on the segments another made: the
//! `sentence-tokenizer` segmentation operation, `medkit annotate --segments/--segmentation`,
//! `[annotate] segments` / `[annotate.segmentation]`, and the matcher's `attrs_to_copy`.
//! The model is the tiny random BERT fixture (label `x`): its entities are arbitrary, which is
//! all these tests need — where they fall and what they carry.

use medkit_tests::*;
use serde_json::Value;
use std::path::Path;

fn tiny_model() -> String {
    root()
        .join("plugins/hf-matcher/tests/fixtures/tiny_bert")
        .display()
        .to_string()
}

fn read_docs(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn anns<'a>(doc: &'a Value, class: &str) -> Vec<&'a Value> {
    doc["anns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["_class_name"].as_str().unwrap().ends_with(class))
        .collect()
}

/// (start, end) of each span of an annotation (plain spans only here).
fn spans(a: &Value) -> Vec<(usize, usize)> {
    a["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["start"].as_u64().unwrap() as usize,
                s["end"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

fn chars(text: &str, (s, e): (usize, usize)) -> String {
    text.chars().skip(s).take(e - s).collect()
}

/// Every entity's text is the document's text at its spans (character offsets), and its spans
/// lie inside one segment of `label`; returns the number of entities.
fn check_entities_in_segments(doc: &Value, label: &str) -> usize {
    let text = doc["text"].as_str().unwrap();
    let segments: Vec<(usize, usize)> = anns(doc, ".Segment")
        .into_iter()
        .filter(|s| s["label"] == label)
        .flat_map(spans)
        .collect();
    let entities = anns(doc, ".Entity");
    for e in &entities {
        let sp = spans(e);
        let joined: String = sp.iter().map(|&r| chars(text, r)).collect();
        assert_eq!(e["text"].as_str().unwrap(), joined, "entity {e}");
        let (s, end) = (sp[0].0, sp[sp.len() - 1].1);
        assert!(
            segments.iter().any(|&(a, b)| a <= s && end <= b),
            "entity {e} is in no '{label}' segment {segments:?}"
        );
    }
    entities.len()
}

#[test]
fn cli_segments_made_by_the_sentence_tokenizer_on_whole_ncbi_documents() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/data/corpus/ncbi/test_full.jsonl");
    let out = dir.path().join("out.jsonl");
    let o = medkit(&[
        "annotate",
        "--model",
        &tiny_model(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--drop-existing-entities",
        "--segments",
        "sentence",
        "--segmentation",
        "sentence-tokenizer",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let docs = read_docs(&out);
    assert_eq!(docs.len(), 3);
    let mut total = 0;
    for doc in &docs {
        let text = doc["text"].as_str().unwrap();
        let sentences: Vec<&Value> = anns(doc, ".Segment")
            .into_iter()
            .filter(|s| s["label"] == "sentence")
            .collect();
        // a whole abstract has several sentences; each is the document's text at its span
        assert!(sentences.len() > 3, "{}", doc["uid"]);
        for s in &sentences {
            assert_eq!(s["text"].as_str().unwrap(), chars(text, spans(s)[0]));
            // medkit's default keep_punct=False: no sentence ends with its period
            assert!(!s["text"].as_str().unwrap().ends_with('.'), "{s}");
        }
        total += check_entities_in_segments(doc, "sentence");
    }
    assert!(total > 0, "the tiny model found no entity at all");
}

#[test]
fn pipeline_segments_from_the_input_copy_their_attributes_to_entities() {
    let dir = tempfile::tempdir().unwrap();
    // One document with its own "sentence" segments carrying a "section" attribute, one without
    // (the segmentation operation makes them, with the cookbook's punct_chars).
    let d1 = "Antécédents : hépatite aiguë traitée. Traitement : paracétamol, 1 g à J2.";
    let d2 = "Fièvre élevée chez l'enfant ? Toux sèche depuis 3 jours ! Pas de dyspnée. Évolution favorable.";
    let seg = |uid: &str, s: usize, e: usize, section: &str| {
        serde_json::json!({
            "uid": uid, "label": "sentence", "text": chars(d1, (s, e)),
            "spans": [{"start": s, "end": e, "_class_name": "medkit.core.text.span.Span"}],
            "attrs": [{"uid": format!("a-{uid}"), "label": "section", "value": section,
                       "metadata": {}, "_class_name": "medkit.core.attribute.Attribute"}],
            "metadata": {}, "_class_name": "medkit.core.text.annotation.Segment"})
    };
    let doc1 = serde_json::json!({"uid": "d1", "text": d1, "metadata": {},
        "anns": [seg("s1", 0, 36, "antécédents"), seg("s2", 38, 73, "traitement")],
        "_class_name": "medkit.core.text.document.TextDocument"});
    let doc2 = serde_json::json!({"uid": "d2", "text": d2, "metadata": {}, "anns": [],
        "_class_name": "medkit.core.text.document.TextDocument"});
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        format!(
            "{{\"version\": \"0.2\", \"content_type\": \"text_document_list\"}}\n{doc1}\n{doc2}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out.jsonl");
    let cfg = dir.path().join("p.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[annotate]
input = "{input}"
output = "{out}"
segments = "sentence"

[annotate.segmentation]
operation = "sentence-tokenizer"
punct_chars = ["?", "!"]

[annotate.matcher]
operation = "hf-entity-matcher"
model = "{model}"
attrs_to_copy = ["section"]
"#,
            input = input.display(),
            out = out.display(),
            model = tiny_model()
        ),
    )
    .unwrap();
    let o = medkit(&["run", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let docs = read_docs(&out);

    // d1: its two segments were used as they are (no new ones), and each entity carries a copy
    // of its segment's section attribute (new uid) next to its score
    let d = &docs[0];
    assert_eq!(anns(d, ".Segment").len(), 2);
    assert!(check_entities_in_segments(d, "sentence") > 0);
    for e in anns(d, ".Entity") {
        let start = spans(e)[0].0;
        let want = if start < 36 {
            "antécédents"
        } else {
            "traitement"
        };
        let attrs = e["attrs"].as_array().unwrap();
        let labels: Vec<&str> = attrs.iter().map(|a| a["label"].as_str().unwrap()).collect();
        assert_eq!(labels, vec!["section", "score"], "{e}");
        assert_eq!(attrs[0]["value"], want);
        assert!(!attrs[0]["uid"].as_str().unwrap().starts_with("a-s"));
        assert_eq!(attrs[1]["_class_name"], "medkit.core.attribute.Attribute");
    }

    // d2: sentences cut at ? and ! only (a period does not end one), kept in the output
    let d = &docs[1];
    let texts: Vec<&str> = anns(d, ".Segment")
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        vec![
            "Fièvre élevée chez l'enfant ",
            "Toux sèche depuis 3 jours ",
            "Pas de dyspnée. Évolution favorable."
        ]
    );
    check_entities_in_segments(d, "sentence");
    for e in anns(d, ".Entity") {
        let labels: Vec<&str> = e["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels, vec!["score"], "no section to copy: {e}");
    }
}

#[test]
fn documents_without_the_segments_get_no_entity_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let o = medkit(&[
        "annotate",
        "--model",
        &tiny_model(),
        "--input",
        root()
            .join("tests/data/e2e/validation.jsonl")
            .to_str()
            .unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--drop-existing-entities",
        "--segments",
        "sentence",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("had no 'sentence' segment and got no entity"),
        "{t}"
    );
    for d in read_docs(&out) {
        assert!(anns(&d, ".Entity").is_empty());
    }
}

#[test]
fn bad_segmentation_settings_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/data/e2e/validation.jsonl");
    let out = dir.path().join("out.jsonl");
    let base = [
        "annotate",
        "--model",
        &tiny_model(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let run = |extra: &[&str]| {
        let mut args = base.clone();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        medkit(&args)
    };
    let o = run(&[
        "--segments",
        "sentence",
        "--segmentation",
        "sentence-tokenizer",
        "--segmentation-opt",
        "punct_char=[\"?\"]",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("unknown field `punct_char`"),
        "{}",
        text(&o)
    );
    let o = run(&["--segments", "sentence", "--segmentation", "no-such-op"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no segmentation operation named 'no-such-op'"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "--segments",
        "sentences",
        "--segmentation",
        "sentence-tokenizer",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains(
            "made segments labelled sentence but the segments to annotate are labelled 'sentences'"
        ),
        "{}",
        text(&o)
    );
    let o = run(&[
        "--segments",
        "RAW_TEXT",
        "--segmentation",
        "sentence-tokenizer",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("a segmentation operation is set"),
        "{}",
        text(&o)
    );
    let o = run(&["--segmentation", "sentence-tokenizer"]);
    assert!(!o.status.success(), "--segmentation needs --segments");
    assert!(!out.exists(), "nothing written on a bad command line");

    let cfg = dir.path().join("p.toml");
    std::fs::write(
        &cfg,
        format!(
            "[annotate]\ninput = \"{}\"\noutput = \"{}\"\n[annotate.segmentation]\noperation = \"sentence-tokenizer\"\n[annotate.matcher]\noperation = \"hf-entity-matcher\"\nmodel = \"{}\"\n",
            input.display(),
            out.display(),
            tiny_model()
        ),
    )
    .unwrap();
    let o = medkit(&["run", cfg.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("'annotate.segmentation' needs 'annotate.segments'"));
    assert!(!out.exists());
}
