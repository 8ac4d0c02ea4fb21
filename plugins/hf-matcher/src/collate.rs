//! Dynamic padding (transformers' DataCollatorForTokenClassification): pad to the longest example
//! of the batch, attention mask 1/0, labels padded with -100. One flat buffer per tensor.

use medkit_sdk::Features;
use tch::{Device, Kind, Tensor};

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

/// Splits a batch into sub-batches of similar lengths (indices into `lengths`), so that padding
/// wastes at most `max_waste` of each sub-batch's tokens. Results are unchanged (attention masks
/// the padding), only the wasted compute goes.
pub fn length_groups(lengths: &[usize], max_waste: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut real = 0usize;
    for i in order {
        let len = lengths[i];
        // Sorted ascending: the newcomer sets the padded length of the group.
        let padded = len * (current.len() + 1);
        if !current.is_empty() && (padded - (real + len)) as f64 > max_waste * padded as f64 {
            groups.push(std::mem::take(&mut current));
            real = 0;
        }
        current.push(i);
        real += len;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
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
