//! One module per CLI subcommand; each defines its clap `Args` and a `run`.

pub mod annotate;
pub mod check;
pub mod convert;
pub mod evaluate;
pub mod plugins;
pub mod report;
pub mod run;
pub mod seqeval;
