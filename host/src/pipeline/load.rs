//! Reading a pipeline file: TOML → `--set` overrides → typed config with key-path errors →
//! relative paths resolved against the file's folder.

use super::config::PipelineConfig;
use anyhow::{anyhow, Context as _};
use std::path::{Path, PathBuf};

/// Parses `KEY=VALUE` (value as TOML, else as a plain string) into the table.
pub fn apply_override(table: &mut toml::Table, spec: &str) -> anyhow::Result<()> {
    apply_key_value(table, spec, "--set")
}

/// [`apply_override`] for any `flag` taking `KEY=VALUE` (named in the errors).
pub fn apply_key_value(table: &mut toml::Table, spec: &str, flag: &str) -> anyhow::Result<()> {
    let (key, raw) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("{flag} '{spec}': expected KEY=VALUE"))?;
    let key = key.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(anyhow!("{flag} '{spec}': bad key path '{key}'"));
    }
    let mut cur = table;
    for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry.as_table_mut().ok_or_else(|| {
            anyhow!(
                "{flag} '{spec}': '{}' is not a table",
                parts[..=i].join(".")
            )
        })?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// Loads and checks a pipeline file.
pub fn load(path: &Path, sets: &[String]) -> anyhow::Result<(PipelineConfig, PathBuf)> {
    load_with_table(path, sets).map(|(c, base, _)| (c, base))
}

/// [`load`], with the file's table (overrides applied) as written.
pub fn load_with_table(
    path: &Path,
    sets: &[String],
) -> anyhow::Result<(PipelineConfig, PathBuf, toml::Table)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading pipeline {}", path.display()))?;
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow!("{}: invalid TOML: {e}", path.display()))?;
    for s in sets {
        apply_override(&mut table, s)?;
    }
    let config: PipelineConfig =
        serde_path_to_error::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
            let at = e.path().to_string();
            anyhow!("{}: at key '{at}': {}", path.display(), e.inner())
        })?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    Ok((config, base, table))
}

/// `p` relative to `base` unless absolute.
pub fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
