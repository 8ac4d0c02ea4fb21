//! DistilBERT encoder, HF module names (`embeddings`, `transformer.layer.N.{attention,ffn}`).
use tch::nn::Path;

use super::dropout::DropoutExt;
use tch::Tensor;

use super::layers::{
    additive_mask, attention, Activation, Embedding, LayerNorm, Layout, Linear, Qkv,
};
use crate::config::ModelConfig;

// DistilBERT hard-codes its LayerNorm eps.
const EPS: f64 = 1e-12;

struct Block {
    qkv: Qkv,
    out_lin: Linear,
    sa_layer_norm: LayerNorm,
    lin1: Linear,
    lin2: Linear,
    output_layer_norm: LayerNorm,
    act: Activation,
    heads: i64,
    attn_dropout: f64,
    dropout: f64,
}

impl Block {
    fn new(p: Path, c: &ModelConfig) -> Self {
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let a = &p / "attention";
        let f = &p / "ffn";
        Block {
            qkv: Qkv::new(
                Linear::new(&a / "q_lin", h, h),
                Linear::new(&a / "k_lin", h, h),
                Linear::new(&a / "v_lin", h, h),
            ),
            out_lin: Linear::new(&a / "out_lin", h, h),
            sa_layer_norm: LayerNorm::new(&p / "sa_layer_norm", h, EPS),
            lin1: Linear::new(&f / "lin1", h, i),
            lin2: Linear::new(&f / "lin2", i, h),
            output_layer_norm: LayerNorm::new(&p / "output_layer_norm", h, EPS),
            act: Activation::from_name(&c.hidden_act).expect("activation checked at config load"),
            heads: c.num_attention_heads,
            attn_dropout: c.attention_probs_dropout_prob,
            dropout: c.hidden_dropout_prob,
        }
    }

    fn forward(&self, x: &Tensor, layout: &Layout, train: bool) -> Tensor {
        let qkv = self.qkv.forward(x);
        let ctx = attention(&qkv, layout, self.heads, self.attn_dropout, train);
        // HF applies no dropout after out_lin.
        let a = self
            .sa_layer_norm
            .forward(&(self.out_lin.forward(&ctx) + x));
        let f = self
            .lin2
            .forward(&self.act.forward(&self.lin1.forward(&a)))
            .dropout_t(self.dropout, train);
        self.output_layer_norm.forward(&(f + a))
    }
}

pub struct DistilBertModel {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
    layers: Vec<Block>,
}

impl DistilBertModel {
    pub fn new(p: Path, c: &ModelConfig) -> Self {
        let e = &p / "embeddings";
        let t = &p / "transformer" / "layer";
        DistilBertModel {
            word_embeddings: Embedding::new(&e / "word_embeddings", c.vocab_size, c.hidden_size),
            position_embeddings: Embedding::new(
                &e / "position_embeddings",
                c.max_position_embeddings,
                c.hidden_size,
            ),
            layer_norm: LayerNorm::new(&e / "LayerNorm", c.hidden_size, EPS),
            dropout: c.hidden_dropout_prob,
            layers: (0..c.num_hidden_layers)
                .map(|i| Block::new(&t / i, c))
                .collect(),
        }
    }

    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        let seq = input_ids.size()[1];
        let x = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.weight.narrow(0, 0, seq);
        let x = self.layer_norm.forward(&x).dropout_t(self.dropout, train);
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
        let x =
            self.word_embeddings.forward(input_ids) + self.position_embeddings.forward(positions);
        let x = self.layer_norm.forward(&x).dropout_t(self.dropout, train);
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
