//! DistilBERT encoder, HF module names (`embeddings`, `transformer.layer.N.{attention,ffn}`).
use tch::nn::Path;

use super::dropout::DropoutExt;
use tch::Tensor;

use super::encoder::{Encoder, LayerNames};
use super::layers::{additive_mask, Embedding, LayerNorm, Layout, LinearMode};
use crate::config::ModelConfig;

// DistilBERT hard-codes its LayerNorm eps.
const EPS: f64 = 1e-12;

/// HF's `transformer.layer.N` module names.
const LAYER_NAMES: LayerNames = LayerNames {
    query: "attention.q_lin",
    key: "attention.k_lin",
    value: "attention.v_lin",
    attn_out: "attention.out_lin",
    attn_norm: "sa_layer_norm",
    ffn_in: "ffn.lin1",
    ffn_out: "ffn.lin2",
    ffn_norm: "output_layer_norm",
    // HF applies no dropout after out_lin.
    attn_out_dropout: false,
};

pub struct DistilBertModel {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
    encoder: Encoder,
}

impl DistilBertModel {
    pub fn new(p: Path, c: &ModelConfig) -> Self {
        let e = &p / "embeddings";
        DistilBertModel {
            word_embeddings: Embedding::new(&e / "word_embeddings", c.vocab_size, c.hidden_size),
            position_embeddings: Embedding::new(
                &e / "position_embeddings",
                c.max_position_embeddings,
                c.hidden_size,
            ),
            layer_norm: LayerNorm::new(&e / "LayerNorm", c.hidden_size, EPS),
            dropout: c.hidden_dropout_prob,
            encoder: Encoder::new(&p / "transformer" / "layer", c, &LAYER_NAMES, EPS),
        }
    }

    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        let seq = input_ids.size()[1];
        let x = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.weight.narrow(0, 0, seq);
        let x = self.layer_norm.forward(&x).dropout_t(self.dropout, train);
        let mask = additive_mask(attention_mask, x.kind());
        self.encoder.forward(x, &Layout::Padded { mask }, train)
    }

    /// Packed `[tokens]` ids and positions → `[tokens, hidden]`.
    pub fn forward_packed(
        &self,
        input_ids: &Tensor,
        positions: &Tensor,
        layout: &Layout,
        train: bool,
    ) -> Tensor {
        let x =
            self.word_embeddings.forward(input_ids) + self.position_embeddings.forward(positions);
        let x = self.layer_norm.forward(&x).dropout_t(self.dropout, train);
        self.encoder.forward(x, layout, train)
    }

    /// Inference only: see [`Encoder::freeze`].
    pub fn freeze(&mut self, mode: LinearMode) {
        self.encoder.freeze(mode);
    }

    pub fn word_embeddings_mut(&mut self) -> &mut Embedding {
        &mut self.word_embeddings
    }
}
