//! What the CBLAS-backed inference linears share ([`super::packed`], [`super::mkl_bf16`]): the
//! enumerations of mkl_cblas.h and the shapes around a `x · weightᵀ + bias` call.

use std::os::raw::c_int;
use tch::{Device, Kind, Tensor};

pub const ROW_MAJOR: c_int = 101;
pub const NO_TRANS: c_int = 111;
pub const TRANS: c_int = 112;

/// `(out, in)` of a 2-D fp32 CPU weight `[out, in]` with an fp32 bias `[out]`; None for any
/// other weight, or sizes beyond i32 (MKL_INT is 32-bit in libtorch's LP64 MKL).
pub fn linear_dims(weight: &Tensor, bias: &Tensor) -> Option<(c_int, c_int)> {
    if weight.device() != Device::Cpu || weight.kind() != Kind::Float || weight.dim() != 2 {
        return None;
    }
    let (n, k) = weight.size2().ok()?;
    let (n, k) = (c_int::try_from(n).ok()?, c_int::try_from(k).ok()?);
    if n == 0 || k == 0 || bias.size() != [n as i64] || bias.kind() != Kind::Float {
        return None;
    }
    Some((n, k))
}

/// A fresh contiguous `[m, n]` fp32 tensor holding the bias in every row, for a GEMM to add the
/// product to (as libtorch's addmm; `contiguous()` of a 1-row expand would alias the bias).
pub fn bias_rows(bias: &Tensor, m: c_int, n: c_int) -> Tensor {
    let (m, n) = (m as i64, n as i64);
    let mut out = Tensor::empty([m, n], (Kind::Float, Device::Cpu));
    out.copy_(&bias.expand([m, n], false));
    out
}

/// `out` (`[rows, n]`) viewed with the input's leading dimensions: `[..., in]` → `[..., n]`.
pub fn with_leading_dims(out: Tensor, mut input_shape: Vec<i64>, n: c_int) -> Option<Tensor> {
    *input_shape.last_mut()? = n as i64;
    Some(out.view(input_shape.as_slice()))
}

/// Tests: a random `[70, 48]` weight and its bias from `seed`, with libtorch's RNG held.
#[cfg(test)]
pub fn random_linear(seed: i64) -> (std::sync::MutexGuard<'static, ()>, Tensor, Tensor) {
    let rng = crate::torch_rng_lock();
    tch::manual_seed(seed);
    let opts = (Kind::Float, Device::Cpu);
    (
        rng,
        Tensor::randn([70, 48], opts),
        Tensor::randn([70], opts),
    )
}
