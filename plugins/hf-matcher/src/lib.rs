//! HuggingFace entity matcher: token-classification encoders on libtorch (tch), tokenization with
//! `tokenizers`, the trainable side (fine-tuning through the host's Trainer) and the inference side
//! (medkit's HFEntityMatcher). Tensors never leave this crate.

// Encoders, weights, tokenizer, hub (issue: transformer encoders).
pub mod config;
pub mod device;
pub mod hub;
pub mod model;
pub mod tokenizer;
pub mod weights;

// Operations (issue: HF entity matcher).
pub mod aggregation;
pub mod collate;
pub mod inference;
mod libtorch_version;
mod mkl_dispatch;
pub mod op_config;
pub mod optim;
mod register;
mod runtime;
mod streams;
pub mod trainable;
pub mod windows;

// Test fixtures (a tiny random BERT, documents); public because the integration tests use them.
pub mod testing;

medkit_sdk::export_plugin!();

/// torch's RNG is process-global and the test harness runs tests on parallel threads: unit tests
/// that seed it (or draw from it) hold this lock so another test cannot reseed it midway.
#[cfg(test)]
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}
