//! One JSON line -> TextDocument, with errors that say which field is wrong.

use super::*;
use crate::pyvalue::{self, PyValue};
use crate::CorpusError;
use medkit_sdk::data::{
    Annotation, AnySpan, Attribute, ModifiedSpan, Relation, Segment, Span, TextDocument,
};
use std::collections::HashSet;

type Obj = [(String, PyValue)];

fn get<'a>(o: &'a Obj, key: &str) -> Option<&'a PyValue> {
    o.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Parses one line of a medkit JSONL file (without its newline). The error says what is wrong
/// and where in the document (`anns[3].spans[0].start: ...`); the reader adds file and line.
pub fn document_from_json_line(line: &str) -> Result<TextDocument, CorpusError> {
    let v = pyvalue::parse(line).map_err(|e| CorpusError::Data(format!("invalid JSON: {e}")))?;
    document_from_value(&v, false)
        .map(|(doc, _)| doc)
        .map_err(CorpusError::Data)
}

/// Parses one annotation object, a medkit Segment or Entity as `to_dict` writes it (for
/// annotations that travel without their document, e.g. the segments given to an operation).
/// Its spans are not checked against a document text, only against its own text's length.
pub fn segment_from_json(text: &str) -> Result<Segment, CorpusError> {
    let v = pyvalue::parse(text).map_err(|e| CorpusError::Data(format!("invalid JSON: {e}")))?;
    let (ann, why) = annotation(&v, "annotation", u64::MAX).map_err(CorpusError::Data)?;
    if let Some(why) = why {
        return Err(CorpusError::Data(why));
    }
    match ann {
        Annotation::Segment(s) | Annotation::Entity(s) => Ok(s),
        Annotation::Relation(_) => Err(CorpusError::Data(
            "expected a Segment or an Entity, got a Relation".into(),
        )),
    }
}

/// An annotation that cannot be built: its id (`anns[i] "uid"`) and why.
pub(crate) type Invalid = (String, String);

/// The document, and with `skip` the annotations dropped because they cannot be built (a span
/// outside the text or reversed, spans whose length is not the text's; relations pointing at
/// those). Without `skip` the first of those is the error `anns[i] "uid": why`. Anything else
/// wrong (not JSON, a missing field, a wrong type) is an error either way.
pub(crate) fn document_from_value(
    v: &PyValue,
    skip: bool,
) -> Result<(TextDocument, Vec<Invalid>), String> {
    let o = as_obj(v, "document")?;
    class(o, "document", &[DOC_CLASS])?;
    let uid = string(o, "uid", "document")?;
    let text = string(o, "text", "document")?;
    let metadata = metadata(o, "document")?;
    let n_chars = text.chars().count() as u64;
    let mut anns = Vec::new();
    let mut seen = HashSet::new();
    let mut invalid: Vec<Invalid> = Vec::new();
    let mut skipped_uids: HashSet<String> = HashSet::new();
    if let Some(a) = get(o, "anns") {
        let list = a.as_list().ok_or("anns: expected a list")?;
        for (i, a) in list.iter().enumerate() {
            let ctx = format!("anns[{i}]");
            let (ann, why) = annotation(a, &ctx, n_chars)?;
            let ann_uid = match &ann {
                Annotation::Segment(s) | Annotation::Entity(s) => s.uid.as_str(),
                Annotation::Relation(r) => r.uid.as_str(),
            };
            if !seen.insert(ann_uid.to_string()) {
                return Err(format!("{ctx}: duplicate annotation uid {ann_uid:?}"));
            }
            match why {
                None => anns.push((i, ann)),
                Some(why) if skip => {
                    invalid.push((format!("{ctx} {ann_uid:?}"), why));
                    skipped_uids.insert(ann_uid.to_string());
                }
                Some(why) => return Err(format!("{ctx} {ann_uid:?}: {why}")),
            }
        }
    }
    if !skipped_uids.is_empty() {
        // relations whose source or target was skipped go too
        anns.retain(|(i, a)| {
            let Annotation::Relation(r) = a else {
                return true;
            };
            let Some(gone) = [&r.source_id, &r.target_id]
                .into_iter()
                .find(|id| skipped_uids.contains(id.as_str()))
            else {
                return true;
            };
            invalid.push((
                format!("anns[{i}] {:?}", r.uid.as_str()),
                format!(
                    "relation points at annotation {:?}, skipped as invalid",
                    gone.as_str()
                ),
            ));
            false
        });
    }
    let anns: Vec<Annotation> = anns.into_iter().map(|(_, a)| a).collect();
    let attrs = match get(o, "attrs") {
        Some(a) => attributes(a, "attrs")?,
        None => Vec::new(),
    };
    let doc = TextDocument {
        uid: uid.into(),
        text: text.into(),
        metadata: metadata.into(),
        anns: anns.into(),
        attrs: attrs.into(),
    };
    Ok((doc, invalid))
}

/// The annotation, and why it cannot be built when it cannot (checked after its fields are read,
/// so that a wrong field type is an error first).
fn annotation(
    v: &PyValue,
    ctx: &str,
    n_chars: u64,
) -> Result<(Annotation, Option<String>), String> {
    let o = as_obj(v, ctx)?;
    let cls = class(o, ctx, &[SEGMENT_CLASS, ENTITY_CLASS, RELATION_CLASS])?;
    let uid = string(o, "uid", ctx)?.to_string();
    let label = string(o, "label", ctx)?.to_string();
    let attrs = attributes(field(o, "attrs", ctx)?, &format!("{ctx}.attrs"))?;
    let metadata = metadata(o, ctx)?;
    if cls == RELATION_CLASS {
        let rel = Annotation::Relation(Relation {
            uid: uid.into(),
            label: label.into(),
            source_id: string(o, "source_id", ctx)?.into(),
            target_id: string(o, "target_id", ctx)?.into(),
            attrs: attrs.into(),
            metadata: metadata.into(),
        });
        return Ok((rel, None));
    }
    let text = string(o, "text", ctx)?;
    let list = field(o, "spans", ctx)?
        .as_list()
        .ok_or_else(|| format!("{ctx}.spans: expected a list"))?;
    let mut spans = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        spans.push(any_span(s, &format!("{ctx}.spans[{i}]"))?);
    }
    let mut why = out_of_text(&spans, n_chars);
    // medkit's Segment.__init__ asserts this too
    let len = spans.iter().fold(0u64, |t, s| t.saturating_add(s.length())); // never wraps to a match
    let text_len = text.chars().count() as u64;
    if why.is_none() && len != text_len {
        why = Some(format!(
            "spans cover {len} characters but text {text:?} has {text_len}"
        ));
    }
    let seg = Segment {
        uid: uid.into(),
        label: label.into(),
        spans: spans.into(),
        text: text.into(),
        attrs: attrs.into(),
        metadata: metadata.into(),
    };
    let ann = if cls == ENTITY_CLASS {
        Annotation::Entity(seg)
    } else {
        Annotation::Segment(seg)
    };
    Ok((ann, why))
}

/// `spans[i]: span S-E is not within the document text (N characters)` for the first span (or
/// replaced span) reversed or past the end of the text.
fn out_of_text(spans: &[AnySpan], n_chars: u64) -> Option<String> {
    let bad = |s: &Span| s.start > s.end || s.end > n_chars;
    let msg = |at: String, s: &Span| {
        format!(
            "{at}: span {}-{} is not within the document text ({n_chars} characters)",
            s.start, s.end
        )
    };
    for (i, s) in spans.iter().enumerate() {
        match s {
            AnySpan::Span(s) if bad(s) => return Some(msg(format!("spans[{i}]"), s)),
            AnySpan::Span(_) => {}
            AnySpan::Modified(m) => {
                for (k, r) in m.replaced_spans.iter().enumerate() {
                    if bad(r) {
                        return Some(msg(format!("spans[{i}].replaced_spans[{k}]"), r));
                    }
                }
            }
        }
    }
    None
}

fn any_span(v: &PyValue, ctx: &str) -> Result<AnySpan, String> {
    let o = as_obj(v, ctx)?;
    if class(o, ctx, &[SPAN_CLASS, MODIFIED_SPAN_CLASS])? == SPAN_CLASS {
        return Ok(AnySpan::Span(span(o, ctx)?));
    }
    let length = uint(o, "length", ctx)?;
    let list = field(o, "replaced_spans", ctx)?
        .as_list()
        .ok_or_else(|| format!("{ctx}.replaced_spans: expected a list"))?;
    let mut replaced = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let c = format!("{ctx}.replaced_spans[{i}]");
        let so = as_obj(s, &c)?;
        class(so, &c, &[SPAN_CLASS])?;
        replaced.push(span(so, &c)?);
    }
    Ok(AnySpan::Modified(ModifiedSpan {
        length,
        replaced_spans: replaced.into(),
    }))
}

fn span(o: &Obj, ctx: &str) -> Result<Span, String> {
    let (start, end) = (uint(o, "start", ctx)?, uint(o, "end", ctx)?);
    Ok(Span { start, end })
}

fn attributes(v: &PyValue, ctx: &str) -> Result<Vec<Attribute>, String> {
    let list = v
        .as_list()
        .ok_or_else(|| format!("{ctx}: expected a list"))?;
    list.iter()
        .enumerate()
        .map(|(i, a)| attribute(a, &format!("{ctx}[{i}]")))
        .collect()
}

/// Plain attributes map to uid/label/value/metadata. A subclass keeps its own fields, in order,
/// in `extra` (for an unknown subclass also `label`/`value`, so that they are written back in place).
fn attribute(v: &PyValue, ctx: &str) -> Result<Attribute, String> {
    let o = as_obj(v, ctx)?;
    let cls = string(o, "_class_name", ctx)?;
    // an empty class name means the plain class to the encoder (Attribute::default())
    if cls.is_empty() {
        return Err(format!("{ctx}._class_name: empty"));
    }
    let uid = string(o, "uid", ctx)?;
    let metadata = metadata(o, ctx)?;
    let shape = attr_shape(cls);
    let plain = cls == ATTRIBUTE_CLASS;
    let (label, value) = if plain {
        (
            string(o, "label", ctx)?.to_string(),
            field(o, "value", ctx)?.to_json(),
        )
    } else if let Some(s) = shape {
        let label = if s.has_label {
            string(o, "label", ctx)?.to_string()
        } else {
            s.fixed_label.to_string()
        };
        let value = if s.has_value {
            field(o, "value", ctx)?.to_json()
        } else {
            derived_value(cls, o)
        };
        (label, value)
    } else {
        let label = get(o, "label")
            .and_then(PyValue::as_str)
            .unwrap_or_default();
        let value = get(o, "value").map_or("null".into(), PyValue::to_json);
        (label.to_string(), value)
    };
    let mut extra = Vec::new();
    if !plain {
        for (k, x) in o {
            let base = matches!(k.as_str(), "uid" | "metadata" | "_class_name");
            let shaped = shape
                .is_some_and(|s| (k == "label" && s.has_label) || (k == "value" && s.has_value));
            if !base && !shaped {
                extra.push((k.clone(), x.clone()));
            }
        }
    }
    Ok(Attribute {
        uid: uid.into(),
        label: label.into(),
        value: value.into(),
        metadata: metadata.into(),
        class_name: cls.into(),
        extra: PyValue::Dict(extra).to_json().into(),
    })
}

/// The `value` medkit computes for normalisation attributes (EntityNormAttribute.__init__).
fn derived_value(cls: &str, o: &Obj) -> String {
    let s = |k: &str| match get(o, k) {
        Some(PyValue::Str(s)) if !s.is_empty() => Some(s.clone()),
        Some(PyValue::Int(n)) if n != "0" => Some(n.clone()),
        Some(PyValue::Float(x)) if *x != 0.0 => Some(crate::pyjson::float_repr(*x)),
        _ => None,
    };
    let (kb_name, kb_id) = if cls.ends_with("UMLSNormAttribute") {
        (Some("umls".to_string()), s("cui"))
    } else if cls.ends_with("ADICAPNormAttribute") {
        (Some("adicap".to_string()), s("code"))
    } else if cls.ends_with("EntityNormAttribute") {
        (s("kb_name"), s("kb_id"))
    } else {
        return "null".into();
    };
    match (kb_name, kb_id) {
        (Some(n), Some(i)) => PyValue::Str(format!("{n}:{i}")).to_json(),
        (None, Some(i)) => PyValue::Str(i).to_json(),
        _ => get(o, "term").map_or("null".into(), PyValue::to_json),
    }
}

fn as_obj<'a>(v: &'a PyValue, ctx: &str) -> Result<&'a Obj, String> {
    v.as_dict()
        .ok_or_else(|| format!("{ctx}: expected a JSON object"))
}

fn field<'a>(o: &'a Obj, key: &str, ctx: &str) -> Result<&'a PyValue, String> {
    get(o, key).ok_or_else(|| format!("{ctx}: missing required field {key:?}"))
}

fn string<'a>(o: &'a Obj, key: &str, ctx: &str) -> Result<&'a str, String> {
    field(o, key, ctx)?
        .as_str()
        .ok_or_else(|| format!("{ctx}.{key}: expected a string"))
}

fn uint(o: &Obj, key: &str, ctx: &str) -> Result<u64, String> {
    field(o, key, ctx)?
        .as_u64()
        .ok_or_else(|| format!("{ctx}.{key}: expected a non-negative integer"))
}

fn metadata(o: &Obj, ctx: &str) -> Result<String, String> {
    let m = field(o, "metadata", ctx)?;
    if m.as_dict().is_none() {
        return Err(format!("{ctx}.metadata: expected a JSON object"));
    }
    Ok(m.to_json())
}

fn class<'a>(o: &'a Obj, ctx: &str, allowed: &[&str]) -> Result<&'a str, String> {
    let c = string(o, "_class_name", ctx)?;
    if allowed.contains(&c) {
        Ok(c)
    } else {
        Err(format!(
            "{ctx}._class_name: {c:?} is not one of {}",
            allowed.join(", ")
        ))
    }
}
