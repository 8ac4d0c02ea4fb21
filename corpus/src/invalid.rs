//! What a reader does with an annotation that cannot be built (`medkit convert --on-error`,
//! `[train] on_error`): an entity whose text disagrees with its spans' length, a span outside the
//! text or reversed, a malformed `.ann` or CoNLL tag line, a relation, attribute or note pointing at
//! a missing or skipped annotation. `error` (the default) stops with `FILE:LINE: ID: reason`;
//! `skip` drops the annotation with that warning and counts it. A document that cannot be read at
//! all (an unreadable file, bad UTF-8, a line that is not JSON or not a document) is an error
//! under both.

use super::CorpusError;
use serde::Deserialize;
use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Stop at the first annotation that cannot be built (file:line, id).
    #[default]
    Error,
    /// Drop it with a warning naming file:line and id, count it, convert the rest.
    Skip,
}

/// The policy and the count of annotations it skipped; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct InvalidAnnotations {
    policy: OnError,
    skipped: Arc<AtomicUsize>,
}

impl InvalidAnnotations {
    pub fn new(policy: OnError) -> Self {
        InvalidAnnotations {
            policy,
            skipped: Default::default(),
        }
    }

    pub fn policy(&self) -> OnError {
        self.policy
    }

    /// Annotations skipped so far (by this value and its clones).
    pub fn skipped(&self) -> usize {
        self.skipped.load(Ordering::Relaxed)
    }

    /// The annotation `id` at `path:line` cannot be built because of `why`: the error
    /// `PATH:LINE: ID: WHY` (policy `error`), or a warning and a count (`skip`).
    pub(crate) fn handle(
        &self,
        path: &Path,
        line: usize,
        id: &str,
        why: impl Display,
    ) -> Result<(), CorpusError> {
        let e = CorpusError::line(path, line, format!("{id}: {why}"));
        self.handle_error(e)
    }

    /// As [`handle`](Self::handle), for an error already naming the file, line and annotation.
    pub(crate) fn handle_error(&self, e: CorpusError) -> Result<(), CorpusError> {
        match self.policy {
            OnError::Error => Err(e),
            OnError::Skip => {
                log::warn!("{e}; annotation skipped (on-error: skip)");
                self.skipped.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_returns_the_message_skip_counts_it() {
        let inv = InvalidAnnotations::new(OnError::Error);
        let e = inv.handle(Path::new("a.ann"), 3, "T2", "bad").unwrap_err();
        assert_eq!(e.to_string(), "a.ann:3: T2: bad");
        assert_eq!(inv.skipped(), 0);
        let inv = InvalidAnnotations::new(OnError::Skip);
        let shared = inv.clone();
        inv.handle(Path::new("a.ann"), 3, "T2", "bad").unwrap();
        shared.handle(Path::new("a.ann"), 4, "R1", "bad").unwrap();
        assert_eq!(inv.skipped(), 2);
    }
}
