//! Helpers of the HF entity matcher operations: medkit's span utilities, the AdamW optimizer with
//! a saveable state, config pieces both operations share, a tiny random BERT for tests.

pub mod adamw;
mod adamw_cpu;
pub mod common;
pub mod spans;
pub mod tiny;
