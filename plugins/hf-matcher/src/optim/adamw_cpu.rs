//! AdamW's CPU kernels: one pass over memory per parameter (torch's tensor path makes ~11
//! passes and 5 temporaries), dense or row-sparse, split across libtorch's thread count.

use super::adamw::{Hyper, Param};
use tch::{Device, Kind, Tensor};

fn plain_f32(t: &Tensor) -> bool {
    t.device() == Device::Cpu && t.kind() == Kind::Float && t.is_contiguous()
}

/// Threads for `n` elements: libtorch's intra-op count, at most one per 64k elements.
fn threads_for(n: usize) -> usize {
    (tch::get_num_threads().max(1) as usize)
        .min(n / (1 << 16))
        .max(1)
}

/// `(param, exp_avg, exp_avg_sq)` of `p` as mutable fp32 slices.
///
/// SAFETY: the caller checked the three tensors with `plain_f32` and `n > 0` elements each;
/// they are distinct buffers owned by live tensors that nothing else touches during the step
/// (autograd is off, the host is single-threaded).
unsafe fn state_slices(p: &mut Param, n: usize) -> (&mut [f32], &mut [f32], &mut [f32]) {
    unsafe {
        (
            std::slice::from_raw_parts_mut(p.tensor.data_ptr() as *mut f32, n),
            std::slice::from_raw_parts_mut(p.exp_avg.data_ptr() as *mut f32, n),
            std::slice::from_raw_parts_mut(p.exp_avg_sq.data_ptr() as *mut f32, n),
        )
    }
}

/// `n` fp32 values at `t`'s data; empty tensors may have a null data pointer, which a slice
/// must not have.
///
/// SAFETY: `t` is a contiguous fp32 CPU tensor of at least `n` elements, alive and unchanged
/// while the slice is used.
unsafe fn read_f32(t: &Tensor, n: usize) -> &[f32] {
    if n == 0 {
        return &[];
    }
    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, n) }
}

/// Dense update for contiguous fp32 CPU tensors; false when the tensors do not qualify.
pub(super) fn fused_dense(p: &mut Param, grad: &Tensor, h: &Hyper) -> bool {
    let n = p.tensor.numel();
    if ![&p.tensor, grad, &p.exp_avg, &p.exp_avg_sq]
        .iter()
        .all(|t| plain_f32(t) && t.numel() == n)
    {
        return false;
    }
    if n == 0 {
        return true;
    }
    // SAFETY: checked just above (see `state_slices`); `grad` is a fourth distinct buffer.
    let (param, m, v) = unsafe { state_slices(p, n) };
    let g = unsafe { read_f32(grad, n) };
    let threads = threads_for(n);
    if threads == 1 {
        fused_chunk(param, g, m, v, h);
        return true;
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        for (((pc, gc), mc), vc) in param
            .chunks_mut(chunk)
            .zip(g.chunks(chunk))
            .zip(m.chunks_mut(chunk))
            .zip(v.chunks_mut(chunk))
        {
            s.spawn(move || fused_chunk(pc, gc, mc, vc, h));
        }
    });
    true
}

/// Update of a 2-D parameter from a sparse COO gradient (an embedding's rows), equal to the
/// dense update with zeros in the missing rows: rows with a gradient or non-zero moments get
/// the full update; the others have zero moments, for which AdamW is exactly `p *= decay`
/// (m and v stay 0, the step term is 0/eps). False when the tensors do not qualify.
pub(super) fn fused_rows(p: &mut Param, grad: &Tensor, h: &Hyper) -> bool {
    let size = p.tensor.size();
    if size.len() != 2
        || grad.kind() != Kind::Float
        || ![&p.tensor, &p.exp_avg, &p.exp_avg_sq]
            .iter()
            .all(|t| plain_f32(t) && t.size() == size)
    {
        return false;
    }
    let (rows, dim) = (size[0] as usize, size[1] as usize);
    if rows * dim == 0 {
        return true;
    }
    let g = grad.coalesce();
    let values = g.values().contiguous();
    let Ok(index) = Vec::<i64>::try_from(g.indices().reshape([-1])) else {
        return false;
    };
    if values.size() != [index.len() as i64, dim as i64]
        || index.iter().any(|&r| r < 0 || r as usize >= rows)
    {
        return false;
    }
    if p.touched.len() != rows {
        p.touched = rows_with_moments(p);
    }
    let mut touched = std::mem::take(&mut p.touched);
    let mut slot = vec![u32::MAX; rows];
    for (j, &r) in index.iter().enumerate() {
        slot[r as usize] = j as u32;
        touched[r as usize] = true;
    }
    // SAFETY: checked above (see `state_slices`); `values` is a distinct contiguous buffer.
    let (param, m, v) = unsafe { state_slices(p, rows * dim) };
    let vals = unsafe { read_f32(&values, index.len() * dim) };
    let chunk_rows = rows.div_ceil(threads_for(rows * dim));
    let chunk = chunk_rows * dim;
    std::thread::scope(|s| {
        for (i, ((pc, mc), vc)) in param
            .chunks_mut(chunk)
            .zip(m.chunks_mut(chunk))
            .zip(v.chunks_mut(chunk))
            .enumerate()
        {
            let range = i * chunk_rows..((i + 1) * chunk_rows).min(rows);
            let (slot, touched) = (&slot[range.clone()], &touched[range]);
            s.spawn(move || rows_chunk(pc, mc, vc, slot, touched, vals, dim, h));
        }
    });
    p.touched = touched;
    true
}

/// Rows of `p` whose moments are not all zero (a new optimizer has none; a restored one may).
fn rows_with_moments(p: &Param) -> Vec<bool> {
    tch::no_grad(|| {
        let any = p
            .exp_avg
            .ne(0.0)
            .logical_or(&p.exp_avg_sq.ne(0.0))
            .any_dim(1, false);
        Vec::<bool>::try_from(&any).unwrap_or_else(|_| vec![true; p.tensor.size()[0] as usize])
    })
}

#[allow(clippy::too_many_arguments)]
fn rows_chunk(
    param: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    slot: &[u32],
    touched: &[bool],
    vals: &[f32],
    dim: usize,
    h: &Hyper,
) {
    let zeros = vec![0f32; dim];
    let decay = h.decay as f32;
    for (r, ((pr, mr), vr)) in param
        .chunks_mut(dim)
        .zip(m.chunks_mut(dim))
        .zip(v.chunks_mut(dim))
        .enumerate()
    {
        if slot[r] != u32::MAX {
            let j = slot[r] as usize * dim;
            fused_chunk(pr, &vals[j..j + dim], mr, vr, h);
        } else if touched[r] {
            fused_chunk(pr, &zeros, mr, vr, h);
        } else if decay != 1.0 {
            pr.iter_mut().for_each(|x| *x *= decay);
        }
    }
}

/// Element-wise AdamW in torch's operation order, with f32 scalars as torch's CPU kernels use;
/// the gradient is first scaled by clip_grad_norm_'s coefficient (`g.mul_(coef)` in f32).
fn fused_chunk(param: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], h: &Hyper) {
    let (decay, w1, beta2, w2) = (h.decay as f32, h.w1 as f32, h.beta2 as f32, h.w2 as f32);
    let (bias2_sqrt, eps, neg_step) = (h.bias2_sqrt as f32, h.eps as f32, h.neg_step_size as f32);
    let scale = h.grad_scale as f32;
    for (((p, &g), m), v) in param.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g * scale;
        let decayed = *p * decay;
        *m += w1 * (g - *m);
        *v = *v * beta2 + (w2 * g) * g;
        let denom = v.sqrt() / bias2_sqrt + eps;
        *p = decayed + (neg_step * *m) / denom;
    }
}
