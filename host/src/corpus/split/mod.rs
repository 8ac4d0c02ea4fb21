//! Sentence mini-documents, as medkit's
//! `SentenceTokenizer(output_label="sentence", split_on_newlines=True, punct_chars=(".", ";", "?", "!"),
//! keep_punct=True)` + `DocumentSplitter(segment_label="sentence", attr_labels=[])`.

mod intervaltree;
mod pyset;
mod word_chars;

use super::new_uid;
use super::overlaps::extent;
use medkit_sdk::data::{Annotation, AnySpan, ModifiedSpan, Relation, Segment, Span, TextDocument};
use std::collections::HashMap;

const PUNCT: [char; 4] = ['.', ';', '?', '!'];

/// Sentence ranges `[start, end)` in characters, exactly as medkit's SentenceTokenizer finds them.
pub fn sentence_ranges(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let is_nl = |c: char| c == '\n' || c == '\r';
    let mut out = Vec::new();
    // lines: ` *(?P<content>[^\n\r]+) *(?P<separator>[\n\r]+|$)`, content end (keep_separator=False)
    for (ls, le, _) in find_all(&chars, 0, chars.len(), is_nl) {
        if !has_word_char(&chars[ls..le]) {
            continue;
        }
        // in each line: ` *(?P<content>[^.;?!]+) *(?P<separator>[.;?!]+|$)`, separator end (keep_punct)
        for (s, _, e) in find_all(&chars, ls, le, |c| PUNCT.contains(&c)) {
            if e > s && has_word_char(&chars[s..e]) {
                out.push((s, e));
            }
        }
    }
    out
}

/// `re.finditer` of ` *(?P<content>[^SEP]+) *(?P<separator>[SEP]+|$)` over `chars[from..to]`:
/// (content start, content end, separator end) of each match.
fn find_all(
    chars: &[char],
    from: usize,
    to: usize,
    sep: impl Fn(char) -> bool,
) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut p = from;
    while p < to {
        let k = chars[p..to].iter().take_while(|c| **c == ' ').count();
        // greedy ` *`, backtracking one space when the content cannot start after all of them
        let start = if p + k < to && !sep(chars[p + k]) {
            p + k
        } else if k > 0 {
            p + k - 1
        } else {
            p += 1; // no match here: finditer moves on by one character
            continue;
        };
        let end = start + chars[start..to].iter().take_while(|c| !sep(**c)).count();
        let sep_end = end + chars[end..to].iter().take_while(|c| sep(**c)).count();
        out.push((start, end, sep_end));
        p = sep_end;
    }
    out
}

/// Python's `re.search(r"\w", ...)` on str.
fn has_word_char(s: &[char]) -> bool {
    s.iter().any(|c| word_chars::is_word_char(*c))
}

/// Splits `doc` into one mini-document per sentence with its entities (offsets shifted) and the
/// relations between them; returns them and the number of entities lying in no single sentence
/// (DocumentSplitter drops those). As with `attr_labels=[]`, attributes are not copied. Entities
/// come in medkit's order (that of a Python set of intervals, reproduced by `intervaltree`).
pub fn split_sentences(doc: &TextDocument) -> (Vec<TextDocument>, usize) {
    let chars: Vec<char> = doc.text.chars().collect();
    let sentences = sentence_ranges(&doc.text);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(t: &str) -> Vec<String> {
        let c: Vec<char> = t.chars().collect();
        sentence_ranges(t)
            .into_iter()
            .map(|(s, e)| c[s..e].iter().collect())
            .collect()
    }

    #[test]
    fn medkit_sentence_rules() {
        assert_eq!(
            sents("  Fièvre aiguë.  Toux ; sèche!!\n\n ... \nEC 1.1. 1. 49  \r\nfin"),
            vec![
                "Fièvre aiguë.",
                "Toux ;",
                "sèche!!",
                "EC 1.",
                "1.",
                "1.",
                "49  ",
                "fin"
            ]
        );
        assert!(sents("").is_empty());
        assert!(sents("...\n  \n").is_empty());
        // circled letters and lone combining marks are not \w for Python (they are alphabetic for Rust)
        assert!(sents("\u{24b6}. \u{0301}; a").len() == 1);
        assert!(word_chars::is_word_char('_') && word_chars::is_word_char('é'));
        assert!(!word_chars::is_word_char(' ') && !word_chars::is_word_char('\u{10ffff}'));
    }
}
