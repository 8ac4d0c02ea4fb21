//! Rust `log` records (the host's and, through its sink, every plugin's) to Python's `logging`,
//! one logger per target (e.g. `medkit_plugin_hf.trainable`).

use std::sync::OnceLock;

static RESET: OnceLock<pyo3_log::ResetHandle> = OnceLock::new();

pub fn init() {
    if let Ok(handle) = pyo3_log::try_init() {
        let _ = RESET.set(handle);
    }
}

/// Forgets the Python loggers' levels cached by the bridge, so that a `logging` configuration
/// made since the last call (e.g. `basicConfig(level=INFO)` after a first run) applies. Called
/// at the start of each long call.
pub fn refresh() {
    if let Some(handle) = RESET.get() {
        handle.reset();
    }
}
