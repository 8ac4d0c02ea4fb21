//! Training-data checks, run by the pipeline's train stage on the train and eval documents before
//! the trainable preprocesses them. Spans outside the text or reversed are already refused by the
//! readers (file:line; or skipped, under `[train] on_error = "skip"`); here, two policies
//! (`[train] entity_text_mismatch`, defaulting to `on_error`, and `overlapping_entities`):
//!
//! * an entity whose `text` is not the text its spans cover (fragments joined by a space, as BRAT
//!   and medkit write discontinuous entities; whitespace runs compared as one space) is an error
//!   naming the file, line and entity (`"error"`, the default), or is dropped with a warning and a
//!   count (`"skip"`). Entities with ModifiedSpans (text of a preprocessed document) are not
//!   checked: their text is not the raw text's;
//! * entities overlapping each other (sharing a character; touching is fine) are an error
//!   (`"error"`, the default) or only the longest are kept (`"keep-longest"`: by length, then the
//!   earlier start; the others are dropped with a warning and a count).
//!
//! Dropped entities take the relations that pointed at them along.

use medkit_sdk::{AnySpan, Segment, TextDocument};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextMismatchPolicy {
    #[default]
    Error,
    Skip,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverlapPolicy {
    #[default]
    Error,
    KeepLongest,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DataPolicies {
    pub text_mismatch: TextMismatchPolicy,
    pub overlaps: OverlapPolicy,
}

/// What the checks dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    pub mismatched: usize,
    pub mismatched_docs: usize,
    pub overlapping: usize,
    pub overlapping_docs: usize,
}

/// Where a document came from, for messages: the file and the 1-based line of each document.
pub struct Origin<'a> {
    pub path: &'a Path,
    pub lines: &'a [usize],
}

/// Applies `policies` to `docs` (in place). The first violation of an `error` policy is returned
/// as `FILE:LINE: document 'uid': ...`.
pub fn check_documents(
    docs: &mut [TextDocument],
    origin: &Origin,
    policies: DataPolicies,
) -> Result<CheckCounts, String> {
    let mut counts = CheckCounts::default();
    for (i, doc) in docs.iter_mut().enumerate() {
        let at = || match origin.lines.get(i) {
            Some(l) => format!("{}:{l}: document '{}'", origin.path.display(), doc_uid(doc)),
            None => format!(
                "{}: document {} ('{}')",
                origin.path.display(),
                i + 1,
                doc_uid(doc)
            ),
        };
        let mut drop: HashSet<String> = HashSet::new();
        let chars: Vec<char> = doc.text.chars().collect();
        for e in doc.entities() {
            if let Some(covered) = covered_text(&chars, e) {
                if !same_text(&covered, &e.text) {
                    match policies.text_mismatch {
                        TextMismatchPolicy::Error => {
                            return Err(format!(
                                "{}: entity '{}' ({}) has text {:?} but its spans cover {:?} \
                                 (set [train] entity_text_mismatch = \"skip\", or on_error = \"skip\", to drop \
                                 such entities)",
                                at(),
                                e.uid,
                                e.label,
                                e.text.as_str(),
                                covered
                            ))
                        }
                        TextMismatchPolicy::Skip => {
                            drop.insert(e.uid.to_string());
                        }
                    }
                }
            }
        }
        if !drop.is_empty() {
            counts.mismatched += drop.len();
            counts.mismatched_docs += 1;
        }
        // Overlaps (a shared character) among the entities still kept.
        let kept_entities: Vec<&Segment> = doc
            .entities()
            .filter(|e| !drop.contains(e.uid.as_str()))
            .collect();
        let mut order: Vec<(u64, u64, usize)> = kept_entities
            .iter()
            .enumerate()
            .filter_map(|(k, e)| {
                let (s, _) = extent(e)?;
                Some((covered_len(e), s, k))
            })
            .collect();
        // Longest first, then the earlier start, then document order.
        order.sort_by(|a, b| (b.0, a.1, a.2).cmp(&(a.0, b.1, b.2)));
        let mut kept: Vec<usize> = Vec::new();
        let mut overlapping = 0;
        for (_, _, k) in order {
            let e = kept_entities[k];
            match kept.iter().find(|&&j| overlap(kept_entities[j], e)) {
                None => kept.push(k),
                Some(&j) => match policies.overlaps {
                    OverlapPolicy::Error => {
                        let other = kept_entities[j];
                        let (a, b) = (extent(other).unwrap(), extent(e).unwrap());
                        return Err(format!(
                            "{}: entities '{}' ({}-{}) and '{}' ({}-{}) overlap (set [train] \
                             overlapping_entities = \"keep-longest\" to keep the longest)",
                            at(),
                            other.uid,
                            a.0,
                            a.1,
                            e.uid,
                            b.0,
                            b.1
                        ));
                    }
                    OverlapPolicy::KeepLongest => {
                        drop.insert(e.uid.to_string());
                        overlapping += 1;
                    }
                },
            }
        }
        if overlapping > 0 {
            counts.overlapping += overlapping;
            counts.overlapping_docs += 1;
        }
        if !drop.is_empty() {
            doc.remove_entities(|e| drop.contains(e.uid.as_str()));
        }
    }
    Ok(counts)
}

fn doc_uid(doc: &TextDocument) -> &str {
    doc.uid.as_str()
}

/// The raw text an entity's plain spans cover, fragments joined by a space; None when a span is a
/// ModifiedSpan or lies outside the text (the readers refuse the latter).
fn covered_text(chars: &[char], e: &Segment) -> Option<String> {
    let mut parts = Vec::with_capacity(e.spans.len());
    for s in e.spans.iter() {
        let AnySpan::Span(s) = s else { return None };
        let (a, b) = (s.start as usize, s.end as usize);
        if a > b || b > chars.len() {
            return None;
        }
        parts.push(chars[a..b].iter().collect::<String>());
    }
    Some(parts.join(" "))
}

/// Equal once whitespace runs count as one space (BRAT writes line breaks inside an entity as
/// spaces) and fragments may be joined with or without a space.
fn same_text(covered: &str, text: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    norm(covered) == norm(text) || squash(covered) == squash(text)
}

fn spans(e: &Segment) -> Vec<medkit_sdk::Span> {
    e.spans.iter().flat_map(AnySpan::original_spans).collect()
}

fn covered_len(e: &Segment) -> u64 {
    spans(e).iter().map(|s| s.len()).sum()
}

fn overlap(a: &Segment, b: &Segment) -> bool {
    let (sa, sb) = (spans(a), spans(b));
    sa.iter()
        .any(|x| sb.iter().any(|y| x.start < y.end && y.start < x.end))
}

fn extent(e: &Segment) -> Option<(u64, u64)> {
    let spans = spans(e);
    let s = spans.iter().map(|s| s.start).min()?;
    let t = spans.iter().map(|s| s.end).max()?;
    (s < t).then_some((s, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use medkit_sdk::{Annotation, Span};

    fn ent(uid: &str, text: &str, spans: &[(u64, u64)]) -> Annotation {
        Annotation::Entity(Segment {
            uid: uid.into(),
            label: "x".into(),
            spans: spans
                .iter()
                .map(|&(a, b)| AnySpan::Span(Span::new(a, b)))
                .collect::<Vec<_>>()
                .into(),
            text: text.into(),
            attrs: Default::default(),
            metadata: "{}".into(),
        })
    }

    fn doc(anns: Vec<Annotation>) -> TextDocument {
        TextDocument {
            uid: "d1".into(),
            text: "Fièvre aiguë et toux sèche.".into(),
            metadata: "{}".into(),
            anns: anns.into(),
            attrs: Default::default(),
        }
    }

    fn uids(d: &TextDocument) -> Vec<String> {
        d.entities().map(|e| e.uid.to_string()).collect()
    }

    fn origin() -> Origin<'static> {
        Origin {
            path: Path::new("train.jsonl"),
            lines: &[7],
        }
    }

    #[test]
    fn text_mismatch_is_an_error_or_skipped_with_a_count() {
        let anns = || {
            vec![
                ent("a", "Fièvre", &[(0, 6)]),
                ent("b", "aiguë toux", &[(7, 12), (16, 20)]), // discontinuous: joined by a space
                ent("c", "toux", &[(21, 26)]),
            ]
        };
        let err =
            check_documents(&mut [doc(anns())], &origin(), DataPolicies::default()).unwrap_err();
        assert!(
            err.starts_with("train.jsonl:7: document 'd1': entity 'c'")
                && err.contains("\"sèche\"")
                && err.contains("entity_text_mismatch"),
            "{err}"
        );
        let mut docs = [doc(anns())];
        let policies = DataPolicies {
            text_mismatch: TextMismatchPolicy::Skip,
            ..Default::default()
        };
        let c = check_documents(&mut docs, &origin(), policies).unwrap();
        assert_eq!((c.mismatched, c.mismatched_docs), (1, 1));
        assert_eq!(uids(&docs[0]), ["a", "b"]);
    }

    #[test]
    fn overlaps_are_an_error_or_the_longest_kept_with_a_count() {
        let anns = || {
            vec![
                ent("short", "Fièvre", &[(0, 6)]),
                ent("long", "Fièvre aiguë", &[(0, 12)]),
                ent("touch", "et", &[(13, 15)]),
                ent("t1", "toux", &[(16, 20)]),
                ent("t2", "toux sèche", &[(16, 26)]),
            ]
        };
        let err =
            check_documents(&mut [doc(anns())], &origin(), DataPolicies::default()).unwrap_err();
        assert!(
            err.contains("train.jsonl:7")
                && err.contains("'long' (0-12) and 'short' (0-6) overlap"),
            "{err}"
        );
        let mut docs = [doc(anns())];
        let policies = DataPolicies {
            overlaps: OverlapPolicy::KeepLongest,
            ..Default::default()
        };
        let c = check_documents(&mut docs, &origin(), policies).unwrap();
        assert_eq!((c.overlapping, c.overlapping_docs), (2, 1));
        assert_eq!(uids(&docs[0]), ["long", "touch", "t2"]);
    }

    #[test]
    fn consistent_documents_pass_unchanged() {
        let mut docs = [doc(vec![
            ent("a", "Fièvre  aiguë", &[(0, 12)]), // whitespace runs compare as one space
            ent("b", "toux", &[(16, 20)]),
        ])];
        let before = docs[0].clone();
        let c = check_documents(&mut docs, &origin(), DataPolicies::default()).unwrap();
        assert_eq!(c, CheckCounts::default());
        assert_eq!(docs[0], before);
    }
}
