//! torch.nn.utils.clip_grad_norm_, as transformers' Trainer applies it before each update.

use tch::{Kind, Tensor};

/// torch.nn.utils.clip_grad_norm_'s clamped coefficient, `min(1, max_norm / (total + 1e-6))`
/// with `total` the L2 norm of the per-gradient L2 norms, computed with torch's operations (a
/// 0-d tensor: no sync on CUDA). Sparse gradients are coalesced in place (their norm is that
/// of their values once duplicate rows are summed).
pub(super) fn clip_coefficient(grads: &mut [Tensor], max_norm: f64) -> Tensor {
    let mut norms = Vec::with_capacity(grads.len());
    for g in grads.iter_mut().filter(|g| g.defined()) {
        if g.is_sparse() {
            *g = g.coalesce();
            norms.push(g.values().norm());
        } else {
            norms.push(g.norm());
        }
    }
    let Some(first) = norms.first() else {
        return Tensor::ones([], (Kind::Float, tch::Device::Cpu));
    };
    let device = first.device();
    let norms: Vec<Tensor> = norms.iter().map(|n| n.to_device(device)).collect();
    let total = Tensor::stack(&norms, 0).norm();
    // Python's `max_norm / t` is `t.reciprocal() * max_norm`.
    ((total + 1e-6).reciprocal() * max_norm).clamp_max(1.0)
}
