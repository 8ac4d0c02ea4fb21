//! Corpus I/O against files written by Python medkit 0.17 (tests/data/corpus, see make_fixtures.py).

use medkit_corpus::{brat, conll, medkit_json, overlaps, split};
use medkit_sdk::data::{Annotation, AnySpan, TextDocument};
use medkit_tests::corpus_data;
use std::path::Path;

fn read(p: &Path) -> Vec<TextDocument> {
    medkit_json::read_documents(p)
        .expect("open")
        .map(|d| d.expect("doc"))
        .collect()
}

/// What must match medkit's output when uids cannot: label, spans, text, metadata, attributes.
fn ents(d: &TextDocument) -> Vec<String> {
    d.entities()
        .map(|e| {
            let attrs: Vec<_> = e
                .attrs
                .iter()
                .map(|a| {
                    (
                        a.label.as_str(),
                        a.value.as_str(),
                        a.class_name.as_str(),
                        a.extra.as_str(),
                        a.metadata.as_str(),
                    )
                })
                .collect();
            format!(
                "{} {:?} {:?} {} {:?}",
                e.label, e.spans, e.text, e.metadata, attrs
            )
        })
        .collect()
}

fn file_name_meta(d: &TextDocument) -> String {
    let m: serde_json::Value = serde_json::from_str(&d.metadata).unwrap();
    let f = |k: &str| {
        m.get(k)
            .and_then(|v| v.as_str())
            .map(|p| p.rsplit('/').next().unwrap().to_string())
    };
    format!("{:?} {:?}", f("path_to_text"), f("path_to_ann"))
}

/// `mine` written with `theirs`' uids is `theirs`' line: same fields, same order (entity order
/// inside a sentence included, which medkit takes from a Python set).
fn assert_same_but_uids(mine: &TextDocument, theirs: &TextDocument) {
    use medkit_sdk::data::Attribute;
    let copy_attrs = |a: &mut [Attribute], b: &[Attribute]| {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter_mut().zip(b) {
            x.uid = y.uid.clone();
        }
    };
    let mut m = mine.clone();
    m.uid = theirs.uid.clone();
    copy_attrs(&mut m.attrs, &theirs.attrs);
    assert_eq!(m.anns.len(), theirs.anns.len(), "{:?}", theirs.text);
    let mut uid_map = std::collections::HashMap::new();
    for (a, b) in m.anns.iter_mut().zip(theirs.anns.iter()) {
        match (a, b) {
            (Annotation::Entity(x), Annotation::Entity(y))
            | (Annotation::Segment(x), Annotation::Segment(y)) => {
                uid_map.insert(x.uid.to_string(), y.uid.clone());
                x.uid = y.uid.clone();
                copy_attrs(&mut x.attrs, &y.attrs);
            }
            (Annotation::Relation(x), Annotation::Relation(y)) => {
                x.uid = y.uid.clone();
                x.source_id = uid_map[x.source_id.as_str()].clone();
                x.target_id = uid_map[x.target_id.as_str()].clone();
                copy_attrs(&mut x.attrs, &y.attrs);
            }
            _ => panic!("annotation kinds differ in {:?}", theirs.text),
        }
    }
    assert_eq!(
        medkit_json::document_to_json_line(&m).unwrap(),
        medkit_json::document_to_json_line(theirs).unwrap()
    );
}

#[test]
fn round_trip_is_byte_identical() {
    for f in [
        "rich.jsonl",
        "brat_expected.jsonl",
        "brat_filtered_expected.jsonl",
        "brat_sentences_expected.jsonl",
        "ncbi/test_full.jsonl",
        "ncbi/test_sentences.jsonl",
        "bc5cdr_full.jsonl",
        "bc5cdr_sentences.jsonl",
    ] {
        let src = corpus_data(f);
        let docs = read(&src);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out.jsonl");
        medkit_json::write_documents(&out, &docs).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(&src).unwrap(),
            "{f}"
        );
        // line API too
        let text = std::fs::read_to_string(&src).unwrap();
        for (line, doc) in text.lines().skip(1).zip(&docs) {
            assert_eq!(medkit_json::document_to_json_line(doc).unwrap(), line);
            assert_eq!(&medkit_json::document_from_json_line(line).unwrap(), doc);
        }
    }
}

#[test]
fn rich_document_keeps_every_field() {
    let docs = read(&corpus_data("rich.jsonl"));
    let d = &docs[0];
    assert!(d.text.starts_with("Le patient âgé"));
    assert!(d.metadata.contains(r#""big": 1e+16, "small": 1e-05"#));
    // what Python's json writes beyond strict JSON comes back too
    assert!(d
        .metadata
        .contains(r#""nan": NaN, "inf": -Infinity, "huge": 1000000000000000000000000000000"#));
    assert_eq!(d.attrs.len(), 1);
    assert_eq!(d.attrs[0].value.as_str(), r#"{"name": "HDM", "rank": 2}"#);
    let Annotation::Segment(sent) = &d.anns[0] else {
        panic!("segment first")
    };
    assert_eq!(sent.label.as_str(), "sentence");
    let fievre = d.entities().next().unwrap();
    // character offsets: "fièvre" after "âgé"
    assert_eq!(
        fievre.spans[0],
        AnySpan::Span(medkit_sdk::data::Span::new(21, 27))
    );
    let norm = &fievre.attrs[1];
    assert_eq!(
        norm.class_name.as_str(),
        "medkit.core.text.entity_norm_attribute.EntityNormAttribute"
    );
    assert_eq!(norm.label.as_str(), "NORMALIZATION");
    assert_eq!(norm.value.as_str(), "\"umls:C0015967\"");
    assert!(norm.extra.contains(r#""kb_id": "C0015967""#));
    let umls = &fievre.attrs[2];
    assert_eq!(umls.value.as_str(), "\"umls:C0015967\"");
    assert!(umls.extra.contains(r#""sem_types": ["T184"]"#));
    let emoji = d.entities().find(|e| e.label.as_str() == "emoji").unwrap();
    assert_eq!(
        emoji.spans[0],
        AnySpan::Span(medkit_sdk::data::Span::new(28, 29))
    );
    let modified = d.entities().find(|e| e.label.as_str() == "norm").unwrap();
    assert!(
        matches!(&modified.spans[0], AnySpan::Modified(m) if m.length == 5 && m.replaced_spans.len() == 1)
    );
    let rel = d
        .anns
        .iter()
        .find_map(|a| match a {
            Annotation::Relation(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(rel.source_id, fievre.uid);
    assert_eq!(rel.metadata.as_str(), r#"{"w": -0.0}"#);
    assert_eq!(docs[2].text.as_str(), "Ligne 1\r\nLigne 2 \u{2028} fin");
}

#[test]
fn brat_import_equals_medkit_converter() {
    let mine = brat::read_dir(&corpus_data("brat")).unwrap();
    let theirs = read(&corpus_data("brat_expected.jsonl"));
    assert_eq!(mine.len(), theirs.len());
    for (a, b) in mine.iter().zip(&theirs) {
        assert_eq!(file_name_meta(a), file_name_meta(b));
        let mut a = a.clone();
        a.metadata = b.metadata.clone(); // medkit's paths were made relative
        assert_same_but_uids(&a, b);
    }
    // the relation points at the right entities
    let d = &mine[0];
    let Some(Annotation::Relation(r)) =
        d.anns.iter().find(|a| matches!(a, Annotation::Relation(_)))
    else {
        panic!()
    };
    let label_of = |uid: &str| {
        d.entities()
            .find(|e| e.uid.as_str() == uid)
            .map(|e| e.text.to_string())
    };
    assert_eq!(label_of(&r.source_id).as_deref(), Some("Fièvre aiguë"));
    assert_eq!(label_of(&r.target_id).as_deref(), Some("toux sèche"));
}

#[test]
fn ncbi_brat_sample_equals_medkit_files() {
    let mut mine = brat::read_dir(&corpus_data("ncbi/brat")).unwrap();
    let theirs = read(&corpus_data("ncbi/test_full.jsonl"));
    let sentences = read(&corpus_data("ncbi/test_sentences.jsonl"));
    let mut my_sentences = Vec::new();
    for (a, b) in mine.iter_mut().zip(&theirs) {
        assert_eq!(overlaps::filter_overlapping_entities(a), 0);
        assert_eq!(a.text, b.text);
        assert_eq!(ents(a), ents(b));
        // the reference was made with TextDocument.from_file and its path rewritten
        a.metadata = b.metadata.clone();
        my_sentences.extend(split::split_sentences(a).0);
    }
    assert_eq!(my_sentences.len(), sentences.len());
    for (a, b) in my_sentences.iter().zip(&sentences) {
        assert_same_but_uids(a, b);
    }
}

#[test]
fn overlap_filter_equals_medkit() {
    let mut mine = brat::read_dir(&corpus_data("brat")).unwrap();
    let theirs = read(&corpus_data("brat_filtered_expected.jsonl"));
    let dropped: usize = mine
        .iter_mut()
        .map(overlaps::filter_overlapping_entities)
        .sum();
    // doc1: T1, T2 under the discontinuous T4 (0..20); doc2: T2, T3, T5, and T9 which only touches T8
    assert_eq!(dropped, 6);
    for (a, b) in mine.iter().zip(&theirs) {
        let mut a = a.clone();
        a.metadata = b.metadata.clone();
        assert_same_but_uids(&a, b);
    }
    assert!(mine[1].entities().all(|e| e.text.as_str() != "e"));
    // relations to a dropped entity go with it
    assert!(!mine[0]
        .anns
        .iter()
        .any(|a| matches!(a, Annotation::Relation(_))));
}

#[test]
fn sentence_split_equals_medkit() {
    for (full, sents, lost_expected) in [
        (
            "brat_filtered_expected.jsonl",
            "brat_sentences_expected.jsonl",
            1,
        ),
        ("bc5cdr_full.jsonl", "bc5cdr_sentences.jsonl", 2),
    ] {
        let mut lost = 0;
        let mut mine = Vec::new();
        for d in read(&corpus_data(full)) {
            let (parts, l) = split::split_sentences(&d);
            lost += l;
            mine.extend(parts);
        }
        let theirs = read(&corpus_data(sents));
        assert_eq!(lost, lost_expected, "{full}");
        assert_eq!(mine.len(), theirs.len(), "{full}");
        for (a, b) in mine.iter().zip(&theirs) {
            assert_same_but_uids(a, b);
        }
    }
}

#[test]
fn conll_to_documents() {
    let docs = conll::read(&corpus_data("sample.conll")).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(
        docs[0].text.as_str(),
        "Le patient présente une fièvre aiguë et une toux ."
    );
    let e: Vec<_> = docs[0]
        .entities()
        .map(|e| (e.label.to_string(), e.text.to_string(), e.spans[0].clone()))
        .collect();
    assert_eq!(
        e[0],
        (
            "SIGN".into(),
            "fièvre aiguë".into(),
            AnySpan::Span(medkit_sdk::data::Span::new(24, 36))
        )
    );
    assert_eq!(e[1].1, "toux");
    // an I- tag after another label starts a new entity
    let e: Vec<_> = docs[1]
        .entities()
        .map(|e| (e.label.to_string(), e.text.to_string()))
        .collect();
    assert_eq!(
        e,
        vec![
            ("SIGN".into(), "État stable".into()),
            ("DISO".into(), "céphalée".into()),
            ("SIGN".into(), "🤒".into())
        ]
    );
}

#[test]
fn brat_export_then_import_keeps_entities() {
    let docs = brat::read_dir(&corpus_data("brat")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(brat::write_dir(&out, &docs).unwrap(), 3);
    assert!(out.join("annotation.conf").exists());
    let ann = std::fs::read_to_string(out.join("doc1.ann")).unwrap();
    assert!(
        ann.contains("T4\tdisorder 0 6;16 20\tFièvre toux\n"),
        "{ann}"
    );
    assert!(ann.contains("#1\tAnnotatorNotes T1\tC0015967\n"), "{ann}");
    assert!(ann.contains("\tNegation T3\n"), "{ann}");
    let back = brat::read_dir(&out).unwrap();
    for (a, b) in docs.iter().zip(&back) {
        assert_eq!(a.text, b.text);
        let spans = |d: &TextDocument| {
            d.entities()
                .map(|e| (e.label.to_string(), e.spans.to_vec(), e.text.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(spans(a), spans(b));
    }
    // a non-empty output folder is refused
    assert!(brat::write_dir(&out, &docs).is_err());
}

#[test]
fn unfinished_writer_leaves_nothing() {
    let docs = read(&corpus_data("rich.jsonl"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.jsonl");
    {
        let mut w = medkit_json::DocumentWriter::create(&out).unwrap();
        w.write(&docs[0]).unwrap();
        // a document whose metadata is not JSON cannot be written; the error names the file
        let mut bad = docs[1].clone();
        bad.metadata = "{not json".into();
        let e = w.write(&bad).unwrap_err().to_string();
        assert!(e.contains("out.jsonl") && e.contains("document 2"), "{e}");
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    let mut w = medkit_json::DocumentWriter::create(&out).unwrap();
    w.write(&docs[0]).unwrap();
    w.finish().unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
}

/// Truncated and mangled input gives errors, never a panic.
#[test]
fn mangled_input_never_panics() {
    let text = std::fs::read_to_string(corpus_data("rich.jsonl")).unwrap();
    let line = text.lines().nth(1).unwrap();
    let cuts: Vec<usize> = line.char_indices().map(|(i, _)| i).collect();
    for &i in &cuts {
        assert!(medkit_json::document_from_json_line(&line[..i]).is_err());
    }
    for (from, to) in [
        ("21", "-1"),
        ("21", "2.5"),
        ("27", "99999999999999999999999"),
        ("[]", "{}"),
        ("\"", "'"),
        ("{}", "[]"),
        ("null", "{}"),
    ] {
        let _ = medkit_json::document_from_json_line(&line.replacen(from, to, 1));
        let _ = medkit_json::document_from_json_line(&line.replace(from, to));
    }
    let ann = std::fs::read_to_string(corpus_data("brat/doc1.ann")).unwrap();
    let txt = std::fs::read_to_string(corpus_data("brat/doc1.txt")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("d.txt"), &txt).unwrap();
    for (i, _) in ann.char_indices() {
        for mangled in [
            ann[..i].to_string(),
            format!("{}\t{}", &ann[..i], &ann[i..]),
            format!("{} {}", &ann[..i], &ann[i..]),
        ] {
            std::fs::write(tmp.path().join("d.ann"), mangled).unwrap();
            let _ = brat::read_dir(tmp.path());
        }
    }
}

/// Our BRAT export is byte-identical to medkit's BratOutputConverter (make_fixtures.py).
#[test]
fn brat_export_equals_medkit_converter() {
    for (src, expected) in [
        ("brat_expected.jsonl", "brat_export_expected"),
        ("rich.jsonl", "brat_export_rich_expected"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        brat::write_dir(&out, &read(&corpus_data(src))).unwrap();
        let mut n = 0;
        for f in std::fs::read_dir(corpus_data(expected)).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap();
            assert_eq!(
                std::fs::read_to_string(out.join(name)).unwrap(),
                std::fs::read_to_string(&f).unwrap(),
                "{expected}/{name:?}"
            );
            n += 1;
        }
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), n);
    }
}

/// Random nested and discontinuous entities (make_fixtures.py): overlap filtering and sentence
/// splitting give medkit's lines, entity order included.
#[test]
fn random_overlaps_filter_and_split_as_medkit() {
    let full = read(&corpus_data("overlap_full.jsonl"));
    let filtered = read(&corpus_data("overlap_filtered_expected.jsonl"));
    let sentences = read(&corpus_data("overlap_sentences_expected.jsonl"));
    let mut my_sentences = Vec::new();
    let mut lost = 0;
    for (d, f) in full.iter().zip(&filtered) {
        let mut mine = d.clone();
        let dropped = overlaps::filter_overlapping_entities(&mut mine);
        assert_eq!(dropped, d.entities().count() - f.entities().count());
        assert_same_but_uids(&mine, f);
        let (parts, l) = split::split_sentences(d);
        lost += l;
        my_sentences.extend(parts);
    }
    assert_eq!(my_sentences.len(), sentences.len());
    let kept: usize = sentences.iter().map(|d| d.entities().count()).sum();
    let all: usize = full.iter().map(|d| d.entities().count()).sum();
    assert_eq!(lost, all - kept);
    for (a, b) in my_sentences.iter().zip(&sentences) {
        assert_same_but_uids(a, b);
    }
}

#[test]
fn single_annotations_decode_and_entities_encode_as_medkit_writes_them() {
    // a segment as medkit's Segment.to_dict + json.dumps write it (what medkit_rs sends over)
    let seg = r#"{"uid": "s1", "label": "sentence", "text": "Noël a une fièvre", "spans": [{"start": 10, "end": 27, "_class_name": "medkit.core.text.span.Span"}], "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Segment"}"#;
    let s = medkit_json::segment_from_json(seg).unwrap();
    assert_eq!(medkit_json::segment_to_json(&s).unwrap(), seg);
    assert_eq!(
        (s.label.as_str(), s.text.as_str()),
        ("sentence", "Noël a une fièvre")
    );
    assert!(matches!(&s.spans[0], AnySpan::Span(x) if (x.start, x.end) == (10, 27)));
    // an entity written back is the line medkit writes for it
    let ent = seg
        .replace("annotation.Segment", "annotation.Entity")
        .replace("\"sentence\"", "\"problem\"");
    let e = medkit_json::segment_from_json(&ent).unwrap();
    assert_eq!(medkit_json::entity_to_json(&e).unwrap(), ent);

    // spans that do not cover the text, a relation, broken JSON: errors saying what is wrong
    let short = seg.replace("\"end\": 27", "\"end\": 20");
    let e = medkit_json::segment_from_json(&short)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spans cover 10 characters") && e.contains("17"),
        "{e}"
    );
    let rel = r#"{"uid": "r", "label": "x", "source_id": "a", "target_id": "b", "attrs": [], "metadata": {}, "_class_name": "medkit.core.text.annotation.Relation"}"#;
    let e = medkit_json::segment_from_json(rel).unwrap_err().to_string();
    assert!(e.contains("Relation"), "{e}");
    let e = medkit_json::segment_from_json("{").unwrap_err().to_string();
    assert!(e.contains("invalid JSON"), "{e}");
}
