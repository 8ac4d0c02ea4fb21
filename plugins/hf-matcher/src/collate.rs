//! Batching. Dynamic padding (transformers' DataCollatorForTokenClassification): pad to the
//! longest example of the batch, attention mask 1/0, labels padded with -100; and packing: the
//! same batch with the padding removed (what training and inference run). One flat buffer per
//! tensor.

use medkit_sdk::Features;
use tch::{Device, Kind, Tensor};

use crate::model::PackedInput;

/// Label id the loss ignores (special tokens, non-first sub-tokens, padding).
pub const IGNORE_INDEX: i64 = -100;

/// A padded batch as flat row-major buffers `[batch, seq_len]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PaddedBatch {
    pub batch: usize,
    pub seq_len: usize,
    pub input_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub labels: Vec<i64>,
}

/// Pads `features` to their longest length. Errors on a label/input length mismatch.
pub fn pad(features: &[Features], pad_id: i64) -> Result<PaddedBatch, String> {
    let refs: Vec<&Features> = features.iter().collect();
    pad_refs(&refs, pad_id)
}

/// [`pad`] over borrowed examples (a sub-batch).
pub fn pad_refs(features: &[&Features], pad_id: i64) -> Result<PaddedBatch, String> {
    let seq_len = features
        .iter()
        .map(|f| f.input_ids.len())
        .max()
        .unwrap_or(0);
    let n = features.len() * seq_len;
    let (mut input_ids, mut attention_mask, mut labels) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, f) in features.iter().enumerate() {
        let len = f.input_ids.len();
        if f.labels.len() != len {
            return Err(format!(
                "example {i} of the batch has {len} input ids but {} labels",
                f.labels.len()
            ));
        }
        let pad = seq_len - len;
        input_ids.extend_from_slice(&f.input_ids);
        input_ids.extend(std::iter::repeat_n(pad_id, pad));
        attention_mask.extend(std::iter::repeat_n(1, len));
        attention_mask.extend(std::iter::repeat_n(0, pad));
        labels.extend_from_slice(&f.labels);
        labels.extend(std::iter::repeat_n(IGNORE_INDEX, pad));
    }
    Ok(PaddedBatch {
        batch: features.len(),
        seq_len,
        input_ids,
        attention_mask,
        labels,
    })
}

/// A batch packed as `[tokens]` buffers (real tokens only) plus the `[batch, seq]` padded grid
/// attention runs on. Logits come back as `[tokens, labels]`, rows in example order.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedBatch {
    pub batch: usize,
    pub seq_len: usize,
    /// Each example's first row in the `[tokens]` buffers (and `tokens` at the end).
    pub offsets: Vec<usize>,
    pub input_ids: Vec<i64>,
    pub positions: Vec<i64>,
    /// Row of each token in the `[batch * seq_len]` grid.
    pub index: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub labels: Vec<i64>,
}

/// Packs examples given as (ids, labels) pairs; `labels` may be empty for inference. Errors on
/// a label/input length mismatch.
pub fn pack<'a>(
    examples: impl ExactSizeIterator<Item = (&'a [i64], &'a [i64])> + Clone,
) -> Result<PackedBatch, String> {
    let batch = examples.len();
    let seq_len = examples
        .clone()
        .map(|(ids, _)| ids.len())
        .max()
        .unwrap_or(0);
    let tokens: usize = examples.clone().map(|(ids, _)| ids.len()).sum();
    let mut p = PackedBatch {
        batch,
        seq_len,
        offsets: Vec::with_capacity(batch + 1),
        input_ids: Vec::with_capacity(tokens),
        positions: Vec::with_capacity(tokens),
        index: Vec::with_capacity(tokens),
        attention_mask: Vec::with_capacity(batch * seq_len),
        labels: Vec::with_capacity(tokens),
    };
    for (row, (ids, labels)) in examples.enumerate() {
        let len = ids.len();
        if !labels.is_empty() && labels.len() != len {
            return Err(format!(
                "example {row} of the batch has {len} input ids but {} labels",
                labels.len()
            ));
        }
        p.offsets.push(p.input_ids.len());
        p.input_ids.extend_from_slice(ids);
        p.labels.extend_from_slice(labels);
        p.positions.extend(0..len as i64);
        let start = (row * seq_len) as i64;
        p.index.extend(start..start + len as i64);
        p.attention_mask.extend(std::iter::repeat_n(1, len));
        p.attention_mask
            .extend(std::iter::repeat_n(0, seq_len - len));
    }
    p.offsets.push(p.input_ids.len());
    Ok(p)
}

/// [`pack`] over training examples.
pub fn pack_features(features: &[&Features]) -> Result<PackedBatch, String> {
    pack(
        features
            .iter()
            .map(|f| (f.input_ids.as_slice(), f.labels.as_slice())),
    )
}

impl PackedBatch {
    pub fn tokens(&self) -> usize {
        self.input_ids.len()
    }

    /// The model's input on `device`.
    pub fn to_input(&self, device: Device) -> PackedInput {
        let flat = |v: &[i64]| Tensor::from_slice(v).to_device(device);
        PackedInput {
            input_ids: flat(&self.input_ids),
            positions: flat(&self.positions),
            index: flat(&self.index),
            attention_mask: Tensor::from_slice(&self.attention_mask)
                .view([self.batch as i64, self.seq_len as i64])
                .to_device(device),
        }
    }

    /// `[tokens]` labels on `device`.
    pub fn labels_tensor(&self, device: Device) -> Tensor {
        Tensor::from_slice(&self.labels).to_device(device)
    }

    /// References and predictions per example at the non-ignored positions.
    /// `predictions`: argmax ids `[tokens]`.
    pub fn split_outputs(&self, predictions: &[i64]) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
        self.offsets
            .windows(2)
            .map(|w| {
                let (labels, p) = (&self.labels[w[0]..w[1]], &predictions[w[0]..w[1]]);
                labels
                    .iter()
                    .zip(p)
                    .filter(|(&l, _)| l != IGNORE_INDEX)
                    .map(|(&l, &x)| (l, x))
                    .unzip()
            })
            .unzip()
    }
}

/// The batch's tensors on `device`.
pub struct BatchTensors {
    pub input_ids: Tensor,
    pub attention_mask: Tensor,
    pub labels: Tensor,
}

impl PaddedBatch {
    pub fn to_tensors(&self, device: Device) -> BatchTensors {
        let shape = [self.batch as i64, self.seq_len as i64];
        let t = |v: &[i64]| Tensor::from_slice(v).view(shape).to_device(device);
        BatchTensors {
            input_ids: t(&self.input_ids),
            attention_mask: t(&self.attention_mask),
            labels: t(&self.labels),
        }
    }

    /// References and predictions per example at the non-ignored positions.
    /// `predictions`: flat argmax ids `[batch * seq_len]`.
    pub fn split_outputs(&self, predictions: &[i64]) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
        let mut refs = Vec::with_capacity(self.batch);
        let mut preds = Vec::with_capacity(self.batch);
        for row in 0..self.batch {
            let range = row * self.seq_len..(row + 1) * self.seq_len;
            let (labels, p) = (&self.labels[range.clone()], &predictions[range]);
            let kept = labels.iter().filter(|&&l| l != IGNORE_INDEX).count();
            let (mut r, mut q) = (Vec::with_capacity(kept), Vec::with_capacity(kept));
            for (&l, &x) in labels.iter().zip(p) {
                if l != IGNORE_INDEX {
                    r.push(l);
                    q.push(x);
                }
            }
            refs.push(r);
            preds.push(q);
        }
        (refs, preds)
    }
}

/// Flat argmax ids of `[b, t, n]` logits, copied once to the host.
pub fn argmax_ids(logits: &Tensor) -> Result<Vec<i64>, String> {
    let ids = logits
        .argmax(-1, false)
        .to_kind(Kind::Int64)
        .to_device(Device::Cpu)
        .flatten(0, -1);
    Vec::<i64>::try_from(&ids).map_err(|e| format!("reading predictions: {e}"))
}
