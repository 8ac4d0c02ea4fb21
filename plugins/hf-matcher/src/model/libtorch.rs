//! The loaded libtorch CPU library, for the functions tch does not wrap (autocast setters,
//! MKL's packed GEMM).

use libloading::os::unix::{Library, RTLD_LAZY};

/// A handle on `libtorch_cpu.so`. In a plugin loaded with RTLD_LOCAL its symbols are not global,
/// so ask for libtorch_cpu's own handle (RTLD_NOLOAD: only if already loaded); a binary linked to
/// it directly finds them globally.
pub fn cpu_library() -> Library {
    // Force libtorch to be loaded (any tch call does) before looking it up.
    let _ = tch::Cuda::is_available();
    const RTLD_NOLOAD: std::os::raw::c_int = 0x4;
    // SAFETY: RTLD_NOLOAD opens nothing new: it returns the loaded libtorch_cpu, which runs no
    // initialisers a second time.
    match unsafe { Library::open(Some("libtorch_cpu.so"), RTLD_LAZY | RTLD_NOLOAD) } {
        Ok(lib) => lib,
        Err(_) => Library::this(),
    }
}
