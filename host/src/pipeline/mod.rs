//! TOML pipelines: `[corpus]`, `[train]`, `[annotate]`, `[[evaluate]]` stages, run in that order.

pub mod config;
pub mod load;
mod run;

pub use run::run_file;
