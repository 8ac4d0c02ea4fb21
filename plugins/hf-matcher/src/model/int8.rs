//! Dynamic int8 linears for CPU inference (`quantize = "int8"`), as torch's
//! `quantize_dynamic`: weights quantized once, symmetric per output channel; activations
//! quantized at each call per row (token), asymmetric (min..max onto -127..=127, so GELU's
//! one-sided outputs keep the whole int8 range, as fbgemm's uint8 activations do); the
//! int8 x int8 -> int32 product through libtorch's `_int_mm` (oneDNN: AVX-512 VNNI); the
//! activations' offset and the bias applied in fp32. The classifier head stays fp32.

use tch::{Device, Kind, Tensor};

/// A `[out, in]` fp32 weight quantized for `x · weightᵀ + bias`.
pub struct Int8Linear {
    /// `[in, out]` int8 (the product's right-hand side).
    weight_t: Tensor,
    /// `[out]` fp32: weight ≈ weight_q * scale, per output channel.
    scale: Tensor,
    /// `[1, out]` fp32: each output channel's sum of its int8 weights (for the offset).
    weight_q_sum: Tensor,
    bias: Tensor,
    k: i64,
}

/// The largest int8 magnitude used (-127..=127: 255 steps).
const QMAX: f64 = 127.0;
/// 1.5 * 2^23: f32 sums with it keep no fraction (see `quantize_rows`).
const ROUNDER: f32 = 12_582_912.0;

impl Int8Linear {
    /// None where it does not apply (not a 2-D fp32 CPU weight).
    pub fn new(weight: &Tensor, bias: &Tensor) -> Option<Self> {
        if weight.device() != Device::Cpu || weight.kind() != Kind::Float || weight.dim() != 2 {
            return None;
        }
        let (n, k) = weight.size2().ok()?;
        let w = weight.detach();
        // A zero row keeps scale 1 instead of dividing by 0.
        let amax = w.abs().amax([1], true);
        let scale = amax.where_scalarother(&amax.gt(0.0), QMAX) / QMAX;
        let q = (&w / &scale).round().clamp(-QMAX, QMAX);
        Some(Int8Linear {
            weight_t: q.to_kind(Kind::Int8).tr().contiguous(),
            scale: scale.reshape([n]).contiguous(),
            weight_q_sum: q
                .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
                .reshape([1, n]),
            bias: bias.detach().to_kind(Kind::Float).contiguous(),
            k,
        })
    }

    /// `x · weightᵀ + bias` for fp32 CPU `x` of shape `[..., in]`; None for other inputs.
    pub fn forward(&self, x: &Tensor) -> Option<Tensor> {
        let shape = x.size();
        if x.device() != Device::Cpu || x.kind() != Kind::Float || shape.last() != Some(&self.k) {
            return None;
        }
        let x2 = x.reshape([-1, self.k]).contiguous();
        let rows = x2.size()[0];
        let n = self.bias.size()[0];
        let mut out_shape = shape;
        *out_shape.last_mut()? = n;
        if rows == 0 {
            return Some(Tensor::zeros(
                out_shape.as_slice(),
                (Kind::Float, Device::Cpu),
            ));
        }
        // One pass to quantize, one to dequantize: at batch 1 the ~20 libtorch calls these
        // replace cost more than the int8 product saves.
        let (k, r) = (self.k as usize, rows as usize);
        let q = Tensor::empty([rows, self.k], (Kind::Int8, Device::Cpu));
        let mut step = vec![0f32; r];
        let mut shift = vec![0f32; r];
        // SAFETY: `x2` is a contiguous fp32 CPU tensor of rows * k > 0 elements and `q` a fresh
        // contiguous int8 one of the same count, both alive for these borrows.
        unsafe {
            let xs = std::slice::from_raw_parts(x2.data_ptr() as *const f32, r * k);
            let qs = std::slice::from_raw_parts_mut(q.data_ptr() as *mut i8, r * k);
            let rows_per = r.div_ceil(parts(r, r * k));
            let chunks = xs
                .chunks(rows_per * k)
                .zip(qs.chunks_mut(rows_per * k))
                .zip(step.chunks_mut(rows_per).zip(shift.chunks_mut(rows_per)));
            on_threads(chunks, |((x, q), (st, sh))| quantize_rows(x, q, k, st, sh));
        }
        let acc = q.internal_int_mm(&self.weight_t).contiguous();
        let y = Tensor::empty([rows, n], (Kind::Float, Device::Cpu));
        // SAFETY: `acc` is the contiguous int32 [rows, n] product, `y` a fresh contiguous fp32
        // tensor of the same shape, the per-channel tensors contiguous fp32 [n] (built in `new`).
        unsafe {
            let n = n as usize;
            let accs = std::slice::from_raw_parts(acc.data_ptr() as *const i32, r * n);
            let ys = std::slice::from_raw_parts_mut(y.data_ptr() as *mut f32, r * n);
            let per_channel =
                |t: &Tensor| std::slice::from_raw_parts(t.data_ptr() as *const f32, n);
            let channels = Channels {
                scale: per_channel(&self.scale),
                weight_q_sum: per_channel(&self.weight_q_sum),
                bias: per_channel(&self.bias),
            };
            let rows_per = r.div_ceil(parts(r, r * n));
            let chunks = accs
                .chunks(rows_per * n)
                .zip(ys.chunks_mut(rows_per * n))
                .zip(step.chunks(rows_per).zip(shift.chunks(rows_per)));
            on_threads(chunks, |((a, y), (st, sh))| {
                dequantize_rows(a, y, st, sh, &channels)
            });
        }
        Some(y.view(out_shape.as_slice()))
    }
}

/// How many threads share a pass over `elements` in `rows` rows: libtorch's intra-op count for
/// large tensors (batched documents), one below ~64K elements, where a thread costs more.
fn parts(rows: usize, elements: usize) -> usize {
    let threads = tch::get_num_threads().max(1) as usize;
    threads.min(elements / 65_536 + 1).min(rows).max(1)
}

/// Runs `f` on each part, the last one on this thread and the others on their own.
fn on_threads<T: Send>(parts: impl Iterator<Item = T>, f: impl Fn(T) + Sync) {
    std::thread::scope(|sc| {
        let mut parts = parts.peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                f(part);
            } else {
                let f = &f;
                sc.spawn(move || f(part));
            }
        }
    });
}

/// Per row: x ≈ step * (q + 127) + min, q in -127..=127 (step 1 for a constant row, which the
/// offset then gives exactly). `shift` = 127 * step + min, the offset's part in the product.
fn quantize_rows(x: &[f32], q: &mut [i8], k: usize, step: &mut [f32], shift: &mut [f32]) {
    for (r, (row, qrow)) in x.chunks_exact(k).zip(q.chunks_exact_mut(k)).enumerate() {
        let (min, max) = row
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let range = max - min;
        let s = if range > 0.0 {
            range / (2.0 * QMAX as f32)
        } else {
            1.0
        };
        let offset = min / s + QMAX as f32;
        for (o, &v) in qrow.iter_mut().zip(row) {
            let t = (v / s - offset).clamp(-QMAX as f32, QMAX as f32);
            // Half to even, as torch.round, by adding and removing 1.5 * 2^23 (exact for
            // |t| < 2^22): vectorizes where `round_ties_even` is a libm call per element.
            *o = ((t + ROUNDER) - ROUNDER) as i8;
        }
        step[r] = s;
        shift[r] = s * QMAX as f32 + min;
    }
}

/// The output channels' constants of the dequantization.
struct Channels<'a> {
    scale: &'a [f32],
    weight_q_sum: &'a [f32],
    bias: &'a [f32],
}

/// x·wᵀ + b ≈ scale_w * (step * (q·w_qᵀ) + shift * Σw_q) + b, row by row.
fn dequantize_rows(acc: &[i32], y: &mut [f32], step: &[f32], shift: &[f32], c: &Channels) {
    let n = c.bias.len();
    for (r, (arow, yrow)) in acc.chunks_exact(n).zip(y.chunks_exact_mut(n)).enumerate() {
        let (s, t) = (step[r], shift[r]);
        for (((o, &a), (&sc, &ws)), &b) in yrow
            .iter_mut()
            .zip(arow)
            .zip(c.scale.iter().zip(c.weight_q_sum))
            .zip(c.bias)
        {
            *o = (a as f32 * s + t * ws) * sc + b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded random `[out, inp]` layer (weights ~0.1) with a random or a zero bias.
    fn random_layer(
        seed: i64,
        out: i64,
        inp: i64,
        random_bias: bool,
    ) -> (Tensor, Tensor, Int8Linear) {
        tch::manual_seed(seed);
        let w = Tensor::randn([out, inp], (Kind::Float, Device::Cpu)) * 0.1;
        let b = if random_bias {
            Tensor::randn([out], (Kind::Float, Device::Cpu))
        } else {
            Tensor::zeros([out], (Kind::Float, Device::Cpu))
        };
        let q = Int8Linear::new(&w, &b).expect("an fp32 CPU weight");
        (w, b, q)
    }

    #[test]
    fn int8_linear_is_close_to_fp32_for_any_row_count() {
        let (w, b, q) = random_layer(0, 48, 32, true);
        for rows in [1i64, 2, 7, 31, 64, 130] {
            let x = Tensor::randn([rows, 32], (Kind::Float, Device::Cpu));
            let exact = x.linear(&w, Some(&b));
            let got = q.forward(&x).expect("fp32 CPU input");
            assert_eq!(got.size(), [rows, 48]);
            // Relative to the output's scale: per-row/per-channel int8 keeps ~2 decimal digits.
            let err = (&got - &exact).abs().max().double_value(&[]);
            let scale = exact.abs().max().double_value(&[]);
            assert!(
                err < 0.02 * scale,
                "{rows} rows: max error {err} vs scale {scale}"
            );
            // and it is not the fp32 product itself (the weights were really quantized)
            assert!(err > 0.0);
        }
        // leading dimensions kept
        let x = Tensor::randn([2, 5, 32], (Kind::Float, Device::Cpu));
        assert_eq!(q.forward(&x).unwrap().size(), [2, 5, 48]);
    }

    #[test]
    fn constant_and_one_sided_rows_use_the_whole_range() {
        let (_, b, q) = random_layer(1, 16, 64, false);
        // a constant row is exact up to the weights' quantization
        let c = Tensor::full([1, 64], 0.7, (Kind::Float, Device::Cpu));
        let w_deq = q.weight_t.to_kind(Kind::Float).tr() * q.scale.reshape([16, 1]);
        let err = (q.forward(&c).unwrap() - c.linear(&w_deq, Some(&b)))
            .abs()
            .max();
        assert!(err.double_value(&[]) < 1e-4, "{err}");
        // GELU-like rows (-0.17..3): half the error of a symmetric quantization or better
        let x = Tensor::rand([32, 64], (Kind::Float, Device::Cpu)) * 3.17 - 0.17;
        let x = x.clamp_min(-0.17);
        let exact = x.linear(&w_deq, Some(&b));
        let asym = (q.forward(&x).unwrap() - &exact).abs().mean(Kind::Float);
        let s = x.abs().amax([1], true) / QMAX;
        let sym = ((&x / &s).round() * &s).linear(&w_deq, Some(&b)) - &exact;
        let sym = sym.abs().mean(Kind::Float);
        assert!(
            asym.double_value(&[]) < 0.7 * sym.double_value(&[]),
            "asymmetric {asym} vs symmetric {sym}"
        );
    }

    /// The two fused passes compute what libtorch's elementwise calls did, step for step.
    #[test]
    fn fused_passes_match_the_libtorch_formulation() {
        let (_, _, q) = random_layer(2, 24, 40, true);
        let x = Tensor::randn([9, 40], (Kind::Float, Device::Cpu)) * 2.0;
        let _ = x.get(3).fill_(0.25); // a constant row
        let (min, max) = x.aminmax(1, true);
        let range = &max - &min;
        let step = range.where_scalarother(&range.gt(0.0), 2.0 * QMAX) / (2.0 * QMAX);
        let offset = &min / &step + QMAX;
        let xq = (&x / &step)
            .g_sub_(&offset)
            .round_()
            .clamp_(-QMAX, QMAX)
            .to_kind(Kind::Int8);
        let mut y = xq.internal_int_mm(&q.weight_t).to_kind(Kind::Float);
        let shift = &step * QMAX + &min;
        let _ = y.g_mul_(&step);
        let _ = y.addcmul_(&shift, &q.weight_q_sum);
        let _ = y.g_mul_(&q.scale);
        let _ = y.g_add_(&q.bias);
        let got = q.forward(&x).unwrap();
        let err = (&got - &y).abs().max().double_value(&[]);
        assert!(err < 1e-5, "max difference {err}");
        // no row is left out
        assert_eq!(got.size(), [9, 24]);
        assert!(q.forward(&x.narrow(0, 0, 0)).unwrap().size() == [0, 24]);
    }

    /// Large inputs are split by rows across libtorch's thread count: same result as one thread.
    #[test]
    fn threads_split_rows_without_changing_the_result() {
        let (_, _, q) = random_layer(3, 64, 512, false);
        let x = Tensor::randn([301, 512], (Kind::Float, Device::Cpu));
        let before = tch::get_num_threads();
        tch::set_num_threads(1);
        assert_eq!(parts(301, 301 * 512), 1);
        let one = q.forward(&x).unwrap();
        tch::set_num_threads(2);
        assert_eq!(parts(301, 301 * 512), 2);
        let two = q.forward(&x).unwrap();
        tch::set_num_threads(before);
        assert!(one.equal(&two));
    }

    #[test]
    fn zero_rows_and_zero_inputs_give_the_bias() {
        let w = Tensor::zeros([4, 8], (Kind::Float, Device::Cpu));
        let b = Tensor::from_slice(&[1.0f32, -2.0, 0.5, 0.0]);
        let q = Int8Linear::new(&w, &b).unwrap();
        let y = q
            .forward(&Tensor::zeros([3, 8], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert!(y.isfinite().all().int64_value(&[]) == 1);
        assert_eq!(
            Vec::<f32>::try_from(y.get(2)).unwrap(),
            vec![1.0, -2.0, 0.5, 0.0]
        );
    }

    #[test]
    fn other_kinds_are_left_to_libtorch() {
        let w = Tensor::zeros([4, 8], (Kind::Double, Device::Cpu));
        assert!(Int8Linear::new(&w, &Tensor::zeros([4], (Kind::Double, Device::Cpu))).is_none());
        let q = Int8Linear::new(
            &Tensor::ones([4, 8], (Kind::Float, Device::Cpu)),
            &Tensor::zeros([4], (Kind::Float, Device::Cpu)),
        )
        .unwrap();
        assert!(q
            .forward(&Tensor::ones([2, 8], (Kind::BFloat16, Device::Cpu)))
            .is_none());
        assert!(q
            .forward(&Tensor::ones([2, 7], (Kind::Float, Device::Cpu)))
            .is_none());
    }
}
