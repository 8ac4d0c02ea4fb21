//! `.ann` lines, as medkit's `_brat_utils.parse_string`, except that a malformed line is an error
//! (medkit logs and skips it) so that nothing is lost silently, unless the `--on-error skip`
//! policy says to skip it (then with a warning naming file:line and id, and a count). `M` lines are read as attributes
//! (old BRAT modifiers); `N`, `E` and other lines are ignored, as medkit does.

use crate::{CorpusError, InvalidAnnotations};
use std::collections::HashMap;
use std::path::Path;

pub struct BratEntity {
    pub id: String,
    pub label: String,
    pub spans: Vec<(u64, u64)>,
    pub text: String,
    pub line: usize,
}

pub struct BratRelation {
    pub id: String,
    pub label: String,
    pub subj: String,
    pub obj: String,
    pub line: usize,
}

pub struct BratAttribute {
    pub id: String,
    pub label: String,
    pub target: String,
    pub value: Option<String>,
    pub line: usize,
}

pub struct BratNote {
    pub id: String,
    pub target: String,
    pub value: String,
    pub line: usize,
}

#[derive(Default)]
pub struct BratAnn {
    pub entities: Vec<BratEntity>,
    pub relations: Vec<BratRelation>,
    pub attributes: Vec<BratAttribute>,
    pub notes: Vec<BratNote>,
}

/// Python dict semantics: a repeated id replaces the earlier item in its place.
fn put<T>(v: &mut Vec<T>, index: &mut HashMap<String, usize>, id: &str, item: T) {
    match index.get(id) {
        Some(&i) => v[i] = item,
        None => {
            index.insert(id.to_string(), v.len());
            v.push(item);
        }
    }
}

enum Item {
    Entity(BratEntity),
    Relation(BratRelation),
    Attribute(BratAttribute),
    Note(BratNote),
    Ignored,
}

/// `content` is the .ann text with newlines already normalised to `\n`. A malformed line is
/// handed to `invalid` as `FILE:LINE: ID: malformed … line: "…"` (an error, or skipped).
pub fn parse_ann(
    path: &Path,
    content: &str,
    invalid: &InvalidAnnotations,
) -> Result<BratAnn, CorpusError> {
    let mut doc = BratAnn::default();
    let mut index: [HashMap<String, usize>; 4] = Default::default();
    for (i, ann) in content.split('\n').enumerate() {
        let line = i + 1;
        let Some(kind) = ann.chars().next() else {
            continue;
        };
        if !matches!(kind, 'T' | 'R' | 'A' | 'M' | '#') {
            continue;
        }
        match parse_line(path, line, kind, ann) {
            Ok(Item::Entity(e)) => put(&mut doc.entities, &mut index[0], &e.id.clone(), e),
            Ok(Item::Relation(r)) => put(&mut doc.relations, &mut index[1], &r.id.clone(), r),
            Ok(Item::Attribute(a)) => put(&mut doc.attributes, &mut index[2], &a.id.clone(), a),
            Ok(Item::Note(n)) => put(&mut doc.notes, &mut index[3], &n.id.clone(), n),
            Ok(Item::Ignored) => {}
            Err(what) => {
                let id = ann.split(['\t', ' ']).next().unwrap_or_default().trim();
                invalid.handle(path, line, id, format!("malformed {what} line: {ann:?}"))?;
            }
        }
    }
    Ok(doc)
}

/// One `.ann` line (starting with `kind`); the error says what kind of line is malformed.
fn parse_line(path: &Path, line: usize, kind: char, ann: &str) -> Result<Item, &'static str> {
    let (id, content) = ann.split_once('\t').ok_or("annotation (no tab)")?;
    let id = id.trim().to_string();
    Ok(match kind {
        'T' => {
            let (tag_spans, text) = content.trim().split_once('\t').ok_or("entity")?;
            let (tag, spans_text) = tag_spans.split_once(' ').ok_or("entity")?;
            let mut spans = Vec::new();
            for sp in spans_text.split(';') {
                let parts: Vec<&str> = sp.split_whitespace().collect();
                let [s, e] = parts[..] else {
                    return Err("entity");
                };
                let (Ok(s), Ok(e)) = (s.parse::<u64>(), e.parse::<u64>()) else {
                    return Err("entity");
                };
                spans.push((s, e));
            }
            Item::Entity(BratEntity {
                id,
                label: tag.trim().to_string(),
                spans,
                text: text.replace('\t', " "),
                line,
            })
        }
        'R' => {
            let parts: Vec<&str> = content.split_whitespace().collect();
            let [label, subj, obj] = parts[..] else {
                return Err("relation");
            };
            let subj = subj.replace("Arg1:", "");
            let obj = obj.replace("Arg2:", "");
            if subj.starts_with('E') || obj.starts_with('E') {
                log::warn!(
                    "{}:{line}: relations between events are not supported, ignored",
                    path.display()
                );
                return Ok(Item::Ignored);
            }
            Item::Relation(BratRelation {
                id,
                label: label.to_string(),
                subj,
                obj,
                line,
            })
        }
        'A' | 'M' => {
            let mut parts = content.trim().splitn(3, ' ');
            let (Some(label), Some(target)) = (parts.next(), parts.next()) else {
                return Err("attribute");
            };
            Item::Attribute(BratAttribute {
                id,
                label: label.trim().to_string(),
                target: target.trim().to_string(),
                value: parts.next().map(|v| v.trim().to_string()),
                line,
            })
        }
        _ => {
            let (args, value) = content.split_once('\t').ok_or("note")?;
            let (_type, target) = args.split_once(' ').ok_or("note")?;
            Item::Note(BratNote {
                id,
                target: target.trim().to_string(),
                value: value.trim().to_string(),
                line,
            })
        }
    })
}

/// medkit's `_CUI_PATTERN.findall`: `\b[Cc]\d{7}\b`.
pub fn find_cuis(s: &str) -> Vec<String> {
    let c: Vec<char> = s.chars().collect();
    let word = |x: char| x.is_alphanumeric() || x == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ok = (c[i] == 'C' || c[i] == 'c')
            && (i == 0 || !word(c[i - 1]))
            && i + 8 <= c.len()
            && c[i + 1..i + 8].iter().all(|d| d.is_ascii_digit())
            && (i + 8 == c.len() || !word(c[i + 8]));
        if ok {
            out.push(c[i..i + 8].iter().collect());
            i += 8;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OnError;

    #[test]
    fn parses_medkit_style() {
        let ann = "T1\tDisease 0 5;8 12\tabcde fghi\nT2\tX 1 2\tb\nN1\tReference T1 MeSH:D1\tx\n\
                   A1\tNeg T1\nM2\tSev T2 high \n#1\tAnnotatorNotes T1\t C0000001 c1234567 C12345678\n\
                   R1\tRel Arg1:T1 Arg2:T2\t\nR2\tRel Arg1:E1 Arg2:T2\nT2\tY 2 3\tc\n\nE1\tEv:T1\n";
        let d = parse_ann(Path::new("x.ann"), ann, &Default::default()).unwrap();
        assert_eq!(d.entities.len(), 2);
        assert_eq!(d.entities[0].spans, vec![(0, 5), (8, 12)]);
        assert_eq!(
            d.entities[1].label, "Y",
            "a repeated id replaces the first in place"
        );
        assert_eq!(d.attributes[0].value, None);
        assert_eq!(d.attributes[1].value.as_deref(), Some("high"));
        assert_eq!(d.relations.len(), 1, "relations to events are skipped");
        assert_eq!(find_cuis(&d.notes[0].value), vec!["C0000001", "c1234567"]);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        for (ann, line, id, kept) in [
            ("T1\tX 0\tab\n", 1, "T1", 0),
            ("T1\tX 0 2\tab\nA1\n", 2, "A1", 1),
            ("\n\nR1\tRel Arg1:T1\n", 3, "R1", 0),
            ("T1 X 0 2 ab\nT2\tX 0 1\ta\n", 1, "T1", 1),
        ] {
            let e = parse_ann(Path::new("y.ann"), ann, &Default::default())
                .err()
                .expect("error")
                .to_string();
            assert!(
                e.starts_with(&format!("y.ann:{line}: {id}: malformed")),
                "{e}"
            );
            let skip = InvalidAnnotations::new(OnError::Skip);
            let d = parse_ann(Path::new("y.ann"), ann, &skip).unwrap();
            assert_eq!(skip.skipped(), 1, "{ann:?}");
            assert_eq!(d.entities.len(), kept, "{ann:?}: the other lines are kept");
        }
    }
}
