//! BERT encoder (also the body of RoBERTa / CamemBERT / XLM-RoBERTa), HF module names.
use tch::nn::Path;

use super::dropout::DropoutExt;
use tch::Tensor;

use super::layers::{
    additive_mask, attention, Activation, Embedding, LayerNorm, Layout, Linear, Qkv,
};
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

pub struct BertLayer {
    qkv: Qkv,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
    act: Activation,
    heads: i64,
    attn_dropout: f64,
    dropout: f64,
}

impl BertLayer {
    pub fn new(p: Path, c: &ModelConfig) -> Self {
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let att = &p / "attention";
        let s = &att / "self";
        let so = &att / "output";
        BertLayer {
            qkv: Qkv::new(
                Linear::new(&s / "query", h, h),
                Linear::new(&s / "key", h, h),
                Linear::new(&s / "value", h, h),
            ),
            attn_out: Linear::new(&so / "dense", h, h),
            attn_norm: LayerNorm::new(&so / "LayerNorm", h, c.layer_norm_eps),
            intermediate: Linear::new(&p / "intermediate" / "dense", h, i),
            output: Linear::new(&p / "output" / "dense", i, h),
            out_norm: LayerNorm::new(&p / "output" / "LayerNorm", h, c.layer_norm_eps),
            act: Activation::from_name(&c.hidden_act).expect("activation checked at config load"),
            heads: c.num_attention_heads,
            attn_dropout: c.attention_probs_dropout_prob,
            dropout: c.hidden_dropout_prob,
        }
    }

    pub fn forward(&self, x: &Tensor, layout: &Layout, train: bool) -> Tensor {
        let qkv = self.qkv.forward(x);
        let ctx = attention(&qkv, layout, self.heads, self.attn_dropout, train);
        let a = self
            .attn_norm
            .forward(&(self.attn_out.forward(&ctx).dropout_t(self.dropout, train) + x));
        let i = self.act.forward(&self.intermediate.forward(&a));
        self.out_norm
            .forward(&(self.output.forward(&i).dropout_t(self.dropout, train) + a))
    }
}

/// `bert` / `roberta` module: embeddings + encoder (the pooler is not needed for tokens).
pub struct BertModel {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
}

impl BertModel {
    pub fn new(p: Path, c: &ModelConfig, roberta: bool) -> Self {
        let enc = &p / "encoder" / "layer";
        BertModel {
            embeddings: BertEmbeddings::new(&p / "embeddings", c, roberta),
            layers: (0..c.num_hidden_layers)
                .map(|i| BertLayer::new(&enc / i, c))
                .collect(),
        }
    }

    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        let x = self.embeddings.forward(input_ids, None, train);
        let mask = additive_mask(attention_mask, x.kind());
        self.encode(x, &Layout::Padded { mask }, train)
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
        self.encode(x, layout, train)
    }

    /// Inference only: see [`Qkv::freeze`].
    pub fn freeze(&mut self) {
        self.layers.iter_mut().for_each(|l| l.qkv.freeze());
    }

    fn encode(&self, mut x: Tensor, layout: &Layout, train: bool) -> Tensor {
        for layer in &self.layers {
            x = layer.forward(&x, layout, train);
        }
        x
    }
}
