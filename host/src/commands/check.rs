//! `medkit check`: a pipeline resolved and validated without running anything.

use crate::context::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Pipeline file (TOML).
    pub config: PathBuf,
    /// Override a key: `--set train.trainer.learning_rate=1e-4` (value parsed as TOML, else string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Prints the resolved pipeline (paths resolved, every default filled in) as TOML; fails on the
/// first problem, naming its key.
pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let checked = crate::pipeline::check_file(ctx, &args.config, &args.set)?;
    let table: toml::Table = serde_json::from_value(checked.resolved)?;
    print!("{}", toml::to_string_pretty(&table)?);
    for op in &checked.unchecked {
        log::warn!("{op}: its plugin does not check configs ahead (checked when it is built)");
    }
    log::info!("{}: OK", args.config.display());
    Ok(())
}
