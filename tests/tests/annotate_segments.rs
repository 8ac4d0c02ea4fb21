//! Annotation on segments, as medkit runs an operation on the segments another made: the
//! `sentence-tokenizer` segmentation operation, `medkit annotate --segments/--segmentation`,
//! `[annotate] segments` / `[annotate.segmentation]`, and the matcher's `attrs_to_copy`.
//! The model is the tiny random BERT fixture (label `x`): its entities are arbitrary, which is
//! all these tests need — where they fall and what they carry.

use medkit_tests::*;
use serde_json::Value;

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
    let input = test_data("corpus/ncbi/test_full.jsonl");
    let out = dir.path().join("out.jsonl");
    let o = annotate_tiny(
        &input,
        &out,
        &[
            "--drop-existing-entities",
            "--segments",
            "sentence",
            "--segmentation",
            "sentence-tokenizer",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let docs = jsonl_docs(&out);
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
    let doc1 = text_document(
        "d1",
        d1,
        serde_json::json!([
            seg("s1", 0, 36, "antécédents"),
            seg("s2", 38, 73, "traitement")
        ]),
    );
    let doc2 = text_document("d2", d2, serde_json::json!([]));
    let input = write_jsonl(
        &dir.path().join("in.jsonl"),
        &[doc1.to_string(), doc2.to_string()],
    );
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
            model = tiny_bert().display()
        ),
    )
    .unwrap();
    let o = run_pipeline(&cfg, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let docs = jsonl_docs(&out);

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
    let o = annotate_tiny(
        &test_data("e2e/validation.jsonl"),
        &out,
        &["--drop-existing-entities", "--segments", "sentence"],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("had no 'sentence' segment and got no entity"),
        "{t}"
    );
    for d in jsonl_docs(&out) {
        assert!(anns(&d, ".Entity").is_empty());
    }
}

#[test]
fn bad_segmentation_settings_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = test_data("e2e/validation.jsonl");
    let out = dir.path().join("out.jsonl");
    let run = |extra: &[&str]| annotate_tiny(&input, &out, extra);
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
            tiny_bert().display()
        ),
    )
    .unwrap();
    let o = run_pipeline(&cfg, &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("'annotate.segmentation' needs 'annotate.segments'"));
    assert!(!out.exists());
}
