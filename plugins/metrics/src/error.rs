//! Errors of the seqeval port (Python raises ValueError/KeyError/IndexError for these).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SeqevalError {
    #[error(
        "found input variables with inconsistent numbers of samples: {true_lens:?} vs {pred_lens:?}"
    )]
    InconsistentLength {
        true_lens: Vec<usize>,
        pred_lens: Vec<usize>,
    },
    #[error("empty tag (a tag needs at least a prefix character)")]
    EmptyTag,
    #[error("invalid token is found: {token}. Allowed prefixes are: {allowed}")]
    InvalidToken { token: String, allowed: String },
    #[error("this scheme is not supported: {0}")]
    UnsupportedScheme(String),
    #[error("unknown {what} '{value}' (expected {expected})")]
    UnknownName {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("tag id {0} is not in the label set")]
    UnknownTagId(i64),
    #[error("invalid config: {0}")]
    Config(String),
}
