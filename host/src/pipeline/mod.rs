//! TOML pipelines.

use crate::commands::Context;
use std::path::Path;

pub fn run_file(_ctx: &Context, _config: &Path, _sets: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("pipelines are not implemented yet")
}
