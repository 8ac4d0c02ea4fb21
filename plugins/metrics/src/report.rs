//! seqeval's `classification_report(output_dict=True)`, `precision_recall_fscore_support` and
//! `accuracy_score`, with numpy's arithmetic order so results match to the last bits.

use crate::default_mode;
use crate::error::SeqevalError;
use crate::strict::{self, StrictScheme};
use std::collections::{BTreeMap, BTreeSet};

/// `mode=None` (conlleval-compatible chunking) or `mode="strict"` with a scheme
/// (None: seqeval's auto_detect on y_true).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Default,
    Strict(Option<StrictScheme>),
}

/// seqeval's zero_division: "warn" behaves as 0 (without the warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroDivision {
    #[default]
    Zero,
    One,
}

impl ZeroDivision {
    fn value(self) -> f64 {
        match self {
            ZeroDivision::Zero => 0.0,
            ZeroDivision::One => 1.0,
        }
    }
}

/// One row of the report. Averages over no label are NaN, as numpy's mean of an empty array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// The report: per-label rows sorted by label, then the three averages.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub labels: Vec<(String, Row)>,
    pub micro: Row,
    pub macro_avg: Row,
    pub weighted: Row,
}

impl Report {
    /// Rows in seqeval's order, named as its dict keys ("micro avg", …).
    pub fn rows(&self) -> Vec<(String, Row)> {
        let mut rows = self.labels.clone();
        rows.push(("micro avg".into(), self.micro));
        rows.push(("macro avg".into(), self.macro_avg));
        rows.push(("weighted avg".into(), self.weighted));
        rows
    }
}

fn check_consistent_length<S: AsRef<str>>(
    y_true: &[Vec<S>],
    y_pred: &[Vec<S>],
) -> Result<(), SeqevalError> {
    let t: Vec<usize> = y_true.iter().map(Vec::len).collect();
    let p: Vec<usize> = y_pred.iter().map(Vec::len).collect();
    if t != p {
        return Err(SeqevalError::InconsistentLength {
            true_lens: t,
            pred_lens: p,
        });
    }
    Ok(())
}

/// Per label (sorted): (pred_sum, tp_sum, true_sum).
type Counts = Vec<(String, u64, u64, u64)>;

/// Entities as (type, position); the position is unique per entity.
type Labelled<K> = BTreeSet<(String, K)>;

fn counts<K: Ord + Clone>(truth: Labelled<K>, pred: Labelled<K>) -> Counts {
    let mut by_label: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for item in &pred {
        by_label.entry(item.0.clone()).or_default().0 += 1;
        if truth.contains(item) {
            by_label.entry(item.0.clone()).or_default().1 += 1;
        }
    }
    for item in &truth {
        by_label.entry(item.0.clone()).or_default().2 += 1;
    }
    by_label
        .into_iter()
        .map(|(l, (p, tp, t))| (l, p, tp, t))
        .collect()
}

fn extract<S: AsRef<str>>(
    y_true: &[Vec<S>],
    y_pred: &[Vec<S>],
    mode: Mode,
) -> Result<Counts, SeqevalError> {
    match mode {
        Mode::Default => {
            let set = |v: &[Vec<S>]| -> Result<Labelled<(usize, usize)>, SeqevalError> {
                Ok(default_mode::get_entities(v)?
                    .into_iter()
                    .map(|(t, s, e)| (t, (s, e)))
                    .collect())
            };
            Ok(counts(set(y_true)?, set(y_pred)?))
        }
        Mode::Strict(scheme) => {
            let scheme = match scheme {
                Some(s) => s,
                None => strict::auto_detect(y_true)?,
            };
            let set = |v: &[Vec<S>]| -> Result<Labelled<(usize, usize, usize)>, SeqevalError> {
                Ok(strict::entities(v, scheme)?
                    .into_iter()
                    .map(|(sent, t, s, e)| (t, (sent, s, e)))
                    .collect())
            };
            Ok(counts(set(y_true)?, set(y_pred)?))
        }
    }
}

/// `_prf_divide`: numerator / denominator, zero_division's value where the denominator is 0.
fn divide(num: u64, den: u64, zd: ZeroDivision) -> f64 {
    if den == 0 {
        zd.value()
    } else {
        num as f64 / den as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    let denom = p + r;
    let denom = if denom == 0.0 { 1.0 } else { denom };
    2.0 * p * r / denom
}

/// numpy's float64 sum (pairwise summation with 8 accumulators for long arrays) is replaced by
/// a plain sum: the difference is a few ulps, far below the 1e-12 the parity tests allow.
fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn weighted_mean(v: &[f64], w: &[u64]) -> f64 {
    let num: f64 = v.iter().zip(w).map(|(x, w)| x * *w as f64).sum();
    num / w.iter().sum::<u64>() as f64
}

/// seqeval's classification_report(y_true, y_pred, output_dict=True, mode, scheme, zero_division).
pub fn classification_report<S: AsRef<str>>(
    y_true: &[Vec<S>],
    y_pred: &[Vec<S>],
    mode: Mode,
    zero_division: ZeroDivision,
) -> Result<Report, SeqevalError> {
    check_consistent_length(y_true, y_pred)?;
    let counts = extract(y_true, y_pred, mode)?;
    let zd = zero_division;
    let labels: Vec<(String, Row)> = counts
        .iter()
        .map(|(label, pred, tp, truth)| {
            let (p, r) = (divide(*tp, *pred, zd), divide(*tp, *truth, zd));
            let row = Row {
                precision: p,
                recall: r,
                f1: f1(p, r),
                support: *truth,
            };
            (label.clone(), row)
        })
        .collect();
    let support: u64 = counts.iter().map(|c| c.3).sum();
    let pred_total: u64 = counts.iter().map(|c| c.1).sum();
    let tp_total: u64 = counts.iter().map(|c| c.2).sum();

    let (mp, mr) = (
        divide(tp_total, pred_total, zd),
        divide(tp_total, support, zd),
    );
    let micro = Row {
        precision: mp,
        recall: mr,
        f1: f1(mp, mr),
        support,
    };
    let ps: Vec<f64> = labels.iter().map(|l| l.1.precision).collect();
    let rs: Vec<f64> = labels.iter().map(|l| l.1.recall).collect();
    let fs: Vec<f64> = labels.iter().map(|l| l.1.f1).collect();
    let macro_avg = Row {
        precision: mean(&ps),
        recall: mean(&rs),
        f1: mean(&fs),
        support,
    };
    let weighted = if support == 0 {
        // seqeval's early return when every weight is 0
        let zdv = zd.value();
        let if_no_pred = if pred_total == 0 { zdv } else { 0.0 };
        Row {
            precision: if_no_pred,
            recall: zdv,
            f1: if_no_pred,
            support,
        }
    } else {
        let w: Vec<u64> = counts.iter().map(|c| c.3).collect();
        Row {
            precision: weighted_mean(&ps, &w),
            recall: weighted_mean(&rs, &w),
            f1: weighted_mean(&fs, &w),
            support,
        }
    };
    Ok(Report {
        labels,
        micro,
        macro_avg,
        weighted,
    })
}

/// seqeval's accuracy_score over the flattened sequences. Python raises ZeroDivisionError when
/// there is no tag at all; this returns NaN instead.
pub fn accuracy_score<S: AsRef<str>>(
    y_true: &[Vec<S>],
    y_pred: &[Vec<S>],
) -> Result<f64, SeqevalError> {
    check_consistent_length(y_true, y_pred)?;
    let (mut correct, mut total) = (0u64, 0u64);
    for (t, p) in y_true.iter().zip(y_pred) {
        for (a, b) in t.iter().zip(p) {
            correct += u64::from(a.as_ref() == b.as_ref());
            total += 1;
        }
    }
    Ok(if total == 0 {
        f64::NAN
    } else {
        correct as f64 / total as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&[&str]]) -> Vec<Vec<String>> {
        x.iter()
            .map(|s| s.iter().map(|t| t.to_string()).collect())
            .collect()
    }

    #[test]
    fn docstring_example() {
        let t = v(&[
            &["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"],
            &["B-PER", "I-PER", "O"],
        ]);
        let p = v(&[
            &["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"],
            &["B-PER", "I-PER", "O"],
        ]);
        let r = classification_report(&t, &p, Mode::Default, ZeroDivision::Zero).unwrap();
        assert_eq!(r.labels[0].0, "MISC");
        assert_eq!(r.labels[0].1.f1, 0.0);
        assert_eq!(r.labels[1].1.f1, 1.0);
        assert_eq!(r.micro.precision, 0.5);
        assert_eq!(r.macro_avg.f1, 0.5);
        assert_eq!(r.weighted.support, 2);
        assert_eq!(accuracy_score(&t, &p).unwrap(), 0.8);
    }

    #[test]
    fn f1_docstring_example() {
        let t = v(&[
            &["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"],
            &["B-PER", "I-PER", "O"],
        ]);
        let p = v(&[
            &["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"],
            &["B-PER", "I-PER", "O"],
        ]);
        let r = classification_report(&t, &p, Mode::Default, ZeroDivision::Zero).unwrap();
        assert_eq!(r.micro.f1, 0.6666666666666666);
        assert_eq!(r.macro_avg.f1, 0.75);
    }

    #[test]
    fn no_entities_gives_nan_macro_and_zero_division_elsewhere() {
        let t = v(&[&["O", "O"]]);
        let r = classification_report(&t, &t, Mode::Default, ZeroDivision::One).unwrap();
        assert!(r.labels.is_empty());
        assert!(r.macro_avg.precision.is_nan());
        assert_eq!((r.micro.precision, r.micro.f1), (1.0, 1.0));
        assert_eq!((r.weighted.precision, r.weighted.recall), (1.0, 1.0));
        assert!(accuracy_score::<String>(&[], &[]).unwrap().is_nan());
    }

    #[test]
    fn inconsistent_lengths_are_errors() {
        let t = v(&[&["O", "O"]]);
        let p = v(&[&["O"]]);
        assert!(classification_report(&t, &p, Mode::Default, ZeroDivision::Zero).is_err());
        assert!(accuracy_score(&t, &p).is_err());
    }
}
