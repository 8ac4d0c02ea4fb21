//! TextDocuments -> BRAT folder, as `BratOutputConverter()` with its defaults (entities only,
//! UMLS attributes and `brat_note` attributes as annotator notes, annotation.conf). Files are
//! named after `metadata.path_to_text` when those names are distinct, else after the uid
//! (medkit's default). The folder is built beside the target, fsynced and renamed into place.

use crate::overlaps::normalize_spans;
use crate::{io, CorpusError};
use medkit_sdk::data::{Annotation, Attribute, Segment, TextDocument};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

const UMLS_CLASS: &str = "medkit.core.text.umls_norm_attribute.UMLSNormAttribute";

/// Writes `<name>.txt` + `<name>.ann` per document and `annotation.conf` into `dir`, which must not
/// exist yet or be empty. Returns the number of documents.
pub fn write_dir<'a>(
    dir: &Path,
    docs: impl IntoIterator<Item = &'a TextDocument>,
) -> Result<usize, CorpusError> {
    if dir.exists() {
        let mut it = std::fs::read_dir(dir).map_err(|e| CorpusError::io(dir, e))?;
        if it.next().is_some() {
            return Err(CorpusError::file(
                dir,
                "output folder exists and is not empty",
            ));
        }
    }
    let docs: Vec<&TextDocument> = docs.into_iter().collect();
    let names = file_names(dir, &docs)?;
    let parent = io::parent_or_dot(dir);
    std::fs::create_dir_all(parent).map_err(|e| CorpusError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".brat-out.")
        .tempdir_in(parent)
        .map_err(|e| CorpusError::io(dir, e))?;
    let mut conf = Conf::default();
    for (doc, name) in docs.iter().zip(&names) {
        let ann = doc_to_ann(doc, &mut conf);
        for (ext, body) in [("txt", doc.text.as_str()), ("ann", ann.as_str())] {
            let p = tmp.path().join(format!("{name}.{ext}"));
            std::fs::write(&p, body)
                .map_err(|e| CorpusError::io(&dir.join(format!("{name}.{ext}")), e))?;
        }
    }
    let p = tmp.path().join("annotation.conf");
    std::fs::write(&p, conf.to_str())
        .map_err(|e| CorpusError::io(&dir.join("annotation.conf"), e))?;
    if dir.exists() {
        std::fs::remove_dir(dir).map_err(|e| CorpusError::io(dir, e))?;
    }
    io::sync_tree(tmp.path()).map_err(|e| CorpusError::io(dir, e))?;
    let tmp_path = tmp.keep();
    io::rename_durably(&tmp_path, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&tmp_path);
        CorpusError::io(dir, e)
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    }
    Ok(docs.len())
}

/// A name must stay a plain file name inside the output folder.
fn safe_name(n: &str) -> bool {
    !n.is_empty() && !n.starts_with('.') && !n.contains(['/', '\\', '\0']) && n != "annotation"
}

fn file_names(dir: &Path, docs: &[&TextDocument]) -> Result<Vec<String>, CorpusError> {
    let stems: Vec<Option<String>> = docs
        .iter()
        .map(|d| {
            let m: Value = serde_json::from_str(&d.metadata).ok()?;
            let p = Path::new(m.get("path_to_text")?.as_str()?);
            Some(p.file_stem()?.to_str()?.to_string())
        })
        .collect();
    let distinct: HashSet<&String> = stems.iter().flatten().collect();
    if stems
        .iter()
        .all(|s| s.as_ref().is_some_and(|s| safe_name(s)))
        && distinct.len() == docs.len()
    {
        return Ok(stems.into_iter().flatten().collect());
    }
    let mut seen = HashSet::new();
    docs.iter()
        .map(|d| {
            let uid = d.uid.to_string();
            if !safe_name(&uid) {
                return Err(CorpusError::file(
                    dir,
                    format!("document uid {uid:?} cannot be used as a file name inside the output folder"),
                ));
            }
            if !seen.insert(uid.clone()) {
                return Err(CorpusError::file(dir, format!("two documents have the uid {uid:?}")));
            }
            Ok(uid)
        })
        .collect()
}

/// medkit's `Attribute.to_brat` + `ensure_attr_value`: strings as they are, null/bool as no value,
/// numbers as Python's str; lists cannot be written (None).
fn brat_value(a: &Attribute) -> Option<Option<String>> {
    let v: Value = serde_json::from_str(&a.value).unwrap_or(Value::Null);
    match v {
        Value::Bool(false) => None, // medkit skips false attributes
        Value::String(s) => Some(Some(s)),
        Value::Null | Value::Bool(true) => Some(None),
        Value::Array(_) => {
            log::warn!(
                "attribute {}: a list value cannot be written to BRAT, ignored",
                a.uid.as_str()
            );
            None
        }
        other => Some(Some(crate::pyjson::to_string(&other))),
    }
}

fn doc_to_ann(doc: &TextDocument, conf: &mut Conf) -> String {
    let chars: Vec<char> = doc.text.chars().collect();
    let mut out = String::new();
    let (mut nt, mut na, mut nn, mut nr) = (1, 1, 1, 1);
    let mut brat_ids: HashMap<&str, (String, String)> = HashMap::new();
    for e in doc.entities() {
        let id = format!("T{nt}");
        nt += 1;
        let label = e.label.replace(' ', "_");
        let (text, spans) = text_and_spans(e, &chars);
        let spans_str: Vec<String> = spans.iter().map(|(s, t)| format!("{s} {t}")).collect();
        let _ = writeln!(out, "{id}\t{label} {}\t{text}", spans_str.join(";"));
        conf.entities.insert(label.clone());
        brat_ids.insert(e.uid.as_str(), (id.clone(), label));
        for a in e.attrs.iter() {
            if a.class_name.as_str() == UMLS_CLASS || a.label.as_str() == "brat_note" {
                continue;
            }
            if let Some(v) = brat_value(a) {
                write_attr(&mut out, &mut na, a, v, &id, conf, true);
            }
        }
        let cuis: Vec<String> = e
            .attrs
            .iter()
            .filter(|a| a.class_name.as_str() == UMLS_CLASS)
            .filter_map(|a| {
                let x: Value = serde_json::from_str(&a.extra).ok()?;
                Some(x.get("cui")?.as_str()?.to_string())
            })
            .collect();
        if !cuis.is_empty() {
            let _ = writeln!(out, "#{nn}\tAnnotatorNotes {id}\t{}", cuis.join(" "));
            nn += 1;
        }
        let notes: Vec<String> = e
            .attrs
            .iter()
            .filter(|a| a.label.as_str() == "brat_note")
            .filter_map(|a| match serde_json::from_str::<Value>(&a.value).ok()? {
                Value::Null => None,
                Value::String(s) => Some(s),
                v => Some(crate::pyjson::to_string(&v)),
            })
            .collect();
        if !notes.is_empty() {
            // medkit joins with "\n", which would break the .ann line; a space keeps it one line
            let _ = writeln!(
                out,
                "#{nn}\tAnnotatorNotes {id}\t{}",
                notes.join(" ").replace('\n', " ")
            );
            nn += 1;
        }
    }
    for a in doc.anns.iter() {
        let Annotation::Relation(r) = a else { continue };
        let (Some((s, sl)), Some((t, tl))) = (
            brat_ids.get(r.source_id.as_str()),
            brat_ids.get(r.target_id.as_str()),
        ) else {
            log::warn!(
                "relation {}: source or target is not an entity, ignored",
                r.uid.as_str()
            );
            continue;
        };
        let id = format!("R{nr}");
        nr += 1;
        let label = r.label.replace(' ', "_");
        let _ = writeln!(out, "{id}\t{label} Arg1:{s} Arg2:{t}");
        let rc = conf.relations.entry(label).or_default();
        rc.0.insert(sl.clone());
        rc.1.insert(tl.clone());
        for a in r.attrs.iter() {
            if let Some(v) = brat_value(a) {
                write_attr(&mut out, &mut na, a, v, &id, conf, false);
            }
        }
    }
    out
}

fn write_attr(
    out: &mut String,
    na: &mut usize,
    a: &Attribute,
    value: Option<String>,
    target: &str,
    conf: &mut Conf,
    from_entity: bool,
) {
    let label = a.label.replace(' ', "_");
    let value = value.unwrap_or_default();
    let v = if value.is_empty() {
        String::new()
    } else {
        format!(" {value}")
    };
    let _ = writeln!(out, "A{na}\t{label} {target}{v}");
    *na += 1;
    let m = if from_entity {
        &mut conf.entity_attrs
    } else {
        &mut conf.relation_attrs
    };
    m.entry(label).or_default().push(value);
}

/// `BratOutputConverter._ensure_text_and_spans`: each fragment stripped of surrounding
/// whitespace and cut at newlines (`\s*\n+\s*`); the text is the pieces joined by spaces.
fn text_and_spans(e: &Segment, chars: &[char]) -> (String, Vec<(usize, usize)>) {
    let mut texts = Vec::new();
    let mut spans = Vec::new();
    for f in normalize_spans(&e.spans) {
        let (s, t) = (f.start as usize, (f.end as usize).min(chars.len()));
        if s >= t {
            continue;
        }
        let frag = &chars[s..t];
        let lead = frag.iter().take_while(|c| c.is_whitespace()).count();
        let trail = frag[lead..]
            .iter()
            .rev()
            .take_while(|c| c.is_whitespace())
            .count();
        let (mut a, b) = (s + lead, t - trail);
        let mut i = a;
        while i < b {
            if chars[i] == '\n' || chars[i].is_whitespace() {
                // a whitespace run containing a newline cuts the fragment
                let j = i + chars[i..b].iter().take_while(|c| c.is_whitespace()).count();
                if chars[i..j].contains(&'\n') {
                    texts.push(chars[a..i].iter().collect::<String>());
                    spans.push((a, i));
                    a = j;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        texts.push(chars[a..b].iter().collect::<String>());
        spans.push((a, b));
    }
    (texts.join(" "), spans)
}

/// annotation.conf as `BratAnnConfiguration.to_str` writes it.
#[derive(Default)]
struct Conf {
    entities: BTreeSet<String>,
    relations: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
    entity_attrs: BTreeMap<String, Vec<String>>,
    relation_attrs: BTreeMap<String, Vec<String>>,
}

impl Conf {
    fn to_str(&self) -> String {
        let mut s = String::from(
            "#Text-based definitions of entity types, relation types\n#and attributes. This file was generated using medkit\n#from the HeKa project",
        );
        s.push_str("\n[entities]\n\n");
        s.push_str(&self.entities.iter().cloned().collect::<Vec<_>>().join("\n"));
        s.push_str("\n[relations]\n\n# This line enables entity overlapping\n");
        s.push_str("<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>\n");
        for (t, (a1, a2)) in &self.relations {
            let j = |x: &BTreeSet<String>| x.iter().cloned().collect::<Vec<_>>().join("|");
            let _ = writeln!(s, "{t}\tArg1:{}, Arg2:{}", j(a1), j(a2));
        }
        s.push_str("[attributes]\n\n");
        for (attrs, arg) in [
            (&self.entity_attrs, "<ENTITY>"),
            (&self.relation_attrs, "<RELATION>"),
        ] {
            for (t, values) in attrs {
                let vals = top_values(values, 50);
                if vals.is_empty() {
                    let _ = writeln!(s, "{t}\tArg:{arg}");
                } else {
                    let _ = writeln!(s, "{t}\tArg:{arg}, Value:{}", vals.join("|"));
                }
            }
        }
        s.push_str("[events]\n\n");
        s
    }
}

/// The `n` most common values (ties in first-seen order, as Counter.most_common), sorted.
fn top_values(values: &[String], n: usize) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(x, _)| x == v) {
            Some(c) => c.1 += 1,
            None => counts.push((v.clone(), 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut top: Vec<String> = counts
        .into_iter()
        .take(n)
        .map(|(v, _)| v)
        .filter(|v| !v.is_empty())
        .collect();
    top.sort();
    top
}
