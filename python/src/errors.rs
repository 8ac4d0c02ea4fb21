//! Errors as Python exceptions with the CLI's messages, and panics kept out of the interpreter.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::PyErr;
use std::panic::{catch_unwind, AssertUnwindSafe};

create_exception!(
    _native,
    MedkitError,
    PyException,
    "An error of medkit-rs (bad config, data or model), with the message the CLI prints."
);

/// The error with its context chain, as `medkit` prints it after `error: `.
pub fn to_py(e: anyhow::Error) -> PyErr {
    MedkitError::new_err(format!("{e:#}"))
}

/// Runs `f`; an error or a panic becomes a `MedkitError` (a panic must not unwind into Python).
pub fn guarded<T>(f: impl FnOnce() -> anyhow::Result<T>) -> Result<T, PyErr> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(to_py),
        Err(payload) => Err(MedkitError::new_err(format!(
            "internal error (panic): {}",
            medkit_sdk::panic_message(&*payload)
        ))),
    }
}
