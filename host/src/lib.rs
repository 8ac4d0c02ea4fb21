//! medkit-rs host runtime: plugin loading, corpus I/O, TOML pipelines, the trainer loop.

pub mod annotate;
pub mod commands;
pub mod corpus;
pub mod evaluator;
pub mod pipeline;
pub mod plugins;
pub mod report;
pub mod trainer;
