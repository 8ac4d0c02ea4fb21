//! Inference linears on the CPU through MKL's packed GEMM (`cblas_sgemm_pack` / `_compute`,
//! inside libtorch's CPU library). A plain GEMM re-packs the whole weight matrix at every call;
//! at annotation batch size 1 (~30 rows) that packing took more time than the products (38% of
//! a profile). Weights are packed once, when a model is frozen for inference. Libtorch builds
//! without MKL, other devices, bf16 and `MEDKIT_PACKED_GEMM=0` keep libtorch's own linear.

use super::cblas::{bias_rows, linear_dims, with_leading_dims, NO_TRANS, ROW_MAJOR, TRANS};
use std::alloc::Layout;
use std::os::raw::c_int;
use std::sync::OnceLock;
use tch::{Device, Kind, Tensor};

// MKL's packed-GEMM enumerations (mkl_cblas.h).
const PACKED: c_int = 151;
const B_MATRIX: c_int = 162;
/// The row count the weights are packed for; MKL's packed B serves any row count of A (checked
/// by the tests from 1 to 300 rows).
const PACK_ROWS: c_int = 64;

// Signatures from mkl_cblas.h (MKL_INT is a 32-bit int in libtorch's LP64 MKL).
type GetSize = unsafe extern "C" fn(c_int, c_int, c_int, c_int) -> usize;
#[rustfmt::skip]
type Pack = unsafe extern "C" fn(
    c_int, c_int, c_int, c_int, c_int, c_int, f32, *const f32, c_int, *mut f32,
);
#[rustfmt::skip]
type Compute = unsafe extern "C" fn(
    c_int, c_int, c_int, c_int, c_int, c_int, *const f32, c_int, *const f32, c_int, f32,
    *mut f32, c_int,
);

struct Mkl {
    get_size: GetSize,
    pack: Pack,
    compute: Compute,
}

/// MKL's packed-GEMM entry points in the already loaded `libtorch_cpu.so`, if it has them.
fn mkl() -> Option<&'static Mkl> {
    static MKL: OnceLock<Option<Mkl>> = OnceLock::new();
    MKL.get_or_init(|| {
        if std::env::var_os("MEDKIT_PACKED_GEMM").is_some_and(|v| v == "0") {
            return None;
        }
        let lib = super::libtorch::cpu_library();
        // SAFETY: the symbols have the C signatures of mkl_cblas.h; the handle is kept for the
        // process lifetime, so the function pointers stay valid.
        unsafe {
            let mkl = Mkl {
                get_size: *lib.get::<GetSize>(b"cblas_sgemm_pack_get_size\0").ok()?,
                pack: *lib.get::<Pack>(b"cblas_sgemm_pack\0").ok()?,
                compute: *lib.get::<Compute>(b"cblas_sgemm_compute\0").ok()?,
            };
            std::mem::forget(lib);
            Some(mkl)
        }
    })
    .as_ref()
}

/// A `[out, in]` fp32 weight packed for `x · weightᵀ`, with its bias.
pub struct PackedLinear {
    buf: *mut u8,
    layout: Layout,
    n: c_int,
    k: c_int,
    bias: Tensor,
}

// SAFETY: the packed buffer is written once in `new` and only read afterwards; the bias tensor
// is only read (inference streams share the model read-only, see `streams::ReadOnly`).
unsafe impl Send for PackedLinear {}

impl PackedLinear {
    /// None where packing does not apply (no MKL, not an fp32 CPU weight, sizes beyond i32).
    pub fn new(weight: &Tensor, bias: &Tensor) -> Option<Self> {
        let mkl = mkl()?;
        let (n, k) = linear_dims(weight, bias)?;
        let w = weight.detach().contiguous();
        // SAFETY: sizes checked; `buf` has the size MKL asks for, 64-byte aligned; `w` is a
        // contiguous [n, k] fp32 CPU tensor (row-major, leading dimension k) alive here.
        unsafe {
            let size = (mkl.get_size)(B_MATRIX, PACK_ROWS, n, k);
            let layout = Layout::from_size_align(size.max(64), 64).ok()?;
            let buf = std::alloc::alloc(layout);
            if buf.is_null() {
                return None;
            }
            let src = w.data_ptr() as *const f32;
            let b = buf as *mut f32;
            (mkl.pack)(ROW_MAJOR, B_MATRIX, TRANS, PACK_ROWS, n, k, 1.0, src, k, b);
            Some(PackedLinear {
                buf,
                layout,
                n,
                k,
                bias: bias.detach().contiguous(),
            })
        }
    }

    /// `x · weightᵀ + bias` for fp32 CPU `x` of shape `[..., in]`; None for other inputs (the
    /// caller then runs libtorch's linear).
    pub fn forward(&self, x: &Tensor) -> Option<Tensor> {
        let mkl = mkl()?;
        let shape = x.size();
        if x.device() != Device::Cpu
            || x.kind() != Kind::Float
            || shape.last() != Some(&(self.k as i64))
        {
            return None;
        }
        let x2 = x.reshape([-1, self.k as i64]).contiguous();
        let m = c_int::try_from(x2.size()[0]).ok()?;
        let out = bias_rows(&self.bias, m, self.n);
        if m > 0 {
            // SAFETY: `x2` is contiguous [m, k] fp32, `out` contiguous [m, n] fp32 (fresh),
            // `buf` holds B packed for k x n; all alive for the call.
            unsafe {
                (mkl.compute)(
                    ROW_MAJOR,
                    NO_TRANS,
                    PACKED,
                    m,
                    self.n,
                    self.k,
                    x2.data_ptr() as *const f32,
                    self.k,
                    self.buf as *const f32,
                    self.n,
                    1.0,
                    out.data_ptr() as *mut f32,
                    self.n,
                );
            }
        }
        with_leading_dims(out, shape, self.n)
    }
}

impl Drop for PackedLinear {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { std::alloc::dealloc(self.buf, self.layout) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_matches_libtorch_linear_for_any_row_count() {
        let (_rng, w, b) = super::super::cblas::random_linear(5);
        let opts = (Kind::Float, Device::Cpu);
        let Some(p) = PackedLinear::new(&w, &b) else {
            eprintln!("no MKL packed GEMM in this libtorch: nothing to check");
            return;
        };
        for m in [0i64, 1, 2, 7, 31, 63, 64, 65, 128, 300] {
            let x = Tensor::randn([m, 48], opts);
            let want = x.linear(&w, Some(&b));
            let got = p.forward(&x).expect("fp32 CPU input");
            assert_eq!(got.size(), want.size());
            if m == 0 {
                continue;
            }
            let d = f64::try_from((&got - &want).abs().max()).unwrap();
            assert!(d < 1e-4, "{m} rows: max abs diff {d}");
        }
        // [batch, seq, in] keeps its leading dimensions; other dtypes are declined.
        let x = Tensor::randn([3, 5, 48], opts);
        assert_eq!(p.forward(&x).unwrap().size(), [3, 5, 70]);
        assert!(p.forward(&x.to_kind(Kind::BFloat16)).is_none());
        assert!(p.forward(&Tensor::randn([2, 47], opts)).is_none());
        assert!(PackedLinear::new(&w.to_kind(Kind::Double), &b).is_none());
    }

    /// A model frozen with packed fp32 weights refuses bf16 autocast afterwards (the packed
    /// path would bypass it); bf16 first, then freezing, packs nothing and works.
    #[test]
    fn bf16_after_packing_is_refused() {
        let dir = crate::testing::temp_dir("packed-bf16");
        crate::testing::write_tiny_bert(&dir, 1).unwrap();
        let mut m = crate::model::TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
        m.freeze_for_inference();
        assert_eq!(
            m.classifier.is_frozen_fp32(),
            mkl().is_some(),
            "packed where MKL is"
        );
        if m.classifier.is_frozen_fp32() {
            let err = m.set_autocast_bf16(true).map(|_| ()).unwrap_err();
            assert!(err.to_string().contains("enable bf16 first"), "{err}");
        }
        let mut m = crate::model::TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
        if m.set_autocast_bf16(true).is_ok() {
            m.freeze_for_inference();
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
