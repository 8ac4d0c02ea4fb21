//! `parse_device` loads `libtorch_cuda.so` before libtorch's CUDA hooks are first built (they are
//! built once per process: a CUDA query made before the library is loaded disables CUDA for good,
//! as happened on a GPU machine). Its own test binary, so no other test touches the hooks first.
//! On a machine without a GPU the real hooks still differ from the stub: creating a CUDA tensor
//! then fails with a driver/device error, not with the stub's "without ATen_cuda library".
//! So it runs on every machine (scripts/device-check.sh runs it on a GPU too). The set-up's PyPI
//! torch==2.11.0 is the CUDA build: a CPU-only libtorch is a failure here, not a skip.
use medkit_plugin_hf::device::parse_device;
use tch::{Device, Kind, Tensor};

#[test]
fn cuda_library_is_loaded_before_the_hooks_are_built() {
    let parsed = parse_device("cuda:0");
    if let Err(e) = &parsed {
        let msg = e.to_string();
        assert!(
            !msg.contains("CPU-only"),
            "this libtorch has no libtorch_cuda.so ({msg}): scripts/setup.sh installs PyPI's \
             torch==2.11.0 (CUDA build) into .venv"
        );
        assert!(msg.contains("not available"), "unexpected error: {msg}");
    }
    match Tensor::f_zeros([1], (Kind::Float, Device::Cuda(0))) {
        Ok(t) => assert_eq!(t.device(), Device::Cuda(0)),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                !msg.contains("without ATen_cuda library"),
                "CUDA hooks were built before libtorch_cuda.so was loaded: {msg}"
            );
            assert!(parsed.is_err(), "CUDA was reported available, yet: {msg}");
        }
    }
}
