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
            scale: scale.reshape([n]),
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
        let x2 = x.reshape([-1, self.k]);
        // Per row: x ≈ step * (q + 127) + min, q in -127..=127.
        let (min, max) = x2.aminmax(1, true);
        let range = &max - &min;
        let step = range.where_scalarother(&range.gt(0.0), 2.0 * QMAX) / (2.0 * QMAX);
        let offset = &min / &step + QMAX;
        let q = (&x2 / &step)
            .g_sub_(&offset)
            .round_()
            .clamp_(-QMAX, QMAX)
            .to_kind(Kind::Int8);
        // x·wᵀ ≈ scale_w * (step * (q·w_qᵀ) + (127 * step + min) * Σw_q)
        let mut y = q.internal_int_mm(&self.weight_t).to_kind(Kind::Float);
        let shift = &step * QMAX + &min;
        let _ = y.g_mul_(&step);
        let _ = y.addcmul_(&shift, &self.weight_q_sum);
        let _ = y.g_mul_(&self.scale);
        let _ = y.g_add_(&self.bias);
        let mut out_shape = shape;
        *out_shape.last_mut()? = self.bias.size()[0];
        Some(y.view(out_shape.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_linear_is_close_to_fp32_for_any_row_count() {
        tch::manual_seed(0);
        let w = Tensor::randn([48, 32], (Kind::Float, Device::Cpu)) * 0.1;
        let b = Tensor::randn([48], (Kind::Float, Device::Cpu));
        let q = Int8Linear::new(&w, &b).expect("an fp32 CPU weight");
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
        tch::manual_seed(1);
        let w = Tensor::randn([16, 64], (Kind::Float, Device::Cpu)) * 0.1;
        let b = Tensor::zeros([16], (Kind::Float, Device::Cpu));
        let q = Int8Linear::new(&w, &b).unwrap();
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
