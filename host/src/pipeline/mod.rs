//! TOML pipelines: `[corpus]`, `[train]`, `[annotate]`, `[[evaluate]]` stages, run in that order.

pub mod config;
pub mod load;

use crate::commands::Context;
use std::path::Path;

pub fn run_file(_ctx: &Context, _config: &Path, _sets: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("pipelines are being wired")
}
