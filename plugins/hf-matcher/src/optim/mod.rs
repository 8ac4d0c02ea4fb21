//! The optimizer: torch's AdamW with a state that can be saved and restored exactly, its
//! one-pass CPU kernels, weight decay groups and gradient clipping.

pub mod adamw;
mod adamw_cpu;
mod clip;
mod decay;
