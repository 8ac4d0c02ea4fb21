//! Token-classification encoders (BERT, RoBERTa/CamemBERT/XLM-R, DistilBERT) on tch, with
//! VarStore paths equal to the HF parameter names so checkpoints load and save directly.
//!
//! - Weights: model.safetensors, sharded safetensors, pytorch_model.bin (torch >= 1.6 zip,
//!   sharded too), with or without the base-model prefix, legacy LayerNorm gamma/beta. Pooler,
//!   pre-training heads and position_ids buffers are dropped (debug log).
//! - Numerics: fp32 throughout, the same libtorch kernels as transformers' sdpa path: logits and
//!   gradients match transformers to ~1e-6 on CPU (tests/encoder_parity.rs). bf16 autocast on
//!   CUDA is opt-in (`set_autocast_bf16`).
//! - Not supported: relative position embeddings, TF/Flax weights, torch < 1.6 pickles.
pub mod autocast;
mod bert;
mod cblas;
mod distilbert;
mod dropout;
mod encoder;
mod error;
mod int8;
mod layers;
mod libtorch;
mod load;
mod mkl_bf16;
mod packed;
mod roberta;
mod save;
pub(crate) mod torch_pickle;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

pub use error::ModelError;
pub use roberta::position_ids_from_input_ids;

use crate::config::{Family, ModelConfig};
use dropout::DropoutExt;
use layers::{additive_mask, Layout, Linear, LinearMode};

enum Encoder {
    Bert(bert::BertModel),
    DistilBert(distilbert::DistilBertModel),
}

/// A packed batch on the model's device (see [`TokenClassifier::forward_packed`]).
pub struct PackedInput {
    /// `[tokens]`: the real tokens of every example, back to back.
    pub input_ids: Tensor,
    /// `[tokens]`: each token's position in its example, from 0.
    pub positions: Tensor,
    /// `[tokens]`: each token's row in the `[batch * seq]` padded grid.
    pub index: Tensor,
    /// `[batch, seq]`: 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor,
}

pub struct TokenClassifier {
    pub vs: VarStore,
    pub config: ModelConfig,
    encoder: Encoder,
    classifier: Linear,
    head_dropout: f64,
    /// bf16 autocast (off by default: fp32 everywhere); set with `set_autocast_bf16`.
    autocast_bf16: bool,
}

impl TokenClassifier {
    /// Builds the modules (zero-filled parameters) for `config` on `device`.
    fn build(config: ModelConfig, device: Device) -> Self {
        let vs = VarStore::new(device);
        let family = config.family();
        let root = vs.root();
        let base = &root / family.prefix();
        let encoder = match family {
            Family::Bert => Encoder::Bert(bert::BertModel::new(base, &config, false)),
            Family::Roberta => Encoder::Bert(bert::BertModel::new(base, &config, true)),
            Family::DistilBert => {
                Encoder::DistilBert(distilbert::DistilBertModel::new(base, &config))
            }
        };
        let classifier = Linear::new(
            &root / "classifier",
            config.hidden_size,
            config.num_labels(),
        );
        let head_dropout = config.head_dropout();
        TokenClassifier {
            vs,
            config,
            encoder,
            classifier,
            head_dropout,
            autocast_bf16: false,
        }
    }

    /// logits [batch, seq, num_labels] (fp32); `train` switches dropout on.
    pub fn forward_t(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        self.autocast(|| {
            let hidden = match &self.encoder {
                Encoder::Bert(m) => m.forward(input_ids, attention_mask, train),
                Encoder::DistilBert(m) => m.forward(input_ids, attention_mask, train),
            };
            self.classifier
                .forward(&hidden.dropout_t(self.head_dropout, train))
        })
    }

    /// logits [tokens, num_labels] (fp32) of a packed batch (padding removed): the same values
    /// as `forward_t` at the real positions, with the linear layers run on real tokens only.
    pub fn forward_packed(&self, batch: &PackedInput, train: bool) -> Tensor {
        let (b, s) = batch
            .attention_mask
            .size2()
            .expect("[batch, seq] attention mask");
        let layout = Layout::Packed {
            index: batch.index.shallow_clone(),
            batch: b,
            seq: s,
            mask: (batch.input_ids.size()[0] < b * s)
                .then(|| additive_mask(&batch.attention_mask, Kind::Float)),
        };
        self.autocast(|| {
            let hidden = match &self.encoder {
                Encoder::Bert(m) => {
                    m.forward_packed(&batch.input_ids, &batch.positions, &layout, train)
                }
                Encoder::DistilBert(m) => {
                    m.forward_packed(&batch.input_ids, &batch.positions, &layout, train)
                }
            };
            self.classifier
                .forward(&hidden.dropout_t(self.head_dropout, train))
        })
    }

    /// Prepares an inference-only model: fused attention projections, computed once instead of
    /// per forward, and the linear layers' weights either packed for MKL's GEMM (fp32) or, under
    /// bf16 autocast (so set autocast first), cast to bf16 once instead of at every forward (and
    /// run through MKL's bf16 GEMM where it is, `mkl_bf16`).
    /// Training such a model would leave these copies stale.
    pub fn freeze_for_inference(&mut self) {
        let mode = if self.autocast_bf16 {
            LinearMode::Bf16
        } else {
            LinearMode::Packed
        };
        self.freeze_encoder(mode);
    }

    /// As [`Self::freeze_for_inference`], the encoder's linears in dynamic int8 (CPU, fp32
    /// only; the classifier head stays fp32, packed).
    pub fn freeze_for_int8_inference(&mut self) -> Result<(), ModelError> {
        let device = self.vs.device();
        if self.autocast_bf16 || device != Device::Cpu {
            return Err(ModelError::torch(
                "quantizing to int8",
                format!(
                    "int8 runs on the CPU without bf16 autocast (device {device:?}, bf16 {})",
                    self.autocast_bf16
                ),
            ));
        }
        self.freeze_encoder(LinearMode::Int8);
        Ok(())
    }

    fn freeze_encoder(&mut self, mode: LinearMode) {
        match &mut self.encoder {
            Encoder::Bert(m) => m.freeze(mode),
            Encoder::DistilBert(m) => m.freeze(mode),
        }
        // The head: packed fp32 for fp32 and int8 (it stays fp32 there), bf16 under bf16.
        self.classifier.freeze(match mode {
            LinearMode::Packed | LinearMode::Int8 => LinearMode::Packed,
            LinearMode::Bf16 => LinearMode::Bf16,
        });
    }

    /// Runs `f` under bf16 autocast when it is on (CUDA or CPU), logits back in fp32.
    fn autocast(&self, f: impl FnOnce() -> Tensor) -> Tensor {
        if !self.autocast_bf16 {
            f()
        } else if self.vs.device().is_cuda() {
            tch::autocast(true, f).to_kind(Kind::Float)
        } else {
            autocast::cpu_bf16(f).to_kind(Kind::Float)
        }
    }

    /// `forward_t` with its inputs checked (2-D, same shape, ids inside the vocabulary) and
    /// libtorch failures (e.g. out of device memory) returned as errors instead of panics.
    pub fn try_forward_t(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor, ModelError> {
        let bad = |msg: String| ModelError::torch("checking the model inputs", msg);
        let (ids_size, mask_size) = (input_ids.size(), attention_mask.size());
        if ids_size.len() != 2 || ids_size != mask_size {
            return Err(bad(format!("input_ids {ids_size:?} and attention_mask {mask_size:?} must be the same [batch, seq]")));
        }
        let max_len = match self.config.family() {
            Family::Roberta => self.config.max_position_embeddings - self.config.pad_token_id - 1,
            _ => self.config.max_position_embeddings,
        };
        if ids_size[1] > max_len {
            return Err(bad(format!(
                "sequence length {} exceeds the model's {max_len} positions",
                ids_size[1]
            )));
        }
        if input_ids.numel() > 0 {
            let (lo, hi) = (
                input_ids.min().int64_value(&[]),
                input_ids.max().int64_value(&[]),
            );
            if lo < 0 || hi >= self.config.vocab_size {
                return Err(bad(format!(
                    "token ids in [{lo}, {hi}] outside the vocabulary (size {})",
                    self.config.vocab_size
                )));
            }
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.forward_t(input_ids, attention_mask, train)
        }))
        .map_err(|p| {
            let msg = medkit_sdk::panic_message(&*p);
            ModelError::torch("running the model", msg.lines().next().unwrap_or(""))
        })
    }

    /// Mixed precision for the forward passes: matmuls in bf16 under libtorch autocast (CUDA or
    /// CPU; fp32 master weights, so gradients and optimizer stay fp32), logits returned in fp32.
    pub fn set_autocast_bf16(&mut self, on: bool) -> Result<(), ModelError> {
        if on && self.classifier.is_frozen_fp32() {
            // The packed fp32 weights would bypass autocast (it casts inside libtorch's linear).
            return Err(ModelError::torch(
                "enabling bf16 autocast",
                "the model is already frozen for fp32 inference (packed weights); enable bf16 first",
            ));
        }
        if !on && self.classifier.is_frozen_bf16() {
            // The bf16 copies would keep running in bf16 without autocast.
            return Err(ModelError::torch(
                "disabling bf16 autocast",
                "the model is already frozen for bf16 inference (bf16 weights); load it again for fp32",
            ));
        }
        if on && self.vs.device().is_cuda() {
            autocast::set_cuda_autocast_dtype(autocast::BFLOAT16)?;
        } else if on {
            autocast::check_cpu()?;
        }
        self.autocast_bf16 = on;
        Ok(())
    }

    pub fn autocast_bf16(&self) -> bool {
        self.autocast_bf16
    }

    /// Word-embedding gradients as sparse rows (for an optimizer that updates rows sparsely);
    /// off by default, where `.grad()` is the dense tensor transformers computes.
    pub fn set_sparse_word_embedding_grad(&mut self, on: bool) {
        let e = match &mut self.encoder {
            Encoder::Bert(m) => m.word_embeddings_mut(),
            Encoder::DistilBert(m) => m.word_embeddings_mut(),
        };
        e.sparse_grad = on;
    }

    pub fn id2label(&self) -> Vec<String> {
        self.config.id2label.values().cloned().collect()
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn num_labels(&self) -> i64 {
        self.config.num_labels()
    }
}
