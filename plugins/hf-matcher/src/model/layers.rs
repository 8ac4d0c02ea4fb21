//! Building blocks shared by the encoder families. Parameters are created zero-filled (the
//! checkpoint overwrites them; random init would only burn time) under HF's names.
use super::int8::Int8Linear;
use super::mkl_bf16::MklBf16Linear;
use super::packed::PackedLinear;
use tch::nn::{Init, Path};
use tch::{Kind, Tensor};

/// How an inference-only model runs its encoder's linear layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearMode {
    /// fp32 weights packed once for MKL's GEMM ([`PackedLinear`]).
    Packed,
    /// Dynamic int8 ([`Int8Linear`]).
    Int8,
    /// bf16 copies of the weights, for bf16 autocast: made once instead of at every forward,
    /// run through MKL's bf16 GEMM where it is ([`MklBf16Linear`]).
    Bf16,
}

/// An inference-only copy of a linear's weight, made once when the model is frozen.
enum Frozen {
    Packed(PackedLinear),
    Int8(Int8Linear),
    MklBf16(MklBf16Linear),
    Bf16 { weight: Tensor, bias: Tensor },
}

pub struct Linear {
    pub weight: Tensor,
    pub bias: Tensor,
    /// Inference only (see [`Linear::freeze`]).
    frozen: Option<Frozen>,
}

impl Linear {
    pub fn new(p: Path, in_dim: i64, out_dim: i64) -> Self {
        Linear {
            weight: p.var("weight", &[out_dim, in_dim], Init::Const(0.)),
            bias: p.var("bias", &[out_dim], Init::Const(0.)),
            frozen: None,
        }
    }
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let fast = match &self.frozen {
            Some(Frozen::Packed(p)) => p.forward(x),
            Some(Frozen::Int8(q)) => q.forward(x),
            Some(Frozen::MklBf16(l)) => l.forward(x),
            Some(Frozen::Bf16 { weight, bias }) => {
                Some(x.to_kind(Kind::BFloat16).linear(weight, Some(bias)))
            }
            None => None,
        };
        fast.unwrap_or_else(|| x.linear(&self.weight, Some(&self.bias)))
    }

    /// Inference only: keeps a packed (fp32 CPU inputs, where MKL is there), int8 or bf16 copy of
    /// the weight; later updates of the weight would not reach it.
    pub fn freeze(&mut self, mode: LinearMode) {
        self.frozen = match mode {
            LinearMode::Packed => PackedLinear::new(&self.weight, &self.bias).map(Frozen::Packed),
            LinearMode::Int8 => Int8Linear::new(&self.weight, &self.bias).map(Frozen::Int8),
            LinearMode::Bf16 => Some(
                MklBf16Linear::new(&self.weight, &self.bias)
                    .map(Frozen::MklBf16)
                    .unwrap_or_else(|| Frozen::Bf16 {
                        weight: self.weight.detach().to_kind(Kind::BFloat16),
                        bias: self.bias.detach().to_kind(Kind::BFloat16),
                    }),
            ),
        };
    }

    /// Whether an fp32-only copy bypasses libtorch's linear (and so autocast).
    pub fn is_frozen_fp32(&self) -> bool {
        matches!(self.frozen, Some(Frozen::Packed(_) | Frozen::Int8(_)))
    }

    /// Whether a bf16 copy runs in bf16 whatever autocast says.
    pub fn is_frozen_bf16(&self) -> bool {
        matches!(self.frozen, Some(Frozen::MklBf16(_) | Frozen::Bf16 { .. }))
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
    /// Backward yields a sparse (row) gradient instead of a dense `[num, dim]` one: a batch
    /// touches a few hundred rows of a 30k-row vocabulary (see `AdamW`'s row-sparse update).
    pub sparse_grad: bool,
}

impl Embedding {
    pub fn new(p: Path, num: i64, dim: i64) -> Self {
        Embedding {
            weight: p.var("weight", &[num, dim], Init::Const(0.)),
            sparse_grad: false,
        }
    }
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        Tensor::embedding(&self.weight, ids, -1, false, self.sparse_grad)
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

/// How a batch's tokens are laid out between the layers. Everything but attention is per token,
/// so only attention needs to know.
pub enum Layout {
    /// `[batch, seq, hidden]` with an additive `[batch, 1, 1, seq]` mask.
    Padded { mask: Tensor },
    /// `[tokens, hidden]`: the real tokens of the batch back to back, padding removed, so the
    /// linear layers (most of the FLOPs) run on real tokens only. `index[t]` is token t's row in
    /// the `[batch * seq]` padded grid, where attention runs (with `mask`; `None` when nothing is
    /// padded).
    Packed {
        index: Tensor,
        batch: i64,
        seq: i64,
        mask: Option<Tensor>,
    },
}

/// Linear layers `[out_i, in]` applied as one product (fused q/k/v projections): one larger
/// GEMM is faster than three small ones; gradients flow back to each weight through `cat`.
pub fn fused_linear(x: &Tensor, parts: &[&Linear]) -> Tensor {
    let w: Vec<&Tensor> = parts.iter().map(|l| &l.weight).collect();
    let b: Vec<&Tensor> = parts.iter().map(|l| &l.bias).collect();
    x.linear(&Tensor::cat(&w, 0), Some(&Tensor::cat(&b, 0)))
}

/// The q/k/v projections of one attention layer: separate (HF's parameters, what training
/// updates) or, for inference only, also pre-fused so no weight copy is made per forward.
pub struct Qkv {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    fused: Option<Linear>,
}

impl Qkv {
    pub fn new(query: Linear, key: Linear, value: Linear) -> Self {
        Qkv {
            query,
            key,
            value,
            fused: None,
        }
    }

    /// `[..., 3 * hidden]` projections of `x`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        match &self.fused {
            Some(f) => f.forward(x),
            None => fused_linear(x, &[&self.query, &self.key, &self.value]),
        }
    }

    /// Keeps a fused copy of the weights (detached), run as `mode` says. Inference only: later
    /// updates of the separate weights would not reach it.
    pub fn freeze(&mut self, mode: LinearMode) {
        let parts = [&self.query, &self.key, &self.value];
        let cat = |f: fn(&Linear) -> &Tensor| {
            Tensor::cat(&parts.iter().map(|l| f(l)).collect::<Vec<_>>(), 0).detach()
        };
        let mut fused = Linear {
            weight: cat(|l| &l.weight),
            bias: cat(|l| &l.bias),
            frozen: None,
        };
        fused.freeze(mode);
        self.fused = Some(fused);
    }
}

/// Multi-head self-attention core on fused q/k/v projections (`[..., 3 * hidden]`, in `layout`);
/// returns the context in the same layout. Uses the fused SDPA kernel (same math as
/// transformers' eager/sdpa paths).
pub fn attention(qkv: &Tensor, layout: &Layout, heads: i64, dropout: f64, train: bool) -> Tensor {
    let h = qkv.size().last().copied().expect("[..., 3 * hidden]") / 3;
    let p = if train { dropout } else { 0.0 };
    let sdpa = |qkv: &Tensor, b: i64, s: i64, mask: Option<&Tensor>| {
        // [b, s, 3, heads, d] -> 3 x [b, heads, s, d]
        let t = qkv
            .view([b, s, 3, heads, h / heads])
            .permute([2, 0, 3, 1, 4]);
        let (q, k, v) = (t.get(0), t.get(1), t.get(2));
        let ctx = if p > 0.0 && qkv.device() == tch::Device::Cpu {
            // SDPA's math path with our dropout (libtorch's CPU dropout is the slow part).
            let scores = q.matmul(&k.transpose(-2, -1)) * (1.0 / ((h / heads) as f64).sqrt());
            let scores = match mask {
                Some(m) => scores + m,
                None => scores,
            };
            let probs = scores.softmax(-1, scores.kind());
            super::dropout::dropout(&probs, p, true).matmul(&v)
        } else {
            Tensor::scaled_dot_product_attention(&q, &k, &v, mask, p, false, None, false)
        };
        ctx.transpose(1, 2).reshape([b * s, h])
    };
    match layout {
        Layout::Padded { mask } => {
            let (b, s, _) = qkv.size3().expect("[batch, seq, 3 * hidden]");
            sdpa(qkv, b, s, Some(mask)).view([b, s, h])
        }
        Layout::Packed {
            batch,
            seq,
            mask: None,
            ..
        } => sdpa(qkv, *batch, *seq, None),
        Layout::Packed {
            index,
            batch,
            seq,
            mask: Some(mask),
        } => {
            let grid = Tensor::zeros([batch * seq, 3 * h], (qkv.kind(), qkv.device()))
                .index_copy(0, index, qkv);
            sdpa(&grid, *batch, *seq, Some(mask)).index_select(0, index)
        }
    }
}
