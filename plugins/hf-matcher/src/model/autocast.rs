//! bf16 autocast. On CUDA, tch's `autocast` toggles autocast but leaves libtorch's default dtype
//! (fp16); on the CPU tch has no switch at all. The setters are C++ functions tch does not wrap,
//! so they are looked up by their mangled names in the already loaded libtorch_cpu.
use super::ModelError;

const SET: &[u8] = b"_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE\0";
const GET: &[u8] = b"_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE\0";
const SET_ENABLED: &[u8] = b"_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb\0";
const IS_ENABLED: &[u8] = b"_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE\0";
const CLEAR_CACHE: &[u8] = b"_ZN2at8autocast11clear_cacheEv\0";
/// c10::DeviceType::{CPU, CUDA} and c10::ScalarType::{Half, BFloat16} (int8 enums).
const CPU: i8 = 0;
const CUDA: i8 = 1;
pub const HALF: i8 = 5;
pub const BFLOAT16: i8 = 15;

fn library() -> Result<libloading::os::unix::Library, ModelError> {
    Ok(super::libtorch::cpu_library())
}

/// libtorch's CUDA autocast dtype (a c10::ScalarType code).
pub fn cuda_autocast_dtype() -> Result<i8, ModelError> {
    let lib = library()?;
    // SAFETY: `at::autocast::get_autocast_dtype(c10::DeviceType)`: int8 enum in, int8 enum out.
    unsafe {
        let f = lib
            .get::<unsafe extern "C" fn(i8) -> i8>(GET)
            .map_err(|e| {
                ModelError::Device(format!("libtorch autocast dtype getter not found: {e}"))
            })?;
        Ok(f(CUDA))
    }
}

/// Sets libtorch's CUDA autocast dtype (process-wide).
pub fn set_cuda_autocast_dtype(dtype: i8) -> Result<(), ModelError> {
    let lib = library()?;
    // SAFETY: `at::autocast::set_autocast_dtype(c10::DeviceType, c10::ScalarType)`: two int8 enums.
    unsafe {
        let f = lib.get::<unsafe extern "C" fn(i8, i8)>(SET).map_err(|e| {
            ModelError::Device(format!("libtorch autocast dtype setter not found: {e}"))
        })?;
        f(CUDA, dtype);
    }
    Ok(())
}

/// The CPU autocast entry points, resolved once.
struct CpuAutocast {
    set_enabled: unsafe extern "C" fn(i8, bool),
    is_enabled: unsafe extern "C" fn(i8) -> bool,
    set_dtype: unsafe extern "C" fn(i8, i8),
    clear_cache: unsafe extern "C" fn(),
}

fn cpu_autocast() -> Result<&'static CpuAutocast, ModelError> {
    static FNS: std::sync::OnceLock<Result<CpuAutocast, String>> = std::sync::OnceLock::new();
    FNS.get_or_init(|| {
        let lib = library().map_err(|e| e.to_string())?;
        // SAFETY: the signatures are those of at::autocast's functions named by the symbols
        // (c10 enums are int8); libtorch stays loaded for the life of the process.
        unsafe {
            let get = |name: &[u8]| {
                lib.get::<unsafe extern "C" fn()>(name)
                    .map(|f| *f as *const ())
                    .map_err(|e| format!("libtorch autocast function not found: {e}"))
            };
            Ok(CpuAutocast {
                set_enabled: std::mem::transmute::<*const (), unsafe extern "C" fn(i8, bool)>(get(
                    SET_ENABLED,
                )?),
                is_enabled: std::mem::transmute::<*const (), unsafe extern "C" fn(i8) -> bool>(
                    get(IS_ENABLED)?,
                ),
                set_dtype: std::mem::transmute::<*const (), unsafe extern "C" fn(i8, i8)>(get(
                    SET,
                )?),
                clear_cache: std::mem::transmute::<*const (), unsafe extern "C" fn()>(get(
                    CLEAR_CACHE,
                )?),
            })
        }
    })
    .as_ref()
    .map_err(|e| ModelError::Device(e.clone()))
}

/// Whether CPU bf16 autocast can be switched on in this libtorch.
pub fn check_cpu() -> Result<(), ModelError> {
    cpu_autocast().map(|_| ())
}

/// Runs `f` with CPU autocast on (bf16: linear layers and attention in bf16, reductions and
/// norms in fp32, as torch.autocast("cpu")), restoring the previous state afterwards. The state
/// is thread-local in libtorch, like Python's context manager.
pub fn cpu_bf16<T>(f: impl FnOnce() -> T) -> T {
    let Ok(fns) = cpu_autocast() else {
        return f();
    };
    // SAFETY: see cpu_autocast.
    let was = unsafe { (fns.is_enabled)(CPU) };
    unsafe {
        (fns.set_dtype)(CPU, BFLOAT16);
        (fns.set_enabled)(CPU, true);
    }
    struct Restore(&'static CpuAutocast, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: see cpu_autocast.
            unsafe {
                (self.0.set_enabled)(CPU, self.1);
                if !self.1 {
                    // Casted weight copies are cached while autocast is on; drop them.
                    (self.0.clear_cache)();
                }
            }
        }
    }
    let _restore = Restore(fns, was);
    f()
}
