use super::Context;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Context, _args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'medkit seqeval' is not implemented yet")
}
