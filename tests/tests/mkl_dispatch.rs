//! The HF plugin makes libtorch's MKL take its AVX-512 kernels on non-Intel CPUs that have
//! AVX-512 (plugins/hf-matcher/src/mkl_dispatch.rs). Loaded the way the host loads it, the
//! plugin's answer must be the one MKL sees; `MEDKIT_MKL_VENDOR_CHECK=1` restores MKL's own.
//! MKL's choice is read from `mkl_serv_cpu_detect` (0: its generic code path), an MKL-internal
//! function of the pinned torch 2.11.0.

#![cfg(target_arch = "x86_64")]

use medkit_tests::{lib_file, medkit_bin, root};
use std::process::Command;

const CHILD: &str = "MEDKIT_MKL_DISPATCH_CHILD";

/// MKL's code path after loading the plugin as the host does (RTLD_LOCAL).
fn mkl_code_path() -> i32 {
    let dir = medkit_bin().parent().unwrap().to_path_buf();
    let plugin = unsafe { libloading::Library::new(lib_file(&dir, "medkit_plugin_hf")) }
        .expect("loading the HF plugin");
    let torch = root().join(".venv/libtorch/lib/libtorch_cpu.so");
    let torch = unsafe {
        libloading::os::unix::Library::open(
            Some(&torch),
            libloading::os::unix::RTLD_NOW | 0x4, // RTLD_NOLOAD: the plugin's copy
        )
    }
    .expect("libtorch_cpu.so already loaded by the plugin");
    let detect: libloading::os::unix::Symbol<unsafe extern "C" fn() -> i32> =
        unsafe { torch.get(b"mkl_serv_cpu_detect\0") }.expect("MKL inside libtorch_cpu.so");
    let code = unsafe { detect() };
    drop(plugin);
    code
}

/// (GenuineIntel, the AVX-512 subsets the plugin requires). Written out again rather than
/// called from the plugin crate: linking it would load libtorch at start-up, outside the plugin's
/// lookup scope, which is the situation under test.
fn cpu() -> (bool, bool) {
    let r = std::arch::x86_64::__cpuid(0);
    let intel = [r.ebx, r.edx, r.ecx]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .eq(*b"GenuineIntel");
    let avx512 = is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512cd");
    (intel, avx512)
}

#[test]
fn mkl_uses_avx512_kernels_where_the_cpu_has_them() {
    if std::env::var_os(CHILD).is_some() {
        return; // the child runs `vendor_check_restores_mkls_choice` only
    }
    let (intel, avx512) = cpu();
    let code = mkl_code_path();
    if avx512 || intel {
        assert_ne!(
            code, 0,
            "MKL stayed on its generic path (intel {intel}, avx512 {avx512})"
        );
    } else {
        assert_eq!(
            code, 0,
            "MKL left its generic path on a CPU without AVX-512"
        );
    }

    // The same in a fresh process with the opt-out: MKL decides by vendor again.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "vendor_check_restores_mkls_choice",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("MEDKIT_MKL_VENDOR_CHECK", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

#[test]
fn vendor_check_restores_mkls_choice() {
    if std::env::var_os(CHILD).is_none() {
        return; // run as a child process by the test above
    }
    let (intel, _) = cpu();
    let code = mkl_code_path();
    if !intel {
        assert_eq!(
            code, 0,
            "MEDKIT_MKL_VENDOR_CHECK=1 must leave MKL its own choice"
        );
    }
}
