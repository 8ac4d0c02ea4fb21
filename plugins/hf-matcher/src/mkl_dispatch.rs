//! MKL (inside libtorch's CPU library) chooses its kernels by CPU vendor before CPU features: on
//! a non-Intel CPU it runs its AVX2 code even where AVX-512 is there. On this project's Zen 5
//! machine that halves fp32 GEMM speed (≈200 vs ≈450 GFLOP/s on training shapes, the same
//! products to float rounding). MKL asks `mkl_serv_intel_cpu_true` through the dynamic linker;
//! this library, loaded before libtorch's own definition in the plugin's lookup scope, answers
//! "yes" on CPUs with the AVX-512 subsets MKL's kernels use. Elsewhere it gives MKL's own
//! answer (Intel: yes, others: no). `MEDKIT_MKL_VENDOR_CHECK=1` restores MKL's own choice.

use std::os::raw::c_int;

/// Read by MKL at its first call (it caches the answer).
#[no_mangle]
pub extern "C" fn mkl_serv_intel_cpu_true() -> c_int {
    c_int::from(avx512_dispatch())
}

/// Whether MKL should take its Intel code paths on this CPU.
pub fn avx512_dispatch() -> bool {
    if std::env::var_os("MEDKIT_MKL_VENDOR_CHECK").is_some_and(|v| v == "1") {
        return genuine_intel();
    }
    genuine_intel() || has_avx512()
}

#[cfg(target_arch = "x86_64")]
fn genuine_intel() -> bool {
    // cpuid leaf 0: the vendor string.
    let r = std::arch::x86_64::__cpuid(0);
    let vendor = [r.ebx, r.edx, r.ecx];
    vendor
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .eq(*b"GenuineIntel")
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512cd")
}

#[cfg(not(target_arch = "x86_64"))]
fn genuine_intel() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx512() -> bool {
    false
}
