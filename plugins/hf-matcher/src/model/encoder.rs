//! The post-LayerNorm transformer layer BERT and DistilBERT share (they differ only in their HF
//! parameter names and one dropout), and the stack of them.
use tch::nn::Path;
use tch::Tensor;

use super::dropout::DropoutExt;
use super::layers::{attention, Activation, LayerNorm, Layout, Linear, LinearMode, Qkv};
use crate::config::ModelConfig;

/// HF names of one layer's modules, relative to the layer's path.
pub struct LayerNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub attn_out: &'static str,
    pub attn_norm: &'static str,
    pub ffn_in: &'static str,
    pub ffn_out: &'static str,
    pub ffn_norm: &'static str,
    /// BERT drops out after the attention output projection; DistilBERT does not.
    pub attn_out_dropout: bool,
}

struct EncoderLayer {
    qkv: Qkv,
    attn_out: Linear,
    attn_norm: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    ffn_norm: LayerNorm,
    act: Activation,
    heads: i64,
    attn_dropout: f64,
    dropout: f64,
    attn_out_dropout: bool,
}

impl EncoderLayer {
    fn new(p: Path, c: &ModelConfig, n: &LayerNames, eps: f64) -> Self {
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let at = |name: &str| name.split('.').fold(p.clone(), |p, part| &p / part);
        EncoderLayer {
            qkv: Qkv::new(
                Linear::new(at(n.query), h, h),
                Linear::new(at(n.key), h, h),
                Linear::new(at(n.value), h, h),
            ),
            attn_out: Linear::new(at(n.attn_out), h, h),
            attn_norm: LayerNorm::new(at(n.attn_norm), h, eps),
            ffn_in: Linear::new(at(n.ffn_in), h, i),
            ffn_out: Linear::new(at(n.ffn_out), i, h),
            ffn_norm: LayerNorm::new(at(n.ffn_norm), h, eps),
            act: Activation::from_name(&c.hidden_act).expect("activation checked at config load"),
            heads: c.num_attention_heads,
            attn_dropout: c.attention_probs_dropout_prob,
            dropout: c.hidden_dropout_prob,
            attn_out_dropout: n.attn_out_dropout,
        }
    }

    fn forward(&self, x: &Tensor, layout: &Layout, train: bool) -> Tensor {
        let qkv = self.qkv.forward(x);
        let ctx = attention(&qkv, layout, self.heads, self.attn_dropout, train);
        let mut o = self.attn_out.forward(&ctx);
        if self.attn_out_dropout {
            o = o.dropout_t(self.dropout, train);
        }
        let a = self.attn_norm.forward(&(o + x));
        let f = self
            .ffn_out
            .forward(&self.act.forward(&self.ffn_in.forward(&a)))
            .dropout_t(self.dropout, train);
        self.ffn_norm.forward(&(f + a))
    }
}

/// `num_hidden_layers` layers under `p/0`, `p/1`, …
pub struct Encoder {
    layers: Vec<EncoderLayer>,
}

impl Encoder {
    pub fn new(p: Path, c: &ModelConfig, names: &LayerNames, eps: f64) -> Self {
        Encoder {
            layers: (0..c.num_hidden_layers)
                .map(|i| EncoderLayer::new(&p / i, c, names, eps))
                .collect(),
        }
    }

    pub fn forward(&self, mut x: Tensor, layout: &Layout, train: bool) -> Tensor {
        for layer in &self.layers {
            x = layer.forward(&x, layout, train);
        }
        x
    }

    /// Inference only: fused q/k/v projections ([`Qkv::freeze`]), every linear run as `mode`
    /// says ([`Linear::freeze`]).
    pub fn freeze(&mut self, mode: LinearMode) {
        for l in &mut self.layers {
            l.qkv.freeze(mode);
            l.attn_out.freeze(mode);
            l.ffn_in.freeze(mode);
            l.ffn_out.freeze(mode);
        }
    }
}
