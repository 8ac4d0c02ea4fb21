//! BRAT folder -> TextDocuments, as `BratInputConverter().load(dir)`.

use super::parse::{find_cuis, parse_ann, BratEntity};
use crate::{new_uid, pyjson, CorpusError, InvalidAnnotations};
use medkit_sdk::data::{
    Annotation, AnySpan, Attribute, ModifiedSpan, Relation, Segment, Span, TextDocument,
};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

const UMLS_CLASS: &str = "medkit.core.text.umls_norm_attribute.UMLSNormAttribute";

/// Reads every `<name>.txt` (with its `<name>.ann` when there is one) of `dir`, sorted by name.
/// A `.ann` without its `.txt` is an error (medkit skips it with a warning). An annotation that
/// cannot be built is an error naming file:line and id.
pub fn read_dir(dir: &Path) -> Result<Vec<TextDocument>, CorpusError> {
    read_dir_with(dir, &InvalidAnnotations::default())
}

/// As [`read_dir`], annotations that cannot be built handed to `invalid` (an error, or skipped
/// with a warning and a count). Unreadable files stay errors.
pub fn read_dir_with(
    dir: &Path,
    invalid: &InvalidAnnotations,
) -> Result<Vec<TextDocument>, CorpusError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CorpusError::io(dir, e))?;
    let mut stems = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| CorpusError::io(dir, e))?;
        let p = entry.path();
        let ext = p.extension().and_then(|e| e.to_str());
        if matches!(ext, Some("txt") | Some("ann")) {
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| CorpusError::file(&p, "file name is not valid UTF-8"))?;
            stems.insert(stem.to_string());
        }
    }
    let root = dir.canonicalize().map_err(|e| CorpusError::io(dir, e))?;
    let mut docs = Vec::with_capacity(stems.len());
    for stem in stems {
        let txt = dir.join(format!("{stem}.txt"));
        let ann = dir.join(format!("{stem}.ann"));
        for p in [&txt, &ann] {
            inside(&root, p)?;
        }
        if !txt.exists() {
            return Err(CorpusError::file(
                &ann,
                format!("no matching text file {}", txt.display()),
            ));
        }
        docs.push(load_doc_with(
            &txt,
            ann.exists().then_some(ann.as_path()),
            invalid,
        )?);
    }
    if docs.is_empty() {
        log::warn!("no BRAT document (.txt) in {}", dir.display());
    }
    Ok(docs)
}

/// Refuses a file that resolves outside the corpus folder (e.g. a symlink to elsewhere).
fn inside(root: &Path, p: &Path) -> Result<(), CorpusError> {
    if let Ok(real) = p.canonicalize() {
        if !real.starts_with(root) {
            return Err(CorpusError::file(
                p,
                format!(
                    "resolves to {}, outside the corpus folder {}",
                    real.display(),
                    root.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Text as Python's text mode reads it (universal newlines: `\r\n` and `\r` become `\n`).
fn read_text(path: &Path) -> Result<String, CorpusError> {
    let bytes = std::fs::read(path).map_err(|e| CorpusError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let line = b[..at].iter().filter(|c| **c == b'\n').count() + 1;
        CorpusError::line(path, line, format!("invalid UTF-8 (byte offset {at})"))
    })?;
    Ok(if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    })
}

fn meta(pairs: &[(&str, &Path)]) -> String {
    let mut m = serde_json::Map::new();
    for (k, p) in pairs {
        m.insert(k.to_string(), Value::String(p.display().to_string()));
    }
    pyjson::to_string(&Value::Object(m))
}

/// One document: `metadata = {"path_to_text", "path_to_ann"}` (only path_to_text without .ann).
pub fn load_doc(txt: &Path, ann: Option<&Path>) -> Result<TextDocument, CorpusError> {
    load_doc_with(txt, ann, &InvalidAnnotations::default())
}

/// As [`load_doc`], annotations that cannot be built handed to `invalid`.
pub fn load_doc_with(
    txt: &Path,
    ann: Option<&Path>,
    invalid: &InvalidAnnotations,
) -> Result<TextDocument, CorpusError> {
    let text = read_text(txt)?;
    let Some(ann) = ann else {
        return Ok(doc(text, meta(&[("path_to_text", txt)]), Vec::new()));
    };
    let anns = load_annotations(ann, &text, invalid)?;
    Ok(doc(
        text,
        meta(&[("path_to_text", txt), ("path_to_ann", ann)]),
        anns,
    ))
}

fn doc(text: String, metadata: String, anns: Vec<Annotation>) -> TextDocument {
    TextDocument {
        uid: new_uid().into(),
        text: text.into(),
        metadata: metadata.into(),
        anns: anns.into(),
        attrs: Default::default(),
    }
}

fn brat_id_meta(id: &str) -> String {
    pyjson::to_string(&json!({ "brat_id": id }))
}

/// `BratInputConverter.load_annotations`: entities, then relations, then attributes and notes
/// attached to their targets. Offsets are checked against `text` (medkit does not check them);
/// an annotation that cannot be built (or points at one that was not) goes to `invalid`.
fn load_annotations(
    path: &Path,
    text: &str,
    invalid: &InvalidAnnotations,
) -> Result<Vec<Annotation>, CorpusError> {
    let parsed = parse_ann(path, &read_text(path)?, invalid)?;
    let n_chars = text.chars().count() as u64;
    let mut anns: Vec<Annotation> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    // ids of annotations skipped as invalid, to say so when something points at them
    let mut skipped: HashSet<&str> = HashSet::new();
    for e in &parsed.entities {
        match entity(e, n_chars) {
            Ok(seg) => {
                by_id.insert(e.id.clone(), anns.len());
                anns.push(Annotation::Entity(seg));
            }
            Err(why) => {
                invalid.handle(path, e.line, &e.id, why)?;
                skipped.insert(&e.id);
            }
        }
    }
    let missing = |skipped: &HashSet<&str>, id: &str| {
        if skipped.contains(id) {
            format!("annotation {id} was skipped as invalid")
        } else {
            format!("unknown annotation {id}")
        }
    };
    let uid_of = |anns: &[Annotation], i: usize| match &anns[i] {
        Annotation::Entity(s) | Annotation::Segment(s) => s.uid.clone(),
        Annotation::Relation(r) => r.uid.clone(),
    };
    for r in &parsed.relations {
        let (s, t) = match (by_id.get(&r.subj), by_id.get(&r.obj)) {
            (Some(&s), Some(&t)) => (s, t),
            (s, _) => {
                let id = if s.is_none() { &r.subj } else { &r.obj };
                invalid.handle(path, r.line, &r.id, missing(&skipped, id))?;
                skipped.insert(&r.id);
                continue;
            }
        };
        let rel = Relation {
            uid: new_uid().into(),
            label: r.label.as_str().into(),
            source_id: uid_of(&anns, s),
            target_id: uid_of(&anns, t),
            attrs: Default::default(),
            metadata: brat_id_meta(&r.id).into(),
        };
        by_id.insert(r.id.clone(), anns.len());
        anns.push(Annotation::Relation(rel));
    }
    let mut attach = |id: &str, target: &str, line: usize, a: Attribute| {
        let Some(&i) = by_id.get(target) else {
            return invalid.handle(path, line, id, missing(&skipped, target));
        };
        match &mut anns[i] {
            Annotation::Entity(s) | Annotation::Segment(s) => s.attrs.push(a),
            Annotation::Relation(r) => r.attrs.push(a),
        }
        Ok(())
    };
    for a in &parsed.attributes {
        let value = a
            .value
            .as_ref()
            .map_or(Value::Null, |v| Value::String(v.clone()));
        attach(
            &a.id,
            &a.target,
            a.line,
            plain_attr(&a.label, &value, &brat_id_meta(&a.id)),
        )?;
    }
    for n in &parsed.notes {
        let cuis = find_cuis(&n.value);
        if cuis.is_empty() {
            attach(
                &n.id,
                &n.target,
                n.line,
                plain_attr("brat_note", &Value::String(n.value.clone()), "{}"),
            )?;
        } else if !by_id.contains_key(&n.target) {
            // one note, one skip (not one per CUI)
            attach(&n.id, &n.target, n.line, umls_attr(&cuis[0]))?;
        } else {
            for cui in cuis {
                attach(&n.id, &n.target, n.line, umls_attr(&cui))?;
            }
        }
    }
    Ok(anns)
}

/// One entity, its spans checked against the text (`n_chars` characters) and its text's length.
fn entity(e: &BratEntity, n_chars: u64) -> Result<Segment, String> {
    let mut spans = Vec::new();
    for &(s, t) in &e.spans {
        if s > t || t > n_chars {
            return Err(format!(
                "span {s}-{t} is outside the text ({n_chars} characters)"
            ));
        }
        if !spans.is_empty() {
            // BRAT joins fragments with one space
            spans.push(AnySpan::Modified(ModifiedSpan {
                length: 1,
                replaced_spans: Default::default(),
            }));
        }
        spans.push(AnySpan::Span(Span::new(s, t)));
    }
    let len = spans.iter().fold(0u64, |t, s| t.saturating_add(s.length())); // never wraps to a match
    let text_len = e.text.chars().count() as u64;
    if len != text_len {
        return Err(format!(
            "spans cover {len} characters but the text {:?} has {text_len}",
            e.text
        ));
    }
    Ok(Segment {
        uid: new_uid().into(),
        label: e.label.as_str().into(),
        spans: spans.into(),
        text: e.text.as_str().into(),
        attrs: Default::default(),
        metadata: brat_id_meta(&e.id).into(),
    })
}

fn plain_attr(label: &str, value: &Value, metadata: &str) -> Attribute {
    Attribute {
        uid: new_uid().into(),
        label: label.into(),
        value: pyjson::to_string(value).into(),
        metadata: metadata.into(),
        class_name: crate::medkit_json::ATTRIBUTE_CLASS.into(),
        extra: "{}".into(),
    }
}

/// `UMLSNormAttribute(cui=cui, umls_version=None)`.
fn umls_attr(cui: &str) -> Attribute {
    let extra =
        json!({"cui": cui, "umls_version": null, "term": null, "score": null, "sem_types": null});
    Attribute {
        uid: new_uid().into(),
        label: "NORMALIZATION".into(),
        value: pyjson::to_string(&Value::String(format!("umls:{cui}"))).into(),
        metadata: "{}".into(),
        class_name: UMLS_CLASS.into(),
        extra: pyjson::to_string(&extra).into(),
    }
}
