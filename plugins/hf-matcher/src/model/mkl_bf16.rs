//! bf16 inference linears on the CPU through MKL's `cblas_gemm_bf16bf16f32` (inside libtorch's
//! CPU library; AMX or AVX512-BF16 kernels). Under autocast libtorch runs bf16 matmuls through
//! oneDNN, which compiles a kernel for each new input shape: annotation batches bring a new row
//! count at nearly every call, and compiling took ~28% of the matmul time at batch 1. MKL's
//! kernels are built in, and at 30–128 rows they ran 1–2× oneDNN's even with its kernel cached
//! (BENCHMARKS.md). CPUs without AVX512-BF16, other devices and `MEDKIT_MKL_BF16=0` keep
//! libtorch's linear.

use super::cblas::{bias_rows, linear_dims, with_leading_dims, NO_TRANS, ROW_MAJOR, TRANS};
use std::os::raw::{c_int, c_ushort};
use std::sync::OnceLock;
use tch::{Device, Kind, Tensor};

/// `cblas_gemm_bf16bf16f32` (mkl_cblas.h; MKL_BF16 is an unsigned short, MKL_INT a 32-bit int
/// in libtorch's LP64 MKL): C (fp32) = alpha · op(A) · op(B) + beta · C, A and B bf16.
#[rustfmt::skip]
type GemmBf16 = unsafe extern "C" fn(
    c_int, c_int, c_int, c_int, c_int, c_int, f32, *const c_ushort, c_int, *const c_ushort,
    c_int, f32, *mut f32, c_int,
);

/// MKL's bf16 GEMM in the loaded `libtorch_cpu.so`, where it applies.
fn gemm() -> Option<GemmBf16> {
    static GEMM: OnceLock<Option<GemmBf16>> = OnceLock::new();
    *GEMM.get_or_init(|| {
        if std::env::var_os("MEDKIT_MKL_BF16").is_some_and(|v| v == "0") || !cpu_has_bf16() {
            return None;
        }
        let lib = super::libtorch::cpu_library();
        // SAFETY: the symbol has the C signature above; the handle is kept for the process
        // lifetime, so the function pointer stays valid.
        unsafe {
            let f = *lib.get::<GemmBf16>(b"cblas_gemm_bf16bf16f32\0").ok()?;
            std::mem::forget(lib);
            Some(f)
        }
    })
}

/// Native bf16 dot products (AVX512-BF16, which every AMX CPU has): elsewhere MKL would convert
/// to fp32, so the autocast path stays.
fn cpu_has_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A `[out, in]` weight kept in bf16 for `x · weightᵀ + bias` through MKL, fp32 out.
pub struct MklBf16Linear {
    weight: Tensor,
    bias: Tensor,
    n: c_int,
    k: c_int,
}

impl MklBf16Linear {
    /// None where it does not apply (no MKL bf16 GEMM, not a 2-D fp32 CPU weight, sizes beyond
    /// i32).
    pub fn new(weight: &Tensor, bias: &Tensor) -> Option<Self> {
        gemm()?;
        let (n, k) = linear_dims(weight, bias)?;
        Some(MklBf16Linear {
            weight: weight.detach().to_kind(Kind::BFloat16).contiguous(),
            bias: bias.detach().contiguous(),
            n,
            k,
        })
    }

    /// `x · weightᵀ + bias` (fp32) for a CPU `x` (fp32 or bf16, cast to bf16) of shape
    /// `[..., in]`; None for other inputs (the caller then runs libtorch's linear).
    pub fn forward(&self, x: &Tensor) -> Option<Tensor> {
        let gemm = gemm()?;
        let shape = x.size();
        if x.device() != Device::Cpu
            || !matches!(x.kind(), Kind::Float | Kind::BFloat16)
            || shape.last() != Some(&(self.k as i64))
        {
            return None;
        }
        let x2 = x
            .reshape([-1, self.k as i64])
            .to_kind(Kind::BFloat16)
            .contiguous();
        let m = c_int::try_from(x2.size()[0]).ok()?;
        let out = bias_rows(&self.bias, m, self.n);
        if m > 0 {
            // SAFETY: `x2` is contiguous [m, k] bf16, `weight` contiguous [n, k] bf16 (read as
            // Bᵀ, leading dimension k), `out` contiguous [m, n] fp32 (fresh); all alive here.
            unsafe {
                gemm(
                    ROW_MAJOR,
                    NO_TRANS,
                    TRANS,
                    m,
                    self.n,
                    self.k,
                    1.0,
                    x2.data_ptr() as *const c_ushort,
                    self.k,
                    self.weight.data_ptr() as *const c_ushort,
                    self.k,
                    1.0,
                    out.data_ptr() as *mut f32,
                    self.n,
                );
            }
        }
        with_leading_dims(out, shape, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product equals libtorch's on the same bf16 operands (fp32 accumulation), for any
    /// row count, fp32 or bf16 input, with leading dimensions kept; other inputs are declined.
    #[test]
    fn mkl_bf16_matches_libtorch_on_bf16_operands() {
        let (_rng, w, b) = super::super::cblas::random_linear(6);
        let opts = (Kind::Float, Device::Cpu);
        let Some(l) = MklBf16Linear::new(&w, &b) else {
            assert!(
                gemm().is_none(),
                "a 2-D fp32 CPU weight is taken where MKL's bf16 GEMM is"
            );
            eprintln!("no MKL bf16 GEMM on this CPU / libtorch: the autocast path runs instead");
            return;
        };
        let w16 = w.to_kind(Kind::BFloat16).to_kind(Kind::Float);
        for m in [0i64, 1, 2, 7, 31, 64, 65, 300] {
            let x = Tensor::randn([m, 48], opts);
            let want = x
                .to_kind(Kind::BFloat16)
                .to_kind(Kind::Float)
                .linear(&w16, Some(&b));
            for input in [x.shallow_clone(), x.to_kind(Kind::BFloat16)] {
                let got = l.forward(&input).expect("CPU fp32 / bf16 input");
                assert_eq!(got.kind(), Kind::Float);
                assert_eq!(got.size(), want.size());
                if m > 0 {
                    let d = f64::try_from((&got - &want).abs().max()).unwrap();
                    assert!(d < 1e-3, "{m} rows: max abs diff {d}");
                }
            }
        }
        let x = Tensor::randn([3, 5, 48], opts);
        assert_eq!(l.forward(&x).unwrap().size(), [3, 5, 70]);
        assert!(l.forward(&x.to_kind(Kind::Double)).is_none());
        assert!(l.forward(&Tensor::randn([2, 47], opts)).is_none());
        assert!(MklBf16Linear::new(&w.to_kind(Kind::Double), &b).is_none());
        assert!(MklBf16Linear::new(&w, &Tensor::randn([69], opts)).is_none());
    }
}
