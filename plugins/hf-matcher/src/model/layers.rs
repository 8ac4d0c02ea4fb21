//! Building blocks shared by the encoder families. Parameters are created zero-filled (the
//! checkpoint overwrites them; random init would only burn time) under HF's names.
use tch::nn::{Init, Path};
use tch::{Kind, Tensor};

pub struct Linear {
    pub weight: Tensor,
    pub bias: Tensor,
}

impl Linear {
    pub fn new(p: Path, in_dim: i64, out_dim: i64) -> Self {
        Linear {
            weight: p.var("weight", &[out_dim, in_dim], Init::Const(0.)),
            bias: p.var("bias", &[out_dim], Init::Const(0.)),
        }
    }
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    eps: f64,
    dim: i64,
}

impl LayerNorm {
    pub fn new(p: Path, dim: i64, eps: f64) -> Self {
        LayerNorm {
            weight: p.var("weight", &[dim], Init::Const(1.)),
            bias: p.var("bias", &[dim], Init::Const(0.)),
            eps,
            dim,
        }
    }
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.layer_norm(
            [self.dim],
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
            true,
        )
    }
}

pub struct Embedding {
    pub weight: Tensor,
}

impl Embedding {
    pub fn new(p: Path, num: i64, dim: i64) -> Self {
        Embedding {
            weight: p.var("weight", &[num, dim], Init::Const(0.)),
        }
    }
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        Tensor::embedding(&self.weight, ids, -1, false, false)
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Activation {
    /// transformers "gelu": exact, with erf.
    Gelu,
    /// "gelu_new" / "gelu_pytorch_tanh" / "gelu_fast": the tanh approximation.
    GeluTanh,
    Relu,
    Silu,
}

impl Activation {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            "silu" | "swish" => Activation::Silu,
            _ => return None,
        })
    }
    pub fn forward(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Gelu => x.gelu("none"),
            Activation::GeluTanh => x.gelu("tanh"),
            Activation::Relu => x.relu(),
            Activation::Silu => x.silu(),
        }
    }
}

/// [batch, seq] 1/0 mask → additive [batch, 1, 1, seq] mask: 0 where attended, the dtype's
/// minimum where masked (as transformers does; -inf would give NaN on fully masked rows).
pub fn additive_mask(attention_mask: &Tensor, kind: Kind) -> Tensor {
    let min = match kind {
        Kind::Half => -65504.0,
        Kind::BFloat16 => -3.3895313892515355e38,
        Kind::Double => f64::MIN,
        _ => f32::MIN as f64,
    };
    // (1 - mask) * min, exactly transformers' formula.
    let inverted = attention_mask.to_kind(kind).neg() + 1.0;
    (inverted * min).unsqueeze(1).unsqueeze(1)
}

/// Multi-head self-attention core: q/k/v already projected, [batch, seq, hidden].
/// Uses the fused SDPA kernel (same math as transformers' eager/sdpa paths).
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
    heads: i64,
    dropout: f64,
    train: bool,
) -> Tensor {
    let (b, s, h) = q.size3().expect("[batch, seq, hidden]");
    let split = |t: &Tensor| t.view([b, s, heads, h / heads]).transpose(1, 2);
    let p = if train { dropout } else { 0.0 };
    let ctx = Tensor::scaled_dot_product_attention(
        &split(q),
        &split(k),
        &split(v),
        Some(mask),
        p,
        false,
        None,
        false,
    );
    ctx.transpose(1, 2).reshape([b, s, h])
}
