//! Sentence mini-documents, as medkit's `SentenceTokenizer(...)` (rules from the
//! `medkit-segmentation` crate, shared with the `sentence-tokenizer` operation) +
//! `DocumentSplitter(segment_label="sentence", attr_labels=[])`.

mod intervaltree;
mod pyset;

use super::new_uid;
use super::overlaps::extent;
use medkit_sdk::data::{Annotation, AnySpan, ModifiedSpan, Relation, Segment, Span, TextDocument};
pub use medkit_segmentation::SentenceRules;
use std::collections::HashMap;

/// The rules `medkit convert --split-sentences` uses by default: medkit's SentenceTokenizer
/// defaults but with `keep_punct=True` (as the medkit corpora of this project were made).
pub fn corpus_rules() -> SentenceRules {
    SentenceRules {
        keep_punct: true,
        ..SentenceRules::default()
    }
}

/// [`split_sentences_with`] the [`corpus_rules`].
pub fn split_sentences(doc: &TextDocument) -> (Vec<TextDocument>, usize) {
    split_sentences_with(doc, &corpus_rules())
}

/// Splits `doc` into one mini-document per sentence with its entities (offsets shifted) and the
/// relations between them; returns them and the number of entities lying in no single sentence
/// (DocumentSplitter drops those). As with `attr_labels=[]`, attributes are not copied. Entities
/// come in medkit's order (that of a Python set of intervals, reproduced by `intervaltree`).
pub fn split_sentences_with(
    doc: &TextDocument,
    rules: &SentenceRules,
) -> (Vec<TextDocument>, usize) {
    let chars: Vec<char> = doc.text.chars().collect();
    let sentences = rules.sentence_ranges(&doc.text);
    let entities: Vec<(&Segment, Option<(u64, u64)>)> =
        doc.entities().map(|e| (e, extent(&e.spans))).collect();
    let relations: Vec<&Relation> = doc
        .anns
        .iter()
        .filter_map(|a| match a {
            Annotation::Relation(r) => Some(r),
            _ => None,
        })
        .collect();
    // sentences are sorted and disjoint: an entity can only lie in the last one starting before it
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); sentences.len()];
    let mut placed = 0;
    for (i, (_, ext)) in entities.iter().enumerate() {
        let Some((es, ee)) = *ext else { continue };
        let k = sentences.partition_point(|&(s, _)| s as u64 <= es);
        if k > 0 && ee <= sentences[k - 1].1 as u64 {
            members[k - 1].push(i);
            placed += 1;
        }
    }
    // medkit's order: iteration of the Python set intervaltree's envelop() returns
    let mut tree = intervaltree::IntervalTree::default();
    let mut by_id = Vec::new();
    for (i, (_, ext)) in entities.iter().enumerate() {
        if let Some((es, ee)) = *ext {
            if tree.addi(es, ee).is_some() {
                by_id.push(i);
            }
        }
    }
    let mut out = Vec::with_capacity(sentences.len());
    for ((s, e), member) in sentences.into_iter().zip(members) {
        let s64 = s as u64;
        let mut order: Vec<usize> = tree
            .envelop(s64, e as u64)
            .into_iter()
            .map(|id| by_id[id])
            .collect();
        // empty entities (which intervaltree refuses, failing medkit) come last
        order.extend(
            member
                .into_iter()
                .filter(|&i| entities[i].1.is_some_and(|(es, ee)| es >= ee)),
        );
        let mut anns = Vec::new();
        let mut uid_map: HashMap<&str, String> = HashMap::new();
        for i in order {
            let ent = entities[i].0;
            let new = Segment {
                uid: new_uid().into(),
                label: ent.label.clone(),
                spans: ent.spans.iter().map(|sp| shift(sp, s64)).collect(),
                text: ent.text.clone(),
                attrs: Default::default(),
                metadata: ent.metadata.clone(),
            };
            uid_map.insert(ent.uid.as_str(), new.uid.to_string());
            anns.push(Annotation::Entity(new));
        }
        for r in &relations {
            if let (Some(src), Some(tgt)) = (
                uid_map.get(r.source_id.as_str()),
                uid_map.get(r.target_id.as_str()),
            ) {
                anns.push(Annotation::Relation(Relation {
                    uid: new_uid().into(),
                    label: r.label.clone(),
                    source_id: src.as_str().into(),
                    target_id: tgt.as_str().into(),
                    attrs: Default::default(),
                    metadata: r.metadata.clone(),
                }));
            }
        }
        out.push(TextDocument {
            uid: new_uid().into(),
            text: chars[s..e].iter().collect::<String>().into(),
            metadata: doc.metadata.clone(),
            anns: anns.into(),
            attrs: Default::default(),
        });
    }
    let lost = entities.len() - placed;
    (out, lost)
}

fn shift(sp: &AnySpan, by: u64) -> AnySpan {
    let sh = |s: &Span| Span::new(s.start - by, s.end - by);
    match sp {
        AnySpan::Span(s) => AnySpan::Span(sh(s)),
        AnySpan::Modified(m) => AnySpan::Modified(ModifiedSpan {
            length: m.length,
            replaced_spans: m.replaced_spans.iter().map(sh).collect(),
        }),
    }
}
