//! The record each checkpoint of the train stage keeps of what produced it (see
//! `trainer::provenance`): the resolved pipeline, the versions and the data files' hashes.

use super::State;
use crate::pipeline::config::TrainSection;
use crate::pipeline::load::resolve;
use crate::plugins::PluginSet;
use crate::trainer::provenance::{mask_secrets, sha256_file, versions};
use serde_json::{json, Map, Value};
use std::path::Path;

/// The train stage's record: `config` (the pipeline as `medkit check` resolves it, secrets
/// masked), `versions` (medkit-rs, the SDK, each loaded plugin; the checkpointer adds the
/// trainable's runtime) and `data` (path, size and SHA-256 of every corpus split and of the
/// train stage's files given as paths).
pub(super) fn describe(
    plugins: &PluginSet,
    state: &State,
    pipeline: &Path,
    t: &TrainSection,
) -> anyhow::Result<Value> {
    let mut data = Map::new();
    let mut files: Vec<(String, std::path::PathBuf)> = state
        .splits
        .iter()
        .map(|(name, p)| (format!("corpus.{name}"), p.clone()))
        .collect();
    for (key, split) in [
        ("train.train_split", &t.train_split),
        ("train.eval_split", &t.eval_split),
    ] {
        if !state.splits.contains_key(split) {
            files.push((key.to_string(), resolve(&state.base, Path::new(split))));
        }
    }
    for (key, path) in files {
        let bytes = std::fs::metadata(&path).map(|m| m.len()).ok();
        data.insert(
            key,
            json!({"path": path, "bytes": bytes, "sha256": sha256_file(&path)?}),
        );
    }
    let mut config = state.resolved.clone();
    mask_secrets(&mut config);
    Ok(json!({
        "pipeline": pipeline,
        "versions": versions(plugins),
        "data": data,
        "config": config,
    }))
}
