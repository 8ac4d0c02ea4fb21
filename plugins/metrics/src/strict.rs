//! seqeval's strict mode: the token schemes and entity extraction of seqeval/scheme.py
//! (`Token` subclasses, `Tokens.entities`, `auto_detect`).

use crate::error::SeqevalError;
use std::collections::BTreeSet;

/// Prefix flags, as seqeval's `Prefix` enum.Flag.
type Prefixes = u8;
const I: Prefixes = 1;
const O: Prefixes = 2;
const B: Prefixes = 4;
const E: Prefixes = 8;
const S: Prefixes = 16;
const U: Prefixes = 32;
const L: Prefixes = 64;
const ANY: Prefixes = I | O | B | E | S | U | L;

#[derive(Clone, Copy, PartialEq, Eq)]
enum TagCond {
    Same,
    Diff,
    Any,
}
use TagCond::{Any, Diff, Same};

type Pattern = (Prefixes, Prefixes, TagCond);

/// The schemes of seqeval's strict mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrictScheme {
    Iob1,
    Iob2,
    Ioe1,
    Ioe2,
    Iobes,
    Bilou,
}

struct Patterns {
    allowed: Prefixes,
    allowed_text: &'static str,
    start: &'static [Pattern],
    inside: &'static [Pattern],
    end: &'static [Pattern],
}

impl StrictScheme {
    pub fn from_name(name: &str) -> Result<Self, SeqevalError> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "iob1" => StrictScheme::Iob1,
            "iob2" => StrictScheme::Iob2,
            "ioe1" => StrictScheme::Ioe1,
            "ioe2" => StrictScheme::Ioe2,
            "iobes" => StrictScheme::Iobes,
            "bilou" => StrictScheme::Bilou,
            _ => {
                return Err(SeqevalError::UnknownName {
                    what: "scheme",
                    value: name.to_string(),
                    expected: "iob1, iob2, ioe1, ioe2, iobes or bilou",
                })
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            StrictScheme::Iob1 => "iob1",
            StrictScheme::Iob2 => "iob2",
            StrictScheme::Ioe1 => "ioe1",
            StrictScheme::Ioe2 => "ioe2",
            StrictScheme::Iobes => "iobes",
            StrictScheme::Bilou => "bilou",
        }
    }

    fn patterns(&self) -> Patterns {
        match self {
            StrictScheme::Iob1 => Patterns {
                allowed: I | O | B,
                allowed_text: "I|O|B",
                start: &[
                    (O, I, Any),
                    (I, I, Diff),
                    (B, I, Any),
                    (I, B, Same),
                    (B, B, Same),
                ],
                inside: &[(B, I, Same), (I, I, Same)],
                end: &[
                    (I, I, Diff),
                    (I, O, Any),
                    (I, B, Any),
                    (B, O, Any),
                    (B, I, Diff),
                    (B, B, Same),
                ],
            },
            StrictScheme::Ioe1 => Patterns {
                allowed: I | O | E,
                allowed_text: "I|O|E",
                start: &[(O, I, Any), (I, I, Diff), (E, I, Any), (E, E, Same)],
                inside: &[(I, I, Same), (I, E, Same)],
                end: &[
                    (I, I, Diff),
                    (I, O, Any),
                    (I, E, Diff),
                    (E, I, Same),
                    (E, E, Same),
                ],
            },
            StrictScheme::Iob2 => Patterns {
                allowed: I | O | B,
                allowed_text: "I|O|B",
                start: &[(ANY, B, Any)],
                inside: &[(B, I, Same), (I, I, Same)],
                end: &[
                    (I, O, Any),
                    (I, I, Diff),
                    (I, B, Any),
                    (B, O, Any),
                    (B, I, Diff),
                    (B, B, Any),
                ],
            },
            StrictScheme::Ioe2 => Patterns {
                allowed: I | O | E,
                allowed_text: "I|O|E",
                start: &[
                    (O, I, Any),
                    (O, E, Any),
                    (E, I, Any),
                    (E, E, Any),
                    (I, I, Diff),
                    (I, E, Diff),
                ],
                inside: &[(I, E, Same), (I, I, Same)],
                end: &[(E, ANY, Any)],
            },
            StrictScheme::Iobes => Patterns {
                allowed: I | O | B | E | S,
                allowed_text: "I|O|B|E|S",
                start: &[(ANY, B, Any), (ANY, S, Any)],
                inside: &[(B, I, Same), (B, E, Same), (I, I, Same), (I, E, Same)],
                end: &[(S, ANY, Any), (E, ANY, Any)],
            },
            StrictScheme::Bilou => Patterns {
                allowed: B | I | L | O | U,
                allowed_text: "I|O|B|U|L",
                start: &[(ANY, B, Any), (ANY, U, Any)],
                inside: &[(B, I, Same), (B, L, Same), (I, I, Same), (I, L, Same)],
                end: &[(U, ANY, Any), (L, ANY, Any)],
            },
        }
    }
}

/// A parsed token: prefix flag and tag (`token[1:].strip('-') or '_'`).
#[derive(Clone)]
struct Token<'a> {
    prefix: Prefixes,
    tag: &'a str,
}

fn prefix_flag(c: char) -> Option<Prefixes> {
    Some(match c {
        'I' => I,
        'O' => O,
        'B' => B,
        'E' => E,
        'S' => S,
        'U' => U,
        'L' => L,
        _ => return None,
    })
}

fn parse(token: &str) -> Result<Token<'_>, SeqevalError> {
    let mut chars = token.chars();
    let first = chars.next().ok_or(SeqevalError::EmptyTag)?;
    let prefix = prefix_flag(first).ok_or_else(|| SeqevalError::InvalidToken {
        token: token.to_string(),
        allowed: "I|O|B|E|S|U|L".into(),
    })?;
    let tag = chars.as_str().trim_matches('-');
    Ok(Token {
        prefix,
        tag: if tag.is_empty() { "_" } else { tag },
    })
}

fn matches(prev: &Token, cur: &Token, patterns: &[Pattern]) -> bool {
    patterns.iter().any(|&(p, c, cond)| {
        prev.prefix & p != 0
            && cur.prefix & c != 0
            && match cond {
                Any => true,
                Same => prev.tag == cur.tag,
                Diff => prev.tag != cur.tag,
            }
    })
}

/// Checks one tag against the scheme, as seqeval's `Token(...)` + `is_valid` would.
pub fn validate(scheme: StrictScheme, token: &str) -> Result<(), SeqevalError> {
    let p = scheme.patterns();
    let prefix = match parse(token) {
        Ok(t) => t.prefix,
        Err(SeqevalError::InvalidToken { .. }) => 0,
        Err(e) => return Err(e),
    };
    if prefix & p.allowed == 0 {
        return Err(SeqevalError::InvalidToken {
            token: token.to_string(),
            allowed: p.allowed_text.into(),
        });
    }
    Ok(())
}

/// Entities (sent_id, tag, start, end exclusive) of every sequence, as `Entities(...)`.
pub fn entities<S: AsRef<str>>(
    sequences: &[Vec<S>],
    scheme: StrictScheme,
) -> Result<BTreeSet<(usize, String, usize, usize)>, SeqevalError> {
    let p = scheme.patterns();
    let mut out = BTreeSet::new();
    for (sent_id, seq) in sequences.iter().enumerate() {
        let mut ext = Vec::with_capacity(seq.len() + 1);
        for tag in seq {
            validate(scheme, tag.as_ref())?;
            ext.push(parse(tag.as_ref())?);
        }
        ext.push(Token {
            prefix: O,
            tag: "_",
        });
        for (tag, start, end) in sequence_entities(&ext, &p) {
            out.insert((sent_id, tag.to_string(), start, end));
        }
    }
    Ok(out)
}

/// `Tokens.entities` over the extended tokens (the sequence plus a final "O").
fn sequence_entities<'a>(ext: &[Token<'a>], p: &Patterns) -> Vec<(&'a str, usize, usize)> {
    let n_tokens = ext.len() - 1;
    let outside = Token {
        prefix: O,
        tag: "_",
    };
    let mut found = Vec::new();
    let mut i = 0;
    let mut prev = outside;
    while i < ext.len() {
        let token = &ext[i];
        if matches(&prev, token, p.start) {
            let end = forward(ext, i + 1, token.clone(), p, n_tokens);
            if end >= 1 && end < ext.len() && matches(&ext[end - 1], &ext[end], p.end) {
                found.push((token.tag, i, end));
            }
            // Python sets i = end; never step back, so malformed input cannot loop forever
            i = end.max(i + 1);
        } else {
            i += 1;
        }
        prev = ext[i - 1].clone();
    }
    found
}

fn forward<'a>(
    ext: &[Token<'a>],
    start: usize,
    mut prev: Token<'a>,
    p: &Patterns,
    n_tokens: usize,
) -> usize {
    for (i, token) in ext.iter().enumerate().skip(start) {
        if matches(&prev, token, p.inside) {
            prev = token.clone();
        } else {
            return i;
        }
    }
    n_tokens.saturating_sub(1)
}

/// seqeval's `auto_detect` over y_true: IOB2, IOE2, IOBES or BILOU from the prefixes used.
pub fn auto_detect<S: AsRef<str>>(sequences: &[Vec<S>]) -> Result<StrictScheme, SeqevalError> {
    let mut used: Prefixes = 0;
    for tag in sequences.iter().flatten() {
        used |= parse(tag.as_ref())
            .map_err(|_| SeqevalError::UnsupportedScheme(tag.as_ref().to_string()))?
            .prefix;
    }
    let iob2 = [I | O | B, I | B, B | O, B];
    let ioe2 = [I | O | E, I | E, E | O, E];
    let iobes = [
        I | O | B | E | S,
        I | B | E | S,
        I | O | B | E,
        O | B | E | S,
        I | B | E,
        B | E | S,
        O | B | E,
        B | E,
        S,
    ];
    let bilou = [
        I | O | B | L | U,
        I | B | L | U,
        I | O | B | L,
        O | B | L | U,
        I | B | L,
        B | L | U,
        O | B | L,
        B | L,
        U,
    ];
    if iob2.contains(&used) {
        Ok(StrictScheme::Iob2)
    } else if ioe2.contains(&used) {
        Ok(StrictScheme::Ioe2)
    } else if iobes.contains(&used) {
        Ok(StrictScheme::Iobes)
    } else if bilou.contains(&used) {
        Ok(StrictScheme::Bilou)
    } else {
        Err(SeqevalError::UnsupportedScheme(prefix_set_text(used)))
    }
}

fn prefix_set_text(used: Prefixes) -> String {
    let names = ["I", "O", "B", "E", "S", "U", "L"];
    let set: Vec<_> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| used & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    format!("{{{}}}", set.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ents(seq: &[&str], scheme: StrictScheme) -> Vec<(String, usize, usize)> {
        let seqs = vec![seq.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
        entities(&seqs, scheme)
            .unwrap()
            .into_iter()
            .map(|(_, t, s, e)| (t, s, e))
            .collect()
    }

    #[test]
    fn docstring_example() {
        let got = ents(&["B-PER", "I-PER", "O", "B-LOC"], StrictScheme::Iob2);
        assert_eq!(got, vec![("LOC".into(), 3, 4), ("PER".into(), 0, 2)]);
    }

    #[test]
    fn strict_drops_malformed_chunks() {
        assert!(ents(&["I-PER", "I-PER", "O"], StrictScheme::Iob2).is_empty());
        assert!(ents(&["B-PER", "I-PER"], StrictScheme::Bilou).is_empty());
        assert_eq!(
            ents(&["B-PER", "L-PER", "U-LOC"], StrictScheme::Bilou),
            vec![("LOC".into(), 2, 3), ("PER".into(), 0, 2)]
        );
    }

    #[test]
    fn invalid_prefixes_are_errors() {
        let seqs = vec![vec!["U-PER".to_string()]];
        assert!(entities(&seqs, StrictScheme::Iob2).is_err());
        let seqs = vec![vec!["X-PER".to_string()]];
        assert!(entities(&seqs, StrictScheme::Bilou).is_err());
    }

    #[test]
    fn auto_detects_like_seqeval() {
        let d = |v: &[&str]| auto_detect(&[v.iter().map(|s| s.to_string()).collect::<Vec<_>>()]);
        assert_eq!(d(&["B-A", "I-A", "O"]), Ok(StrictScheme::Iob2));
        assert_eq!(d(&["S-A"]), Ok(StrictScheme::Iobes));
        assert_eq!(d(&["U-A"]), Ok(StrictScheme::Bilou));
        assert!(d(&["U-A", "O"]).is_err());
        assert!(d(&["I-A", "O"]).is_err());
        assert!(d(&["O"]).is_err());
    }
}
