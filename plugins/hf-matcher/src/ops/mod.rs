//! Helpers of the HF entity matcher operations: the AdamW optimizer with
//! a saveable state, config pieces both operations share, a tiny random BERT for tests.

pub mod adamw;
mod adamw_cpu;
pub mod common;
pub mod tiny;
