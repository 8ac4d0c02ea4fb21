//! TextDocument -> one JSON line, field for field as medkit's `to_dict` + `json.dumps`.

use super::*;
use crate::pyjson::write_str;
use crate::pyvalue::{self, PyValue};
use crate::CorpusError;
use medkit_sdk::data::{Annotation, AnySpan, Attribute, Relation, Segment, Span, TextDocument};

/// The document as medkit writes it on one line (no newline). Fails only when a JSON text field
/// of the document (metadata, attribute value/extra) is not valid JSON.
pub fn document_to_json_line(doc: &TextDocument) -> Result<String, CorpusError> {
    let mut out = String::with_capacity(doc.text.len() * 2 + 256);
    out.push_str("{\"uid\": ");
    write_str(&mut out, &doc.uid);
    out.push_str(", \"text\": ");
    write_str(&mut out, &doc.text);
    out.push_str(", \"metadata\": ");
    raw(&mut out, &doc.metadata, "document metadata")?;
    out.push_str(", \"anns\": [");
    for (i, a) in doc.anns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match a {
            Annotation::Segment(s) => segment(&mut out, s, SEGMENT_CLASS)?,
            Annotation::Entity(s) => segment(&mut out, s, ENTITY_CLASS)?,
            Annotation::Relation(r) => relation(&mut out, r)?,
        }
    }
    out.push(']');
    // medkit writes document attributes only when there are some
    if !doc.attrs.is_empty() {
        out.push_str(", \"attrs\": ");
        attributes(&mut out, &doc.attrs)?;
    }
    out.push_str(", \"_class_name\": \"");
    out.push_str(DOC_CLASS);
    out.push_str("\"}");
    Ok(out)
}

/// An entity as medkit's `Entity.to_dict` + `json.dumps` write it.
pub fn entity_to_json(entity: &Segment) -> Result<String, CorpusError> {
    let mut out = String::with_capacity(entity.text.len() + 128);
    segment(&mut out, entity, ENTITY_CLASS)?;
    Ok(out)
}

/// A segment as medkit's `Segment.to_dict` + `json.dumps` write it.
pub fn segment_to_json(seg: &Segment) -> Result<String, CorpusError> {
    let mut out = String::with_capacity(seg.text.len() + 128);
    segment(&mut out, seg, SEGMENT_CLASS)?;
    Ok(out)
}

/// The fuzz target's check, shared with the regression replay test: a line that decodes must
/// re-encode, and decode again to the same document. `Ok(false)`: the line is not a document
/// (an error is fine there); `Ok(true)`: the round trip holds; `Err`: what differs.
pub fn check_round_trip(line: &str) -> Result<bool, String> {
    let Ok(doc) = super::document_from_json_line(line) else {
        return Ok(false);
    };
    let again = document_to_json_line(&doc)
        .map_err(|e| format!("a decoded document fails to encode: {e}"))?;
    let back = super::document_from_json_line(&again)
        .map_err(|e| format!("the re-encoded line fails to decode: {e}\n  line: {again}"))?;
    if back != doc {
        return Err(format!(
            "decode -> encode -> decode changed the document\n  first:  {doc:?}\n  second: {back:?}\n  re-encoded: {again}"
        ));
    }
    Ok(true)
}

fn segment(out: &mut String, s: &Segment, class: &str) -> Result<(), CorpusError> {
    out.push_str("{\"uid\": ");
    write_str(out, &s.uid);
    out.push_str(", \"label\": ");
    write_str(out, &s.label);
    out.push_str(", \"text\": ");
    write_str(out, &s.text);
    out.push_str(", \"spans\": [");
    for (i, sp) in s.spans.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match sp {
            AnySpan::Span(x) => span(out, x),
            AnySpan::Modified(m) => {
                out.push_str(&format!(
                    "{{\"length\": {}, \"replaced_spans\": [",
                    m.length
                ));
                for (j, x) in m.replaced_spans.iter().enumerate() {
                    if j > 0 {
                        out.push_str(", ");
                    }
                    span(out, x);
                }
                out.push_str("], \"_class_name\": \"");
                out.push_str(MODIFIED_SPAN_CLASS);
                out.push_str("\"}");
            }
        }
    }
    out.push_str("], \"attrs\": ");
    attributes(out, &s.attrs)?;
    out.push_str(", \"metadata\": ");
    raw(out, &s.metadata, "annotation metadata")?;
    class_name(out, class);
    Ok(())
}

fn span(out: &mut String, s: &Span) {
    out.push_str(&format!(
        "{{\"start\": {}, \"end\": {}, \"_class_name\": \"{SPAN_CLASS}\"}}",
        s.start, s.end
    ));
}

fn relation(out: &mut String, r: &Relation) -> Result<(), CorpusError> {
    out.push_str("{\"uid\": ");
    write_str(out, &r.uid);
    out.push_str(", \"label\": ");
    write_str(out, &r.label);
    out.push_str(", \"source_id\": ");
    write_str(out, &r.source_id);
    out.push_str(", \"target_id\": ");
    write_str(out, &r.target_id);
    out.push_str(", \"attrs\": ");
    attributes(out, &r.attrs)?;
    out.push_str(", \"metadata\": ");
    raw(out, &r.metadata, "relation metadata")?;
    class_name(out, RELATION_CLASS);
    Ok(())
}

fn attributes(out: &mut String, attrs: &[Attribute]) -> Result<(), CorpusError> {
    out.push('[');
    for (i, a) in attrs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        attribute(out, a)?;
    }
    out.push(']');
    Ok(())
}

/// Plain: uid, label, value, metadata. Known subclass: uid, [label], [value], its fields, metadata.
/// Unknown subclass: uid, its fields as read (label/value in place), metadata.
fn attribute(out: &mut String, a: &Attribute) -> Result<(), CorpusError> {
    let cls = if a.class_name.is_empty() {
        ATTRIBUTE_CLASS
    } else {
        a.class_name.as_str()
    };
    out.push_str("{\"uid\": ");
    write_str(out, &a.uid);
    let key = |out: &mut String, k: &str| {
        out.push_str(", ");
        write_str(out, k);
        out.push_str(": ");
    };
    let extra = if cls == ATTRIBUTE_CLASS || a.extra.trim().is_empty() {
        Vec::new()
    } else {
        match parse(&a.extra, "attribute extra")? {
            PyValue::Dict(m) => m,
            _ => {
                return Err(CorpusError::Data(format!(
                    "attribute {}: extra is not a JSON object",
                    a.uid
                )))
            }
        }
    };
    let shape = attr_shape(cls);
    let (with_label, with_value) = match shape {
        _ if cls == ATTRIBUTE_CLASS => (true, true),
        Some(s) => (s.has_label, s.has_value),
        None => (
            !extra.iter().any(|(k, _)| k == "label") && !a.label.is_empty(),
            !extra.iter().any(|(k, _)| k == "value") && a.value.trim() != "null",
        ),
    };
    if with_label {
        key(out, "label");
        write_str(out, &a.label);
    }
    if with_value {
        key(out, "value");
        raw(out, &a.value, "attribute value")?;
    }
    for (k, v) in &extra {
        key(out, k);
        match (shape, k.as_str()) {
            // a `label` that was not a string was read as "" and stays in `extra` as read,
            // unless a label was set since
            (None, "label") if v.as_str().is_some() || !a.label.is_empty() => {
                write_str(out, &a.label)
            }
            (None, "value") => raw(out, &a.value, "attribute value")?,
            _ => v.write(out),
        }
    }
    out.push_str(", \"metadata\": ");
    raw(out, &a.metadata, "attribute metadata")?;
    class_name(out, cls);
    Ok(())
}

fn class_name(out: &mut String, class: &str) {
    out.push_str(", \"_class_name\": ");
    write_str(out, class);
    out.push('}');
}

fn parse(text: &str, what: &str) -> Result<PyValue, CorpusError> {
    pyvalue::parse(text)
        .map_err(|e| CorpusError::Data(format!("{what} is not valid JSON ({e}): {text:?}")))
}

/// Re-emits stored JSON text in Python's style; empty text counts as `{}` for metadata.
fn raw(out: &mut String, text: &str, what: &str) -> Result<(), CorpusError> {
    if text.trim().is_empty() && what.ends_with("metadata") {
        out.push_str("{}");
        return Ok(());
    }
    // stored text is usually already in Python's style: `{}` needs no parse
    if text == "{}" {
        out.push_str(text);
        return Ok(());
    }
    parse(text, what)?.write(out);
    Ok(())
}
