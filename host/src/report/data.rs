//! Reference and predicted documents → what the report shows of them: the documents with their
//! entities and each entity's [`Kind`] (embedded as JSON for the viewer), per-label scores and the
//! entity-level label confusion table.

use super::compare::{compare, Ent, Kind};
use medkit_sdk::TextDocument;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

/// One label's entity-level scores (exact span and label = true positive).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold entities of the label.
    pub support: usize,
    /// Predicted entities of the label.
    pub predicted: usize,
    pub exact: usize,
}

/// All the documents compared.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Sorted union of the gold and predicted labels.
    pub labels: Vec<String>,
    /// Scores per label, in `labels` order.
    pub scores: Vec<LabelScores>,
    /// Micro average over all entities.
    pub micro: LabelScoresTotal,
    /// Paired entities: `confusion[gold label][predicted label]`.
    pub confusion: Vec<Vec<usize>>,
    /// Missed gold entities per label; spurious predicted entities per label.
    pub missed: Vec<usize>,
    pub spurious: Vec<usize>,
    /// Entities (pairs count once) of each kind, in `Kind::ALL` order.
    pub kind_counts: [usize; 6],
    pub documents: usize,
    pub gold_entities: usize,
    pub predicted_entities: usize,
    /// The viewer's data: `{"labels", "kinds", "docs": [{"u", "t", "g", "p"}]}`; an entity is
    /// `[label index, kind index, counterpart index or -1, [start, end, ...]]` (code points).
    pub viewer: Value,
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct LabelScoresTotal {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub macro_f1: f64,
}

fn prf(tp: usize, predicted: usize, support: usize) -> (f64, f64, f64) {
    let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (p, r) = (div(tp, predicted), div(tp, support));
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

pub use crate::evaluator::pair_by_uid;

fn entities(d: &TextDocument) -> Vec<Ent> {
    d.entities().map(Ent::from_segment).collect()
}

pub fn build(pairs: &[(&TextDocument, &TextDocument)]) -> Comparison {
    let ents: Vec<(Vec<Ent>, Vec<Ent>)> = pairs
        .iter()
        .map(|(g, p)| (entities(g), entities(p)))
        .collect();
    let labels: Vec<String> = ents
        .iter()
        .flat_map(|(g, p)| g.iter().chain(p))
        .map(|e| e.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let n = labels.len();
    let mut c = Comparison {
        confusion: vec![vec![0; n]; n],
        missed: vec![0; n],
        spurious: vec![0; n],
        documents: pairs.len(),
        ..Default::default()
    };
    let (mut support, mut predicted, mut exact) = (vec![0; n], vec![0; n], vec![0; n]);
    let mut docs = Vec::with_capacity(pairs.len());
    for ((g_doc, _), (gold, pred)) in pairs.iter().zip(&ents) {
        let cmp = compare(gold, pred);
        let encode = |list: &[Ent], kinds: &[(Kind, Option<usize>)]| -> Vec<Value> {
            list.iter()
                .zip(kinds)
                .map(|(e, (k, other))| {
                    let offsets: Vec<u64> = e.spans.iter().flat_map(|s| [s.start, s.end]).collect();
                    json!([
                        index[e.label.as_str()],
                        k.index(),
                        other.map_or(-1, |o| o as i64),
                        offsets
                    ])
                })
                .collect()
        };
        for (e, (k, other)) in gold.iter().zip(&cmp.gold) {
            let gi = index[e.label.as_str()];
            support[gi] += 1;
            c.kind_counts[k.index()] += 1;
            match other {
                Some(j) => c.confusion[gi][index[pred[*j].label.as_str()]] += 1,
                None => c.missed[gi] += 1,
            }
            if *k == Kind::Exact {
                exact[gi] += 1;
            }
        }
        for (e, (k, _)) in pred.iter().zip(&cmp.pred) {
            let pi = index[e.label.as_str()];
            predicted[pi] += 1;
            if *k == Kind::Spurious {
                c.spurious[pi] += 1;
                c.kind_counts[k.index()] += 1;
            }
        }
        c.gold_entities += gold.len();
        c.predicted_entities += pred.len();
        docs.push(json!({
            "u": g_doc.uid.as_str(),
            "t": g_doc.text.as_str(),
            "g": encode(gold, &cmp.gold),
            "p": encode(pred, &cmp.pred),
        }));
    }
    c.scores = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (precision, recall, f1) = prf(exact[i], predicted[i], support[i]);
            LabelScores {
                label: l.clone(),
                precision,
                recall,
                f1,
                support: support[i],
                predicted: predicted[i],
                exact: exact[i],
            }
        })
        .collect();
    let (precision, recall, f1) = prf(exact.iter().sum(), c.predicted_entities, c.gold_entities);
    let with_support: Vec<f64> = c
        .scores
        .iter()
        .filter(|s| s.support > 0)
        .map(|s| s.f1)
        .collect();
    c.micro = LabelScoresTotal {
        precision,
        recall,
        f1,
        macro_f1: with_support.iter().sum::<f64>() / with_support.len().max(1) as f64,
    };
    c.viewer = json!({
        "labels": labels,
        "kinds": Kind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>(),
        "kindTitles": Kind::ALL.iter().map(|k| k.title()).collect::<Vec<_>>(),
        "docs": docs,
    });
    c.labels = labels;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    // one fixture for the report tests: entities from (label, start, end), text from the spans
    use crate::report::tests::doc;

    #[test]
    fn scores_confusion_and_viewer_data() {
        let t = "Une fièvre élevée 🤒 et une toux sèche.";
        let gold = [doc("d1", t, &[("sym", 4, 10), ("sym", 27, 37)])];
        // fièvre exact; "toux sèche" predicted as "toux" (boundary) + a spurious "🤒"
        let pred = [doc(
            "d1",
            t,
            &[("sym", 4, 10), ("sym", 27, 31), ("drug", 18, 19)],
        )];
        let pairs = pair_by_uid(&gold, &pred).unwrap();
        let c = build(&pairs);
        assert_eq!(c.labels, ["drug", "sym"]);
        assert_eq!(c.scores[1].support, 2);
        assert_eq!(c.scores[1].exact, 1);
        assert_eq!(c.scores[1].precision, 0.5);
        assert_eq!(c.confusion, [[0, 0], [0, 2]]);
        assert_eq!(c.spurious, [1, 0]);
        assert_eq!(c.kind_counts, [1, 0, 1, 0, 0, 1]);
        assert_eq!(c.viewer["docs"][0]["g"][1], json!([1, 2, 1, [27, 37]]));
        assert_eq!(c.viewer["docs"][0]["p"][2], json!([0, 5, -1, [18, 19]]));
        assert_eq!((c.micro.precision * 3.0).round(), 1.0);
    }

    #[test]
    fn documents_are_matched_by_uid() {
        let a = [doc("a", "x", &[]), doc("b", "y", &[])];
        let b = [doc("b", "y", &[]), doc("a", "x", &[])];
        let pairs = pair_by_uid(&a, &b).unwrap();
        assert_eq!(pairs[0].1.uid.as_str(), "a");
        let e = pair_by_uid(&a, &b[..1]).unwrap_err().to_string();
        assert!(e.contains("'a' has no predicted document"), "{e}");
        let e = pair_by_uid(&a[..1], &b).unwrap_err().to_string();
        assert!(e.contains("predicted document 'b'"), "{e}");
        let c = [doc("a", "x!", &[]), doc("b", "y", &[])];
        let e = pair_by_uid(&a, &c).unwrap_err().to_string();
        assert!(
            e.contains("document 'a': the predicted text differs"),
            "{e}"
        );
    }
}
