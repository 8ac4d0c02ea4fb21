//! Gold vs predicted entities of one document, matched at entity level: each gold entity is
//! paired with at most one predicted entity and each pair (or lone entity) gets a [`Kind`].
//!
//! Pairing, in this order, each entity used once: same spans and label (exact), same spans and
//! another label (wrong label), overlapping with the same label (wrong boundary), overlapping with
//! another label (wrong label and boundary); the largest overlap first, then document order. Gold
//! entities left are missed, predicted ones spurious.

use medkit_sdk::{Segment, Span};
use serde::Serialize;

/// How an entity fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Exact,
    WrongLabel,
    WrongBoundary,
    WrongLabelBoundary,
    Missed,
    Spurious,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Exact,
        Kind::WrongLabel,
        Kind::WrongBoundary,
        Kind::WrongLabelBoundary,
        Kind::Missed,
        Kind::Spurious,
    ];

    pub fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    pub fn key(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::WrongLabel => "wrong_label",
            Kind::WrongBoundary => "wrong_boundary",
            Kind::WrongLabelBoundary => "wrong_label_boundary",
            Kind::Missed => "missed",
            Kind::Spurious => "spurious",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::WrongLabel => "wrong label",
            Kind::WrongBoundary => "wrong boundary",
            Kind::WrongLabelBoundary => "wrong label and boundary",
            Kind::Missed => "missed",
            Kind::Spurious => "spurious",
        }
    }
}

/// An entity reduced to what the comparison needs: its label and sorted, merged character spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ent {
    pub label: String,
    pub spans: Vec<Span>,
}

impl Ent {
    pub fn from_segment(s: &Segment) -> Self {
        let mut spans: Vec<Span> = s
            .spans
            .iter()
            .flat_map(|a| a.original_spans())
            .filter(|s| !s.is_empty())
            .collect();
        spans.sort();
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => merged.push(s),
            }
        }
        Ent {
            label: s.label.to_string(),
            spans: merged,
        }
    }

    /// Characters covered by both entities.
    pub fn overlap(&self, other: &Ent) -> u64 {
        let mut n = 0;
        for a in &self.spans {
            for b in &other.spans {
                let (s, e) = (a.start.max(b.start), a.end.min(b.end));
                n += e.saturating_sub(s);
            }
        }
        n
    }
}

/// One document's comparison: the kind of each gold and each predicted entity, and for paired
/// entities the index of their counterpart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DocComparison {
    pub gold: Vec<(Kind, Option<usize>)>,
    pub pred: Vec<(Kind, Option<usize>)>,
}

/// Whether a gold and a predicted entity may pair in a round.
type Fits = fn(&Ent, &Ent) -> bool;

pub fn compare(gold: &[Ent], pred: &[Ent]) -> DocComparison {
    let mut g: Vec<(Kind, Option<usize>)> = vec![(Kind::Missed, None); gold.len()];
    let mut p: Vec<(Kind, Option<usize>)> = vec![(Kind::Spurious, None); pred.len()];
    let rounds: [(Kind, Fits); 4] = [
        (Kind::Exact, |a, b| a.spans == b.spans && a.label == b.label),
        (Kind::WrongLabel, |a, b| a.spans == b.spans),
        (Kind::WrongBoundary, |a, b| a.label == b.label),
        (Kind::WrongLabelBoundary, |_, _| true),
    ];
    for (kind, fits) in rounds {
        // Candidate pairs of this round: unpaired, fitting, overlapping; largest overlap first.
        let mut cands: Vec<(u64, usize, usize)> = Vec::new();
        for (i, a) in gold.iter().enumerate() {
            if g[i].1.is_some() {
                continue;
            }
            for (j, b) in pred.iter().enumerate() {
                if p[j].1.is_some() || !fits(a, b) {
                    continue;
                }
                let o = a.overlap(b);
                if o > 0 || (a.spans.is_empty() && a.spans == b.spans) {
                    cands.push((o, i, j));
                }
            }
        }
        cands.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        for (_, i, j) in cands {
            if g[i].1.is_none() && p[j].1.is_none() {
                g[i] = (kind, Some(j));
                p[j] = (kind, Some(i));
            }
        }
    }
    DocComparison { gold: g, pred: p }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(label: &str, spans: &[(u64, u64)]) -> Ent {
        Ent {
            label: label.into(),
            spans: spans.iter().map(|&(s, e)| Span::new(s, e)).collect(),
        }
    }

    #[test]
    fn kinds_of_each_pairing() {
        let gold = [
            e("a", &[(0, 5)]),   // exact
            e("a", &[(10, 15)]), // wrong label
            e("a", &[(20, 25)]), // wrong boundary
            e("a", &[(30, 35)]), // wrong label and boundary
            e("b", &[(40, 45)]), // missed
        ];
        let pred = [
            e("b", &[(10, 15)]),
            e("a", &[(0, 5)]),
            e("a", &[(22, 28)]),
            e("b", &[(33, 38)]),
            e("c", &[(50, 55)]), // spurious
        ];
        let c = compare(&gold, &pred);
        assert_eq!(
            c.gold,
            [
                (Kind::Exact, Some(1)),
                (Kind::WrongLabel, Some(0)),
                (Kind::WrongBoundary, Some(2)),
                (Kind::WrongLabelBoundary, Some(3)),
                (Kind::Missed, None),
            ]
        );
        assert_eq!(c.pred[4], (Kind::Spurious, None));
        assert_eq!(c.pred[1], (Kind::Exact, Some(0)));
    }

    #[test]
    fn exact_wins_over_a_larger_overlap_and_each_entity_pairs_once() {
        // gold a[0,10) and a[0,4); pred a[0,4): the exact pair is made first.
        let gold = [e("a", &[(0, 10)]), e("a", &[(0, 4)])];
        let pred = [e("a", &[(0, 4)])];
        let c = compare(&gold, &pred);
        assert_eq!(c.gold, [(Kind::Missed, None), (Kind::Exact, Some(0))]);
        // two predictions inside one gold entity: one wrong boundary, one spurious
        let gold = [e("a", &[(0, 10)])];
        let pred = [e("a", &[(0, 3)]), e("a", &[(4, 10)])];
        let c = compare(&gold, &pred);
        assert_eq!(c.gold, [(Kind::WrongBoundary, Some(1))]);
        assert_eq!(c.pred[0], (Kind::Spurious, None));
    }

    #[test]
    fn discontinuous_spans_are_merged_and_compared_as_sets() {
        use medkit_sdk::{AnySpan, ModifiedSpan};
        let seg = Segment {
            uid: "x".into(),
            label: "a".into(),
            spans: vec![
                AnySpan::Span(Span::new(8, 10)),
                AnySpan::Modified(ModifiedSpan {
                    length: 1,
                    replaced_spans: vec![Span::new(0, 3), Span::new(3, 5)].into(),
                }),
            ]
            .into(),
            text: "".into(),
            attrs: Default::default(),
            metadata: "{}".into(),
        };
        assert_eq!(Ent::from_segment(&seg), e("a", &[(0, 5), (8, 10)]));
    }
}
