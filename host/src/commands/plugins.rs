use crate::context::Context;
use crate::plugins::{search_dirs, PluginSet};
use medkit_sdk::ConfigContract;

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
                "  {:<15} {:<22} {}{}",
                op.kind_name.as_str(),
                op.name.as_str(),
                op.description.as_str(),
                contract_note(&op.contract)
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

/// What an operation declared about its config, e.g. ` [paths: weights; seed]`; empty if nothing.
fn contract_note(c: &ConfigContract) -> String {
    let list = |keys: &[abi_stable::std_types::RString]| {
        keys.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !c.path_keys.is_empty() {
        parts.push(format!("paths: {}", list(&c.path_keys)));
    }
    if !c.output_keys.is_empty() {
        parts.push(format!("outputs: {}", list(&c.output_keys)));
    }
    if c.accepts_seed {
        parts.push("seed".to_string());
    }
    if c.is_default {
        parts.push("default".to_string());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_are_listed_briefly() {
        assert_eq!(contract_note(&ConfigContract::default()), "");
        let c = ConfigContract {
            path_keys: vec!["weights".into()].into(),
            output_keys: vec!["out".into()].into(),
            accepts_seed: true,
            is_default: true,
        };
        assert_eq!(
            contract_note(&c),
            " [paths: weights; outputs: out; seed; default]"
        );
    }
}
