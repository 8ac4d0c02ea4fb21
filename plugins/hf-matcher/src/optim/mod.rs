//! The optimizer: torch's AdamW with a state that can be saved and restored exactly, and its
//! one-pass CPU kernels.

pub mod adamw;
mod adamw_cpu;
