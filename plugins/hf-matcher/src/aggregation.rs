//! Port of transformers' `TokenClassificationPipeline.postprocess` (v5.x): softmax, pre-entities,
//! word aggregation (first / average / max), B-/I- grouping, "O" filtering and the merge of
//! overlapping entities from strided windows. Scores stay f32 as numpy computes them.

use std::str::FromStr;

/// transformers' `AggregationStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregationStrategy {
    None,
    Simple,
    First,
    Average,
    Max,
}

impl FromStr for AggregationStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "simple" => Ok(Self::Simple),
            "first" => Ok(Self::First),
            "average" => Ok(Self::Average),
            "max" => Ok(Self::Max),
            _ => Err(format!(
                "unknown aggregation_strategy '{s}' (expected none, simple, first, average or max)"
            )),
        }
    }
}

impl AggregationStrategy {
    fn word_level(self) -> bool {
        matches!(self, Self::First | Self::Average | Self::Max)
    }
}

/// One token of a window as the pipeline sees it (`offsets` in characters of the text).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenInfo {
    pub start: usize,
    pub end: usize,
    pub special: bool,
    pub is_subword: bool,
}

/// A pipeline match: `label` is `entity` (strategy none) or `entity_group` (the others).
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub label: String,
    pub score: f32,
    pub start: usize,
    pub end: usize,
}

/// How the pipeline decides that a token continues the previous word (`gather_pre_entities`).
/// `word_aware`: the tokenizer model has a `continuing_subword_prefix` (WordPiece "##").
pub fn is_subword(
    token: &str,
    text_chars: &[char],
    start: usize,
    end: usize,
    is_unk: bool,
    word_aware: bool,
) -> bool {
    if is_unk {
        return false;
    }
    if word_aware {
        token.chars().count() != end.saturating_sub(start)
    } else {
        // The pipeline's fallback heuristic: no space in sentence[start-1 : start+1].
        start > 0 && !text_chars[start - 1..(start + 1).min(text_chars.len())].contains(&' ')
    }
}

/// Row-wise softmax of `[t, n]` logits, as the pipeline's numpy code (max-shifted, f32).
pub fn softmax_rows(logits: &[f32], num_labels: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(num_labels) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = out.len();
        out.extend(row.iter().map(|&x| (x - max).exp()));
        let sum: f32 = out[start..].iter().sum();
        out[start..].iter_mut().for_each(|x| *x /= sum);
    }
    out
}

fn argmax(row: &[f32]) -> usize {
    // numpy argmax: first maximum.
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// `np.nanmean` of f32 values.
fn nanmean(values: impl Iterator<Item = f32>) -> f32 {
    let (mut sum, mut n) = (0f64, 0usize);
    for v in values.filter(|v| !v.is_nan()) {
        sum += v as f64;
        n += 1;
    }
    if n == 0 {
        f32::NAN
    } else {
        (sum / n as f64) as f32
    }
}

struct PreEntity<'a> {
    scores: &'a [f32],
    start: usize,
    end: usize,
    is_subword: bool,
}

/// Entities of one window: `scores` are the softmaxed `[t, n]` rows, one per token.
pub fn aggregate_window(
    scores: &[f32],
    tokens: &[TokenInfo],
    id2label: &[String],
    strategy: AggregationStrategy,
) -> Vec<Match> {
    let n = id2label.len();
    let pre: Vec<PreEntity> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.special)
        .map(|(i, t)| PreEntity {
            scores: &scores[i * n..(i + 1) * n],
            start: t.start,
            end: t.end,
            is_subword: t.is_subword,
        })
        .collect();
    let entities: Vec<Match> = if strategy.word_level() {
        aggregate_words(&pre, id2label, strategy)
    } else {
        pre.iter()
            .map(|p| {
                let idx = argmax(p.scores);
                Match {
                    label: id2label[idx].clone(),
                    score: p.scores[idx],
                    start: p.start,
                    end: p.end,
                }
            })
            .collect()
    };
    let grouped = if strategy == AggregationStrategy::None {
        entities
    } else {
        group_entities(entities)
    };
    grouped.into_iter().filter(|m| m.label != "O").collect()
}

fn aggregate_word(
    group: &[&PreEntity],
    id2label: &[String],
    strategy: AggregationStrategy,
) -> Match {
    let (idx, score) = match strategy {
        AggregationStrategy::First => {
            let s = group[0].scores;
            let i = argmax(s);
            (i, s[i])
        }
        AggregationStrategy::Max => {
            // Python's max(): the first entity with the largest max score.
            let mut best = group[0];
            let mut best_max = best.scores[argmax(best.scores)];
            for e in &group[1..] {
                let m = e.scores[argmax(e.scores)];
                if m > best_max {
                    best = e;
                    best_max = m;
                }
            }
            let i = argmax(best.scores);
            (i, best.scores[i])
        }
        _ => {
            let n = id2label.len();
            let avg: Vec<f32> = (0..n)
                .map(|j| nanmean(group.iter().map(|e| e.scores[j])))
                .collect();
            let i = argmax(&avg);
            (i, avg[i])
        }
    };
    Match {
        label: id2label[idx].clone(),
        score,
        start: group[0].start,
        end: group[group.len() - 1].end,
    }
}

fn aggregate_words(
    pre: &[PreEntity],
    id2label: &[String],
    strategy: AggregationStrategy,
) -> Vec<Match> {
    let mut words = Vec::new();
    let mut group: Vec<&PreEntity> = Vec::new();
    for e in pre {
        if !group.is_empty() && !e.is_subword {
            words.push(aggregate_word(&group, id2label, strategy));
            group.clear();
        }
        group.push(e);
    }
    if !group.is_empty() {
        words.push(aggregate_word(&group, id2label, strategy));
    }
    words
}

/// `get_tag`: ("B"|"I", tag); a label without a B-/I- prefix counts as a continuation.
fn get_tag(label: &str) -> (bool, &str) {
    if let Some(t) = label.strip_prefix("B-") {
        (true, t)
    } else if let Some(t) = label.strip_prefix("I-") {
        (false, t)
    } else {
        (false, label)
    }
}

fn group_sub_entities(group: &[Match]) -> Match {
    let first = &group[0].label;
    // `split("-", 1)[-1]`: the text after the first dash, or the whole label.
    let label = first.split_once('-').map_or(first.as_str(), |(_, t)| t);
    Match {
        label: label.to_string(),
        score: nanmean(group.iter().map(|m| m.score)),
        start: group[0].start,
        end: group[group.len() - 1].end,
    }
}

fn group_entities(entities: Vec<Match>) -> Vec<Match> {
    let mut groups = Vec::new();
    let mut current: Vec<Match> = Vec::new();
    for e in entities {
        if let Some(last) = current.last() {
            let (is_b, tag) = get_tag(&e.label);
            let (_, last_tag) = get_tag(&last.label);
            if tag != last_tag || is_b {
                groups.push(group_sub_entities(&current));
                current.clear();
            }
        }
        current.push(e);
    }
    if !current.is_empty() {
        groups.push(group_sub_entities(&current));
    }
    groups
}

/// `aggregate_overlapping_entities`: among entities of strided windows that overlap, keep the
/// longest (then the higher score); the first of equals wins.
pub fn aggregate_overlapping(mut entities: Vec<Match>) -> Vec<Match> {
    if entities.is_empty() {
        return entities;
    }
    entities.sort_by_key(|e| e.start); // stable, as Python's sorted
    let mut out = Vec::new();
    // As in Python, the loop starts with the first entity itself (a no-op unless it is empty).
    let mut prev = entities[0].clone();
    for e in entities {
        if prev.start <= e.start && e.start < prev.end {
            let (cur_len, prev_len) = (e.end - e.start, prev.end - prev.start);
            if cur_len > prev_len || (cur_len == prev_len && e.score > prev.score) {
                prev = e;
            }
        } else {
            out.push(std::mem::replace(&mut prev, e));
        }
    }
    out.push(prev);
    out
}
