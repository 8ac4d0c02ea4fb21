//! Device selection. The linker drops `libtorch_cuda.so` (no symbol of it is referenced), so CUDA
//! would look absent: we dlopen it (RTLD_GLOBAL) next to the loaded `libtorch_cpu.so` first.
//!
//! That must happen before anything asks libtorch about CUDA: `at::detail::getCUDAHooks()` builds
//! its hooks once (`call_once`) and keeps them, so a `Cuda::is_available()`, `Cuda::device_count()`
//! or `manual_seed()` that runs before `libtorch_cuda.so` is loaded leaves the process with the
//! CPU-only stub (CUDA "not available" on a GPU machine). Hence no CUDA query before the dlopen.
use std::path::PathBuf;
use std::sync::OnceLock;

use tch::Device;

pub use crate::model::ModelError;

/// "cpu" | "cuda" | "cuda:N".
pub fn parse_device(s: &str) -> Result<Device, ModelError> {
    let s = s.trim();
    let index = match s {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(i)) => i,
            _ => {
                return Err(ModelError::Device(format!(
                    "unknown device `{s}` (expected cpu, cuda or cuda:N)"
                )))
            }
        },
    };
    load_cuda_library()?;
    if !tch::Cuda::is_available() {
        return Err(ModelError::Device(format!(
            "`{s}` requested but CUDA is not available (no GPU or driver)"
        )));
    }
    let count = tch::Cuda::device_count() as usize;
    if index >= count {
        return Err(ModelError::Device(format!(
            "`{s}` requested but only {count} CUDA device(s) are visible"
        )));
    }
    Ok(Device::Cuda(index))
}

/// Directory of the `libtorch_cpu.so` this process runs on, read from /proc/self/maps.
fn libtorch_dir() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .and_then(|p| PathBuf::from(p).parent().map(PathBuf::from))
}

fn load_cuda_library() -> Result<(), ModelError> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            // libtorch_cpu is mapped already (the plugin or binary links it); if not, a
            // CUDA-neutral call maps it. No CUDA query here: see the module comment.
            let dir = libtorch_dir()
                .or_else(|| {
                    let _ = tch::get_num_threads();
                    libtorch_dir()
                })
                .ok_or("cannot locate the loaded libtorch_cpu.so")?;
            let lib = dir.join("libtorch_cuda.so");
            if !lib.exists() {
                return Err(format!(
                    "{} is absent: this libtorch is CPU-only",
                    lib.display()
                ));
            }
            use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
            // SAFETY: loading libtorch's own CUDA part; its initialisers only register kernels.
            let handle = unsafe { Library::open(Some(&lib), RTLD_NOW | RTLD_GLOBAL) }
                .map_err(|e| format!("cannot load {}: {e}", lib.display()))?;
            // Kept for the process lifetime: unloading libtorch_cuda is never safe.
            std::mem::forget(handle);
            Ok(())
        })
        .clone()
        .map_err(|e| ModelError::Device(format!("CUDA requested but unavailable: {e}")))
}
