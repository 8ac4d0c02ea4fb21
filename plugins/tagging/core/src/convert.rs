//! Entities ⇄ token tags, and tag ids aligned with sub-tokens (medkit's hf_tokenization_utils).

use crate::scheme::{Scheme, TaggingError};
use std::collections::HashMap;

/// The id of special tokens and ignored sub-tokens (HF's loss ignore index).
pub const SPECIAL_TAG_ID: i64 = -100;

/// Entities as (label, char spans); tokens as char offsets, None for special tokens → one tag per
/// token ("O" for special tokens). As medkit's transform_entities_to_tags: an entity runs from the
/// start of its first span to the end of its last span (spans sorted by start), and a token
/// belongs to it if one of those characters maps to the token (first token containing the char,
/// as HF's char_to_token). Later entities overwrite earlier ones.
pub fn entities_to_tags(
    scheme: Scheme,
    entities: &[(String, Vec<(usize, usize)>)],
    tokens: &[Option<(usize, usize)>],
) -> Vec<String> {
    let mut tags = vec!["O".to_string(); tokens.len()];
    let index = TokenIndex::new(tokens);
    for (label, spans) in entities {
        let Some((start, end)) = entity_range(spans) else {
            continue;
        };
        let token_ids = index.tokens_in(tokens, start, end);
        for (idx, tag) in token_ids
            .iter()
            .zip(scheme.entity_tags(token_ids.len(), label))
        {
            tags[*idx] = tag;
        }
    }
    tags
}

/// medkit's normalize_spans then (first.start, last.end): spans sorted by start (stable).
fn entity_range(spans: &[(usize, usize)]) -> Option<(usize, usize)> {
    let mut sorted = spans.to_vec();
    sorted.sort_by_key(|s| s.0);
    Some((sorted.first()?.0, sorted.last()?.1))
}

/// Finds the tokens an entity's characters map to, as HF's char_to_token (the first token whose
/// offsets contain the char).
enum TokenIndex {
    /// Non-empty tokens in order, none overlapping (every real tokenizer): (start, end, index).
    /// A char then belongs to at most one token, found by binary search.
    Sorted(Vec<(usize, usize, usize)>),
    /// Overlapping or unordered offsets: a scan per char, as HF does.
    Scan { max_end: usize },
}

impl TokenIndex {
    fn new(tokens: &[Option<(usize, usize)>]) -> Self {
        let spans: Vec<(usize, usize, usize)> = tokens
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.filter(|t| t.0 < t.1).map(|(s, e)| (s, e, i)))
            .collect();
        if spans.windows(2).all(|w| w[0].1 <= w[1].0) {
            TokenIndex::Sorted(spans)
        } else {
            let max_end = spans.iter().map(|t| t.1).max().unwrap_or(0);
            TokenIndex::Scan { max_end }
        }
    }

    /// Sorted, distinct indices of the tokens holding a char of `[start, end)`.
    fn tokens_in(&self, tokens: &[Option<(usize, usize)>], start: usize, end: usize) -> Vec<usize> {
        match self {
            TokenIndex::Sorted(spans) => {
                let first = spans.partition_point(|t| t.1 <= start);
                spans[first..]
                    .iter()
                    .take_while(|t| t.0 < end)
                    .map(|t| t.2)
                    .collect()
            }
            TokenIndex::Scan { max_end } => {
                let mut ids: Vec<usize> = (start..end.min(*max_end))
                    .filter_map(|c| {
                        tokens
                            .iter()
                            .position(|t| matches!(t, Some((s, e)) if *s <= c && c < *e))
                    })
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            }
        }
    }
}

/// medkit's align_and_map_tokens_with_tags: -100 for special tokens (word_id None); the first
/// sub-token of each word → id of its tag; later sub-tokens → -100 unless `tag_subtokens`.
pub fn align_labels(
    tags: &[String],
    word_ids: &[Option<u32>],
    tag_to_id: &HashMap<String, i64>,
    tag_subtokens: bool,
) -> Result<Vec<i64>, TaggingError> {
    if tags.len() != word_ids.len() {
        return Err(TaggingError::LengthMismatch {
            tags: tags.len(),
            tokens: word_ids.len(),
        });
    }
    let id_of = |tag: &String| {
        tag_to_id
            .get(tag)
            .copied()
            .ok_or_else(|| TaggingError::UnknownTag(tag.clone()))
    };
    let mut ids = vec![SPECIAL_TAG_ID; tags.len()];
    let mut prev_word = None;
    for (idx, (tag, word)) in tags.iter().zip(word_ids).enumerate() {
        let Some(word) = word else { continue };
        if prev_word != Some(*word) {
            ids[idx] = id_of(tag)?;
            prev_word = Some(*word);
        }
        if tag_subtokens {
            ids[idx] = id_of(tag)?;
        }
    }
    Ok(ids)
}

/// Tags + token char offsets → (label, start, end) char ranges. Chunks as seqeval's default
/// (conlleval) mode, so malformed sequences are tolerated: an I- (or L-) without B- opens a chunk.
/// BILOU's U/L are read as IOBES's S/E. Special tokens (None) count as "O".
pub fn tags_to_entities(
    scheme: Scheme,
    tags: &[String],
    tokens: &[Option<(usize, usize)>],
) -> Vec<(String, usize, usize)> {
    let n = tags.len().min(tokens.len());
    let parsed: Vec<(char, &str)> = (0..n)
        .map(|i| match tokens[i] {
            None => ('O', "_"),
            Some(_) => parse_tag(scheme, &tags[i]),
        })
        .collect();
    conll_chunks(&parsed)
        .into_iter()
        .filter_map(|(label, first, last)| {
            let (start, _) = tokens[first]?;
            let (_, end) = tokens[last]?;
            Some((label.to_string(), start, end.max(start)))
        })
        .collect()
}

/// (prefix, type) the way seqeval's get_entities splits a tag: type "_" when empty.
fn parse_tag(scheme: Scheme, tag: &str) -> (char, &str) {
    let mut chars = tag.chars();
    let Some(prefix) = chars.next() else {
        return ('O', "_");
    };
    let rest = chars.as_str();
    let kind = match rest.split_once('-') {
        Some((_, after)) => after,
        None => rest,
    };
    let prefix = match (scheme, prefix) {
        (Scheme::Bilou, 'U') => 'S',
        (Scheme::Bilou, 'L') => 'E',
        (_, p) => p,
    };
    (prefix, if kind.is_empty() { "_" } else { kind })
}

/// seqeval's get_entities over one sequence: (type, first, last) token indices.
fn conll_chunks<'a>(seq: &[(char, &'a str)]) -> Vec<(&'a str, usize, usize)> {
    let mut chunks = Vec::new();
    let (mut prev_tag, mut prev_type) = ('O', "");
    let mut begin = 0;
    for (i, &(tag, kind)) in seq.iter().chain([('O', "_")].iter()).enumerate() {
        let end = matches!(prev_tag, 'E' | 'S')
            || (prev_tag == 'B' && matches!(tag, 'B' | 'S' | 'O'))
            || (prev_tag == 'I' && matches!(tag, 'B' | 'S' | 'O'))
            || (prev_tag != 'O' && prev_tag != '.' && prev_type != kind);
        if end {
            chunks.push((prev_type, begin, i - 1));
        }
        let start = matches!(tag, 'B' | 'S')
            || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
            || (tag != 'O' && tag != '.' && prev_type != kind);
        if start {
            begin = i;
        }
        prev_tag = tag;
        prev_type = kind;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }
    fn ent(label: &str, spans: &[(usize, usize)]) -> (String, Vec<(usize, usize)>) {
        (label.to_string(), spans.to_vec())
    }

    // "medkit" tokenized by bert as [CLS] med ##kit [SEP] (medkit's docstring example)
    fn medkit_tokens() -> Vec<Option<(usize, usize)>> {
        vec![None, Some((0, 3)), Some((3, 6)), None]
    }

    // "The patient has asthma" between two special tokens
    fn patient_tokens() -> Vec<Option<(usize, usize)>> {
        vec![
            None,
            Some((0, 3)),
            Some((4, 11)),
            Some((12, 15)),
            Some((16, 22)),
            None,
        ]
    }

    #[test]
    fn docstring_example_bilou_and_iob2() {
        let ents = [ent("corporation", &[(0, 6)])];
        assert_eq!(
            entities_to_tags(Scheme::Bilou, &ents, &medkit_tokens()),
            s(&["O", "B-corporation", "L-corporation", "O"])
        );
        assert_eq!(
            entities_to_tags(Scheme::Iob2, &ents, &medkit_tokens()),
            s(&["O", "B-corporation", "I-corporation", "O"])
        );
    }

    #[test]
    fn align_docstring_example() {
        let tags = s(&["O", "B-corporation", "I-corporation", "O"]);
        let word_ids = [None, Some(0), Some(0), None];
        let map: HashMap<String, i64> = [("O", 0), ("B-corporation", 1), ("I-corporation", 2)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        assert_eq!(
            align_labels(&tags, &word_ids, &map, true).unwrap(),
            vec![-100, 1, 2, -100]
        );
        assert_eq!(
            align_labels(&tags, &word_ids, &map, false).unwrap(),
            vec![-100, 1, -100, -100]
        );
        assert_eq!(
            align_labels(&s(&["O", "B-x"]), &[Some(0), Some(1)], &map, true),
            Err(TaggingError::UnknownTag("B-x".into()))
        );
        assert!(align_labels(&tags, &word_ids[..2], &map, true).is_err());
    }

    #[test]
    fn token_partially_covered_belongs_to_entity() {
        // entity "atien" inside token "patient", plus a 2-token entity
        let tokens = patient_tokens();
        let ents = [ent("p", &[(5, 10)]), ent("d", &[(12, 22)])];
        assert_eq!(
            entities_to_tags(Scheme::Bilou, &ents, &tokens),
            s(&["O", "O", "U-p", "B-d", "L-d", "O"])
        );
        // an entity on whitespace only, and one beyond the text: no token, no tag
        let ents = [ent("w", &[(3, 4)]), ent("far", &[(100, 120)])];
        assert_eq!(entities_to_tags(Scheme::Iob2, &ents, &tokens), s(&["O"; 6]));
    }

    #[test]
    fn overlapping_tokens_take_the_first_containing_token() {
        // token 1 overlaps token 0: chars 2..4 belong to token 0, char 4 to token 1
        let tokens = vec![Some((0, 4)), Some((2, 5)), Some((5, 7))];
        let tags = entities_to_tags(Scheme::Iob2, &[ent("x", &[(2, 4)])], &tokens);
        assert_eq!(tags, s(&["B-x", "O", "O"]));
        let tags = entities_to_tags(Scheme::Iob2, &[ent("x", &[(3, 6)])], &tokens);
        assert_eq!(tags, s(&["B-x", "I-x", "I-x"]));
        // absurd offsets neither panic nor allocate
        let far = vec![Some((0, 1)), Some((1 << 50, (1 << 50) + 1))];
        let tags = entities_to_tags(Scheme::Bilou, &[ent("x", &[(0, usize::MAX)])], &far);
        assert_eq!(tags, s(&["B-x", "L-x"]));
    }

    #[test]
    fn discontinuous_spans_cover_the_gap() {
        let tokens: Vec<_> = (0..5).map(|i| Some((i * 2, i * 2 + 1))).collect();
        let ents = [ent("x", &[(6, 7), (0, 1)])];
        assert_eq!(
            entities_to_tags(Scheme::Iob2, &ents, &tokens),
            s(&["B-x", "I-x", "I-x", "I-x", "O"])
        );
    }

    #[test]
    fn tags_back_to_entities() {
        let tokens = patient_tokens();
        let tags = s(&["O", "B-p", "I-p", "O", "B-d", "O"]);
        assert_eq!(
            tags_to_entities(Scheme::Iob2, &tags, &tokens),
            vec![("p".into(), 0, 11), ("d".into(), 16, 22)]
        );
        // malformed: I- without B-, type change inside a chunk
        let tags = s(&["O", "I-p", "I-d", "I-d", "O", "O"]);
        assert_eq!(
            tags_to_entities(Scheme::Iob2, &tags, &tokens),
            vec![("p".into(), 0, 3), ("d".into(), 4, 15)]
        );
        let tags = s(&["O", "U-p", "L-d", "B-d", "L-d", "O"]);
        assert_eq!(
            tags_to_entities(Scheme::Bilou, &tags, &tokens),
            vec![
                ("p".into(), 0, 3),
                ("d".into(), 4, 11),
                ("d".into(), 12, 22)
            ]
        );
        // a tag on a special token is ignored
        let tags = s(&["B-p", "I-p", "O", "O", "O", "I-p"]);
        assert_eq!(
            tags_to_entities(Scheme::Iob2, &tags, &tokens),
            vec![("p".into(), 0, 3)]
        );
    }

    #[test]
    fn round_trip_every_scheme() {
        let tokens: Vec<_> = (0..10).map(|i| Some((i * 3, i * 3 + 2))).collect();
        let ents = [
            ent("a", &[(0, 5)]),
            ent("b", &[(9, 10)]),
            ent("a", &[(12, 20)]),
        ];
        for scheme in [Scheme::Iob2, Scheme::Bilou, Scheme::Iobes] {
            let tags = entities_to_tags(scheme, &ents, &tokens);
            assert_eq!(
                tags_to_entities(scheme, &tags, &tokens),
                vec![
                    ("a".into(), 0, 5),
                    ("b".into(), 9, 11),
                    ("a".into(), 12, 20)
                ],
                "{scheme:?} {tags:?}"
            );
        }
    }
}
