//! medkit-rs host runtime: CLI, plugin loading, TOML pipelines, the trainer loop (document formats
//! are in `medkit_corpus`).

pub mod annotate;
pub mod commands;
pub mod context;
pub mod evaluator;
pub mod pipeline;
pub mod plugins;
pub mod report;
pub mod trainer;
