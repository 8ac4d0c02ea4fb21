use crate::context::Context;
use crate::plugins::{search_dirs, PluginSet};

#[derive(clap::Args)]
pub struct Args {}

/// `medkit plugins`: each plugin file, its version and operations; then the files that failed.
/// Fails (exit status 1) when no plugin loaded or when any file failed to load, after listing
/// everything.
pub fn run(ctx: &Context, _args: Args) -> anyhow::Result<()> {
    let dirs = search_dirs(&ctx.plugin_dirs, &[]);
    let set = PluginSet::load(&dirs);
    for p in &set.plugins {
        println!("{} {} ({})", p.info.name, p.info.version, p.path.display());
        for op in p.info.operations.iter() {
            println!(
                "  {:<15} {:<22} {}",
                op.kind_name.as_str(),
                op.name.as_str(),
                op.description.as_str()
            );
        }
    }
    for e in &set.errors {
        println!("error: {e}");
    }
    if set.plugins.is_empty() {
        let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        anyhow::bail!("no plugin found in: {}", shown.join(", "));
    }
    if !set.errors.is_empty() {
        anyhow::bail!("{} plugin file error(s), listed above", set.errors.len());
    }
    Ok(())
}
