//! BERT encoder (also the body of RoBERTa / CamemBERT / XLM-RoBERTa), HF module names.
use tch::nn::Path;

use super::dropout::DropoutExt;
use tch::Tensor;

use super::encoder::{Encoder, LayerNames};
use super::layers::{additive_mask, Embedding, LayerNorm, Layout, LinearMode};
use super::roberta::position_ids_from_input_ids;
use crate::config::ModelConfig;

pub struct BertEmbeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
    /// RoBERTa family: positions start after padding_idx and skip padding.
    roberta_padding_idx: Option<i64>,
}

impl BertEmbeddings {
    pub fn new(p: Path, c: &ModelConfig, roberta: bool) -> Self {
        BertEmbeddings {
            word_embeddings: Embedding::new(&p / "word_embeddings", c.vocab_size, c.hidden_size),
            position_embeddings: Embedding::new(
                &p / "position_embeddings",
                c.max_position_embeddings,
                c.hidden_size,
            ),
            token_type_embeddings: Embedding::new(
                &p / "token_type_embeddings",
                c.type_vocab_size,
                c.hidden_size,
            ),
            layer_norm: LayerNorm::new(&p / "LayerNorm", c.hidden_size, c.layer_norm_eps),
            dropout: c.hidden_dropout_prob,
            roberta_padding_idx: roberta.then_some(c.pad_token_id),
        }
    }

    /// `positions`: each packed token's position in its sequence (from 0), for `[tokens]` ids;
    /// `None` for padded `[batch, seq]` ids.
    pub fn forward(&self, input_ids: &Tensor, positions: Option<&Tensor>, train: bool) -> Tensor {
        // token_type_ids are all 0: add row 0 (broadcast) instead of gathering a zeros tensor.
        let type0 = self.token_type_embeddings.weight.get(0);
        let x = self.word_embeddings.forward(input_ids) + type0;
        let x = match (positions, self.roberta_padding_idx) {
            // RoBERTa numbers real tokens from padding_idx + 1 (packed tokens are all real).
            (Some(pos), Some(pad)) => x + self.position_embeddings.forward(&(pos + pad + 1)),
            (Some(pos), None) => x + self.position_embeddings.forward(pos),
            (None, Some(pad)) => {
                x + self
                    .position_embeddings
                    .forward(&position_ids_from_input_ids(input_ids, pad))
            }
            // Positions 0..seq: a slice of the table, no gather.
            (None, None) => {
                x + self
                    .position_embeddings
                    .weight
                    .narrow(0, 0, input_ids.size()[1])
            }
        };
        self.layer_norm.forward(&x).dropout_t(self.dropout, train)
    }
}

/// HF's `encoder.layer.N` module names.
const LAYER_NAMES: LayerNames = LayerNames {
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    attn_out: "attention.output.dense",
    attn_norm: "attention.output.LayerNorm",
    ffn_in: "intermediate.dense",
    ffn_out: "output.dense",
    ffn_norm: "output.LayerNorm",
    attn_out_dropout: true,
};

/// `bert` / `roberta` module: embeddings + encoder (the pooler is not needed for tokens).
pub struct BertModel {
    embeddings: BertEmbeddings,
    encoder: Encoder,
}

impl BertModel {
    pub fn new(p: Path, c: &ModelConfig, roberta: bool) -> Self {
        BertModel {
            embeddings: BertEmbeddings::new(&p / "embeddings", c, roberta),
            encoder: Encoder::new(&p / "encoder" / "layer", c, &LAYER_NAMES, c.layer_norm_eps),
        }
    }

    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        let x = self.embeddings.forward(input_ids, None, train);
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
        let x = self.embeddings.forward(input_ids, Some(positions), train);
        self.encoder.forward(x, layout, train)
    }

    /// Inference only: see [`Encoder::freeze`].
    pub fn freeze(&mut self, mode: LinearMode) {
        self.encoder.freeze(mode);
    }

    pub fn word_embeddings_mut(&mut self) -> &mut Embedding {
        &mut self.embeddings.word_embeddings
    }
}
