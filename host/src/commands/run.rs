use crate::context::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Pipeline file (TOML).
    pub config: PathBuf,
    /// Override a key: `--set train.trainer.learning_rate=1e-4` (value parsed as TOML, else string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Continue training from the last checkpoint in the trainer's output_dir (model, optimizer
    /// state, epoch and step).
    #[arg(long)]
    pub resume: bool,
    /// Run the other stages without training: `model = "@best"` / `"@last"` then name the
    /// checkpoints recorded in the [train] output_dir's checkpoints.json (an earlier run's).
    #[arg(long, conflicts_with = "resume")]
    pub skip_train: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let options = crate::pipeline::RunOptions {
        resume: args.resume,
        skip_train: args.skip_train,
    };
    crate::pipeline::run_file(ctx, &args.config, &args.set, options)
}
