//! bf16 autocast on CUDA. tch's `autocast` toggles CUDA autocast but leaves libtorch's default
//! dtype (fp16); the dtype setter is a C++ function tch does not wrap, so it is looked up by
//! its mangled name in the already loaded libtorch_cpu.
use super::ModelError;

const SET: &[u8] = b"_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE\0";
const GET: &[u8] = b"_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE\0";
/// c10::DeviceType::CUDA and c10::ScalarType::{Half, BFloat16} (int8 enums).
const CUDA: i8 = 1;
pub const HALF: i8 = 5;
pub const BFLOAT16: i8 = 15;

fn library() -> Result<libloading::os::unix::Library, ModelError> {
    // Force libtorch to be loaded (any tch call does) before looking in the process.
    let _ = tch::Cuda::is_available();
    Ok(libloading::os::unix::Library::this())
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
