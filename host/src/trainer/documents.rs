//! The examples of a corpus with the document each came from, and the gathering of step outputs
//! back into documents: a trainable may cut a long document into several examples (windows), and
//! the metrics computers see one sequence per document, its examples' outputs concatenated in
//! order (the contract of `Trainable::preprocess`).

use abi_stable::std_types::RVec;
use anyhow::bail;
use medkit_sdk::Features;
use std::collections::BTreeMap;

/// A corpus preprocessed: the examples, a document's consecutive.
#[derive(Default)]
pub struct Examples {
    pub features: Vec<Features>,
    /// The document (its index in the corpus) of each example.
    pub document: Vec<usize>,
    /// The first example of each document (its examples run to the next one's first).
    pub first: Vec<usize>,
}

impl Examples {
    /// Adds the examples of the next document (none: it counts, but has no example).
    pub fn push_document(&mut self, examples: Vec<Features>) {
        let doc = self.first.len();
        self.first.push(self.features.len());
        self.document
            .extend(std::iter::repeat_n(doc, examples.len()));
        self.features.extend(examples);
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    pub fn nb_documents(&self) -> usize {
        self.first.len()
    }

    fn examples_of(&self, doc: usize) -> usize {
        self.first.get(doc + 1).copied().unwrap_or(self.len()) - self.first[doc]
    }
}

/// References and predictions of whole documents, ready for the metrics computers.
pub type Sequences = (RVec<RVec<i64>>, RVec<RVec<i64>>);

/// The references and predictions of one example (or one document).
type Outputs = (RVec<i64>, RVec<i64>);

/// Collects the outputs of examples, in any order, and releases each document once all its
/// examples have been seen, as one sequence.
pub struct Gatherer<'a> {
    examples: &'a Examples,
    /// Documents with some examples seen: their outputs by example position.
    pending: BTreeMap<usize, Vec<Option<Outputs>>>,
}

impl<'a> Gatherer<'a> {
    pub fn new(examples: &'a Examples) -> Self {
        Gatherer {
            examples,
            pending: BTreeMap::new(),
        }
    }

    /// The outputs of the examples `indices` (one step's batch); returns the documents now
    /// complete.
    pub fn add(
        &mut self,
        indices: &[usize],
        references: RVec<RVec<i64>>,
        predictions: RVec<RVec<i64>>,
    ) -> anyhow::Result<Sequences> {
        if references.len() != indices.len() || predictions.len() != indices.len() {
            bail!(
                "the trainable returned {} references and {} predictions for a batch of {} \
                 examples (one each expected)",
                references.len(),
                predictions.len(),
                indices.len()
            );
        }
        let mut done = (RVec::new(), RVec::new());
        for ((&i, r), p) in indices.iter().zip(references).zip(predictions) {
            let doc = self.examples.document[i];
            let n = self.examples.examples_of(doc);
            if n == 1 {
                done.0.push(r);
                done.1.push(p);
                continue;
            }
            let parts = self.pending.entry(doc).or_insert_with(|| vec![None; n]);
            parts[i - self.examples.first[doc]] = Some((r, p));
            if parts.iter().all(Option::is_some) {
                let parts = self.pending.remove(&doc).expect("pending above");
                let (r, p) = concat(parts.into_iter().flatten());
                done.0.push(r);
                done.1.push(p);
            }
        }
        Ok(done)
    }

    /// The documents some of whose examples were not seen (a resumed epoch skips steps), with
    /// what was seen.
    pub fn finish(self) -> Sequences {
        let mut out = (RVec::new(), RVec::new());
        for parts in self.pending.into_values() {
            let (r, p) = concat(parts.into_iter().flatten());
            out.0.push(r);
            out.1.push(p);
        }
        out
    }
}

fn concat(parts: impl Iterator<Item = Outputs>) -> Outputs {
    let (mut r, mut p) = (RVec::new(), RVec::new());
    for (a, b) in parts {
        r.extend(a);
        p.extend(b);
    }
    (r, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(n: usize) -> Vec<Features> {
        (0..n)
            .map(|i| Features {
                input_ids: vec![i as i64].into(),
                labels: vec![0].into(),
            })
            .collect()
    }

    fn seqs(v: &[&[i64]]) -> RVec<RVec<i64>> {
        v.iter().map(|s| RVec::from(s.to_vec())).collect()
    }

    #[test]
    fn documents_come_out_whole_in_example_order() {
        let mut ex = Examples::default();
        ex.push_document(features(1)); // doc 0: example 0
        ex.push_document(features(3)); // doc 1: examples 1..4
        ex.push_document(Vec::new()); // doc 2: none
        ex.push_document(features(2)); // doc 3: examples 4..6
        assert_eq!((ex.len(), ex.nb_documents()), (6, 4));
        let mut g = Gatherer::new(&ex);
        // shuffled: 3, 0, 5 then 1, 2, 4
        let (r, _) = g
            .add(
                &[3, 0, 5],
                seqs(&[&[3], &[0], &[5]]),
                seqs(&[&[3], &[0], &[5]]),
            )
            .unwrap();
        assert_eq!(r, seqs(&[&[0]]));
        let (r, p) = g
            .add(
                &[1, 2, 4],
                seqs(&[&[1], &[2, 2], &[4]]),
                seqs(&[&[1], &[9, 9], &[4]]),
            )
            .unwrap();
        assert_eq!(r, seqs(&[&[1, 2, 2, 3], &[4, 5]]));
        assert_eq!(p, seqs(&[&[1, 9, 9, 3], &[4, 5]]));
        assert!(g.finish().0.is_empty());
        // a partial document is released at the end with what was seen
        let mut g = Gatherer::new(&ex);
        g.add(&[2], seqs(&[&[2]]), seqs(&[&[2]])).unwrap();
        assert_eq!(g.finish().0, seqs(&[&[2]]));
        // a trainable answering for fewer examples than asked is an error
        let err = Gatherer::new(&ex)
            .add(&[0, 1], seqs(&[&[0]]), seqs(&[&[0]]))
            .unwrap_err();
        assert!(
            err.to_string().contains("for a batch of 2 examples"),
            "{err}"
        );
    }
}
