//! Dynamic int8 linears for CPU inference (`quantize = "int8"`), as torch's
//! `quantize_dynamic`: weights quantized once, symmetric per output channel; activations
//! quantized at each call, symmetric per row (token); the int8 x int8 -> int32 product through
//! libtorch's `_int_mm` (oneDNN: AMX-INT8 / AVX-512 VNNI where the CPU has them); the bias added
//! in fp32. The classifier head stays fp32.

use tch::{Device, Kind, Tensor};

/// A `[out, in]` fp32 weight quantized for `x · weightᵀ + bias`.
pub struct Int8Linear {
    /// `[in, out]` int8 (the product's right-hand side).
    weight_t: Tensor,
    /// `[out]` fp32: weight ≈ weight_q * scale, per output channel.
    scale: Tensor,
    bias: Tensor,
    k: i64,
}

/// The largest int8 magnitude used (symmetric: -127..=127).
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
        let q = (&w / &scale).round().clamp(-QMAX, QMAX).to_kind(Kind::Int8);
        Some(Int8Linear {
            weight_t: q.tr().contiguous(),
            scale: scale.reshape([n]),
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
        let amax = x2.abs().amax([1], true);
        let row_scale = amax.where_scalarother(&amax.gt(0.0), QMAX) / QMAX;
        let q = (&x2 / &row_scale)
            .round_()
            .clamp_(-QMAX, QMAX)
            .to_kind(Kind::Int8);
        let mut y = q.internal_int_mm(&self.weight_t).to_kind(Kind::Float);
        let _ = y.g_mul_(&row_scale);
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
