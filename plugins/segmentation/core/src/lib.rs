//! medkit's `SentenceTokenizer` rules: where sentences start and end in a text, in characters
//! (code points), exactly as medkit 0.17 finds them with its two regular expressions.
//!
//! Used by the host's corpus splitting (`medkit convert --split-sentences`) and by the
//! `sentence-tokenizer` segmentation operation, so both cut the same sentences.

mod word_chars;

/// medkit's default end punctuation.
pub const DEFAULT_PUNCT_CHARS: [char; 4] = ['.', ';', '?', '!'];

/// `SentenceTokenizer(punct_chars, keep_punct, split_on_newlines)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentenceRules {
    /// Characters that end a sentence (medkit joins its `punct_chars` strings into one class).
    pub punct_chars: Vec<char>,
    /// Whether a sentence keeps its end punctuation.
    pub keep_punct: bool,
    /// Whether newlines end sentences too (and are never part of one).
    pub split_on_newlines: bool,
}

impl Default for SentenceRules {
    /// medkit's defaults: `(".", ";", "?", "!")`, `keep_punct=False`, `split_on_newlines=True`.
    fn default() -> Self {
        SentenceRules {
            punct_chars: DEFAULT_PUNCT_CHARS.to_vec(),
            keep_punct: false,
            split_on_newlines: true,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RulesError {
    /// Python's regex `[^]+` would not compile either.
    #[error("punct_chars is empty: at least one end-of-sentence character is needed")]
    NoPunct,
}

impl SentenceRules {
    /// Rules from medkit's `punct_chars` strings (each string's characters count).
    pub fn new(
        punct_chars: &[String],
        keep_punct: bool,
        split_on_newlines: bool,
    ) -> Result<Self, RulesError> {
        let mut chars: Vec<char> = punct_chars.iter().flat_map(|s| s.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        if chars.is_empty() {
            return Err(RulesError::NoPunct);
        }
        Ok(SentenceRules {
            punct_chars: chars,
            keep_punct,
            split_on_newlines,
        })
    }

    /// Sentence ranges `[start, end)` in characters of `text`, in order.
    pub fn sentence_ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let chars: Vec<char> = text.chars().collect();
        let is_punct = |c: char| self.punct_chars.contains(&c);
        let mut out = Vec::new();
        let mut sentences_in = |from: usize, to: usize| {
            // ` *(?P<content>[^PUNCT]+) *(?P<separator>[PUNCT]+|$)`
            for (s, content_end, sep_end) in find_all(&chars, from, to, is_punct) {
                let e = if self.keep_punct {
                    sep_end
                } else {
                    content_end
                };
                if e > s && has_word_char(&chars[s..e]) {
                    out.push((s, e));
                }
            }
        };
        if self.split_on_newlines {
            let is_nl = |c: char| c == '\n' || c == '\r';
            // ` *(?P<content>[^\n\r]+) *(?P<separator>[\n\r]+|$)`, newlines never kept
            for (ls, le, _) in find_all(&chars, 0, chars.len(), is_nl) {
                if has_word_char(&chars[ls..le]) {
                    sentences_in(ls, le);
                }
            }
        } else {
            sentences_in(0, chars.len());
        }
        out
    }
}

/// `re.finditer` of ` *(?P<content>[^SEP]+) *(?P<separator>[SEP]+|$)` over `chars[from..to]`:
/// (content start, content end, separator end) of each match. The content class is greedy, so
/// it takes the spaces before a separator, and `$` can only match at `to`.
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
        } else if k > 0 && !sep(' ') {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(rules: &SentenceRules, t: &str) -> Vec<String> {
        let c: Vec<char> = t.chars().collect();
        rules
            .sentence_ranges(t)
            .into_iter()
            .map(|(s, e)| c[s..e].iter().collect())
            .collect()
    }

    fn keep() -> SentenceRules {
        SentenceRules {
            keep_punct: true,
            ..Default::default()
        }
    }

    #[test]
    fn medkit_sentence_rules() {
        assert_eq!(
            sents(
                &keep(),
                "  Fièvre aiguë.  Toux ; sèche!!\n\n ... \nEC 1.1. 1. 49  \r\nfin"
            ),
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
        assert!(sents(&keep(), "").is_empty());
        assert!(sents(&keep(), "...\n  \n").is_empty());
        // circled letters and lone combining marks are not \w for Python (they are alphabetic for Rust)
        assert!(sents(&keep(), "\u{24b6}. \u{0301}; a").len() == 1);
        assert!(word_chars::is_word_char('_') && word_chars::is_word_char('é'));
        assert!(!word_chars::is_word_char(' ') && !word_chars::is_word_char('\u{10ffff}'));
    }

    // Expected values: medkit 0.17's SentenceTokenizer with the same arguments.
    #[test]
    fn medkit_defaults_drop_punct_and_keep_trailing_spaces() {
        let d = SentenceRules::default();
        assert_eq!(
            sents(&d, "Fièvre aiguë . Toux sèche!\nÉtat stable"),
            vec!["Fièvre aiguë ", "Toux sèche", "État stable"]
        );
    }

    #[test]
    fn without_newline_splitting_a_sentence_spans_lines() {
        let r = SentenceRules {
            split_on_newlines: false,
            ..Default::default()
        };
        assert_eq!(
            sents(&r, "Fièvre\naiguë. Toux"),
            vec!["Fièvre\naiguë", "Toux"]
        );
    }

    #[test]
    fn cookbook_punct_chars() {
        // The medkit cookbook splits QUAERO with punct_chars=["?", "!"]: periods do not cut.
        let r = SentenceRules::new(&["?".into(), "!".into()], false, true).unwrap();
        assert_eq!(
            sents(&r, "Dr. Martin voit le patient. Fièvre? Oui!"),
            vec!["Dr. Martin voit le patient. Fièvre", "Oui"]
        );
        assert_eq!(
            SentenceRules::new(&[], false, true),
            Err(RulesError::NoPunct)
        );
        // each string's characters count, as in medkit's joined character class
        let r = SentenceRules::new(&["?!".into()], true, true).unwrap();
        assert_eq!(r.punct_chars, vec!['!', '?']);
        // a space among the punct chars cannot start a sentence (medkit: [] here)
        let r = SentenceRules::new(&[" ".into(), "a".into()], true, true).unwrap();
        assert!(sents(&r, "  a").is_empty());
    }
}
