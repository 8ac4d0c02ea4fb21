//! Training and evaluation examples of documents longer than the model's window: overlapping
//! windows of the whole document's tokens (inference's `window_ranges`), each scoring only its
//! share of the overlaps, so that every token is labelled in exactly one window.

use crate::collate::IGNORE_INDEX;
use crate::inference::window_ranges;
use medkit_sdk::Features;
use serde::{Deserialize, Serialize};

/// `long_documents`: what preprocessing does with a document longer than `tokenizer_max_length`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LongDocuments {
    /// Overlapping windows; no token, no entity lost.
    #[default]
    Windows,
    /// medkit's behaviour: cut at the maximum length (entities past it are lost, and counted).
    Truncate,
}

/// The overlap of consecutive windows when none is configured (inference's `stride` too).
pub fn default_stride(content: usize) -> usize {
    content / 4
}

/// Leading and trailing special tokens of an encoding (`[CLS]` … `[SEP]`), from its special
/// tokens mask.
pub fn special_ends<T: Copy + Into<u32>>(special_tokens_mask: &[T]) -> (usize, usize) {
    let is_special = |s: &&T| (**s).into() == 1;
    let n = special_tokens_mask.len();
    let prefix = special_tokens_mask.iter().take_while(is_special).count();
    let suffix = if prefix == n {
        0
    } else {
        special_tokens_mask
            .iter()
            .rev()
            .take_while(is_special)
            .count()
    };
    (prefix, suffix)
}

/// The examples of one encoded document: windows of `size` content tokens sharing `stride`,
/// each wrapped in the document's `prefix` and `suffix` special tokens. A window's labels are
/// `labels` (the whole document's) on its scored part and -100 elsewhere; consecutive windows
/// split their overlap at its middle. Concatenating the windows' non-ignored labels in order
/// gives the document's.
pub fn scored_windows(
    ids: &[i64],
    labels: &[i64],
    (prefix, suffix): (usize, usize),
    size: usize,
    stride: usize,
) -> Vec<Features> {
    let len = ids.len();
    let n = len - prefix - suffix;
    let ranges = window_ranges(n, size, stride);
    // Where window i's scored part ends and window i+1's begins.
    let bounds: Vec<usize> = ranges
        .windows(2)
        .map(|w| (w[1].start + w[0].end) / 2)
        .collect();
    ranges
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let scored =
                if i == 0 { 0 } else { bounds[i - 1] }..bounds.get(i).copied().unwrap_or(n);
            let content = r.clone().map(|j| {
                let label = if scored.contains(&j) {
                    labels[prefix + j]
                } else {
                    IGNORE_INDEX
                };
                (ids[prefix + j], label)
            });
            let specials = |range: std::ops::Range<usize>| {
                range.map(|k| (ids[k], IGNORE_INDEX)).collect::<Vec<_>>()
            };
            let (input_ids, labels): (Vec<i64>, Vec<i64>) = specials(0..prefix)
                .into_iter()
                .chain(content)
                .chain(specials(len - suffix..len))
                .unzip();
            Features {
                input_ids: input_ids.into(),
                labels: labels.into(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: i64 = IGNORE_INDEX;

    #[test]
    fn every_content_token_is_scored_in_exactly_one_window() {
        // [CLS] 10 content tokens [SEP]; windows of 4 sharing 2: 0..4, 2..6, 4..8, 6..10
        let ids: Vec<i64> = (100..112).collect();
        let labels: Vec<i64> = [X, 1, 2, 0, 0, 1, X, 2, 0, 1, 2, X].into();
        let w = scored_windows(&ids, &labels, (1, 1), 4, 2);
        assert_eq!(w.len(), 4);
        assert_eq!(w[0].input_ids.as_slice(), [100, 101, 102, 103, 104, 111]);
        assert_eq!(w[1].input_ids.as_slice(), [100, 103, 104, 105, 106, 111]);
        // scored: 0..3, 3..5, 5..7, 7..10
        assert_eq!(w[0].labels.as_slice(), [X, 1, 2, 0, X, X]);
        assert_eq!(w[1].labels.as_slice(), [X, X, 0, 1, X, X]);
        assert_eq!(w[2].labels.as_slice(), [X, X, X, 2, X, X]);
        assert_eq!(w[3].labels.as_slice(), [X, X, 0, 1, 2, X]);
        let joined: Vec<i64> = w
            .iter()
            .flat_map(|f| f.labels.iter().copied().filter(|&l| l != X))
            .collect();
        let whole: Vec<i64> = labels.iter().copied().filter(|&l| l != X).collect();
        assert_eq!(joined, whole);
    }

    #[test]
    fn short_documents_and_no_overlap_stay_whole() {
        let ids = [1, 5, 6, 2];
        let labels = [X, 1, 2, X];
        let w = scored_windows(&ids, &labels, (1, 1), 4, 1);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].labels.as_slice(), labels);
        // stride 0: consecutive windows share nothing, each scores all of its tokens
        let w = scored_windows(&[1, 5, 6, 7, 2], &[X, 1, 2, 0, X], (1, 1), 2, 0);
        assert_eq!(w[0].labels.as_slice(), [X, 1, 2, X]);
        assert_eq!(w[1].labels.as_slice(), [X, 0, X]);
        assert_eq!(special_ends(&[1u8, 0, 0, 1]), (1, 1));
        assert_eq!(special_ends(&[1u32, 1]), (2, 0));
    }
}
