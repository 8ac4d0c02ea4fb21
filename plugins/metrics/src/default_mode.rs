//! seqeval's default (conlleval-compatible) chunking: `get_entities`, `end_of_chunk`,
//! `start_of_chunk` of seqeval/metrics/sequence_labeling.py.

use crate::error::SeqevalError;

/// (type, first, last) with inclusive token indices, over the concatenation of `sequences`
/// with an "O" after each one, as seqeval does for nested lists.
pub fn get_entities<S: AsRef<str>>(
    sequences: &[Vec<S>],
) -> Result<Vec<(String, usize, usize)>, SeqevalError> {
    let mut flat: Vec<(char, &str)> = Vec::new();
    for seq in sequences {
        for tag in seq {
            flat.push(split_tag(tag.as_ref())?);
        }
        flat.push(('O', "_"));
    }
    Ok(chunks(&flat))
}

/// (prefix, type) as seqeval: `chunk[0]`, `chunk[1:].split('-', maxsplit=1)[-1] or '_'`.
pub fn split_tag(tag: &str) -> Result<(char, &str), SeqevalError> {
    let mut chars = tag.chars();
    let prefix = chars.next().ok_or(SeqevalError::EmptyTag)?;
    let rest = chars.as_str();
    let kind = rest.split_once('-').map_or(rest, |(_, after)| after);
    Ok((prefix, if kind.is_empty() { "_" } else { kind }))
}

/// Whether seqeval's `_validate_chunk` would warn ("seems not to be NE tag").
pub fn is_ne_tag(tag: &str) -> bool {
    matches!(tag, "O" | "B" | "I" | "E" | "S")
        || ["B-", "I-", "E-", "S-"].iter().any(|p| tag.starts_with(p))
}

/// The tags default mode warns about ("{tag} seems not to be NE tag."), each once, in the
/// order `classification_report` first warns about them: `get_entities(y_true)` runs before
/// `get_entities(y_pred)`, each over its tags in order. seqeval still reads these tags (prefix =
/// first character); an empty tag is not listed (seqeval raises on it).
pub fn unknown_tags<'a, S: AsRef<str>>(y_true: &'a [Vec<S>], y_pred: &'a [Vec<S>]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for tag in y_true.iter().chain(y_pred).flatten() {
        let tag = tag.as_ref();
        if !tag.is_empty() && !is_ne_tag(tag) && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

fn chunks(seq: &[(char, &str)]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let (mut prev_tag, mut prev_type) = ('O', "");
    let mut begin = 0;
    for (i, &(tag, kind)) in seq.iter().chain(std::iter::once(&('O', "_"))).enumerate() {
        if end_of_chunk(prev_tag, tag, prev_type, kind) {
            out.push((prev_type.to_string(), begin, i.saturating_sub(1)));
        }
        if start_of_chunk(prev_tag, tag, prev_type, kind) {
            begin = i;
        }
        prev_tag = tag;
        prev_type = kind;
    }
    out
}

fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, kind: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != kind)
}

fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, kind: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn docstring_example() {
        let e = get_entities(&[v(&["B-PER", "I-PER", "O", "B-LOC"])]).unwrap();
        assert_eq!(e, vec![("PER".into(), 0, 1), ("LOC".into(), 3, 3)]);
    }

    #[test]
    fn malformed_and_odd_tags() {
        let e = get_entities(&[v(&["I-A", "I-B", "E-B", "S-C", "BX"])]).unwrap();
        assert_eq!(
            e,
            vec![
                ("A".into(), 0, 0),
                ("B".into(), 1, 2),
                ("C".into(), 3, 3),
                ("X".into(), 4, 4)
            ]
        );
        // the type is what follows the first '-' after the prefix character
        assert_eq!(split_tag("B-A-B").unwrap(), ('B', "A-B"));
        assert_eq!(split_tag("O").unwrap(), ('O', "_"));
        assert_eq!(split_tag("B-").unwrap(), ('B', "_"));
        assert!(split_tag("").is_err());
        assert!(is_ne_tag("B-x") && is_ne_tag("O") && !is_ne_tag("U-x"));
    }

    #[test]
    fn unknown_tags_in_python_order() {
        let t = [v(&["L-A", "B-A", "X-foo"]), v(&["b-x", "L-A", "B-", "B"])];
        let p = [v(&["U-A", "-", "X-foo", "O", ""])];
        assert_eq!(
            unknown_tags(&t, &p),
            vec!["L-A", "X-foo", "b-x", "U-A", "-"]
        );
        // read by their first character, as seqeval: L/U are neither begin nor end markers
        let e = get_entities(&[v(&["B-A", "L-A", "U-B", "X-foo"])]).unwrap();
        assert_eq!(
            e,
            vec![("A".into(), 0, 1), ("B".into(), 2, 2), ("foo".into(), 3, 3)]
        );
    }
}
