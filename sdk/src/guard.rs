//! Panic containment: every ABI entry point runs its body through [`guard`].

use abi_stable::std_types::{RResult, RString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning an `Err` or a panic into an `RErr` message; no unwind leaves the plugin.
pub fn guard<T>(f: impl FnOnce() -> Result<T, String>) -> RResult<T, RString> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e.into()),
        Err(payload) => {
            RResult::RErr(format!("panic in plugin: {}", panic_message(&*payload)).into())
        }
    }
}

/// The text of a panic payload (`&str` or `String`), for turning a caught panic into an error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}
