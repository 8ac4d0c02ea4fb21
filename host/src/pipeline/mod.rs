//! TOML pipelines: `[corpus]`, `[train]`, `[annotate]`, `[[evaluate]]`, `[report]` stages, run in
//! that order.

pub mod config;
pub mod load;
mod run;

pub use run::{check_file, run_file, Checked, RunOptions};
