//! One module per CLI subcommand; each defines its clap `Args` and a `run`.

pub mod annotate;
pub mod convert;
pub mod evaluate;
pub mod plugins;
pub mod report;
pub mod run;
pub mod seqeval;

use std::path::PathBuf;

/// What every subcommand gets from the global flags.
pub struct Context {
    /// `--plugin-dir` values, in order.
    pub plugin_dirs: Vec<PathBuf>,
}
