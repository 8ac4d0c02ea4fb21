//! Config pieces both operations share: medkit's device convention, model resolution, the
//! tokenizer's maximum length.

use crate::config::{Family, ModelConfig};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tch::Device;

/// medkit's `device`: an integer (-1 = cpu, N = cuda:N) or a string ("cpu", "cuda", "cuda:N").
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(untagged)]
pub enum DeviceSpec {
    Index(i64),
    Name(String),
}

impl Default for DeviceSpec {
    fn default() -> Self {
        DeviceSpec::Index(-1)
    }
}

impl DeviceSpec {
    pub fn resolve(&self) -> Result<Device, String> {
        let name = match self {
            DeviceSpec::Index(i) if *i < 0 => "cpu".to_string(),
            DeviceSpec::Index(i) => format!("cuda:{i}"),
            DeviceSpec::Name(s) => s.clone(),
        };
        crate::device::parse_device(&name).map_err(|e| e.to_string())
    }
}

/// A local model directory, or a hub name (cache, else download; `cache_dir` replaces the HF
/// cache, as medkit's `cache_dir`). The token is passed on, never logged.
pub fn resolve_model(
    name_or_path: &str,
    auth_token: Option<&str>,
    cache_dir: Option<&str>,
) -> Result<PathBuf, String> {
    if name_or_path.trim().is_empty() {
        return Err("the model name or path is empty".into());
    }
    crate::hub::resolve_model(name_or_path, None, auth_token, cache_dir.map(Path::new))
        .map_err(|e| format!("cannot load model '{name_or_path}': {e}"))
}

/// transformers' sentinel for "no limit" in tokenizer_config.json (int(1e30)).
const VERY_LARGE: f64 = 1e20;

/// The truncation length: `configured`, else tokenizer_config.json's `model_max_length`, else
/// what the position embeddings allow (RoBERTa positions start after the padding index).
pub fn max_length(configured: Option<usize>, dir: &Path, model: &ModelConfig) -> usize {
    if let Some(m) = configured {
        return m;
    }
    let from_tokenizer = std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("model_max_length").and_then(Value::as_f64))
        .filter(|&m| m > 0.0 && m < VERY_LARGE)
        .map(|m| m as usize);
    let positions = match model.family() {
        Family::Roberta => model.max_position_embeddings - model.pad_token_id - 1,
        _ => model.max_position_embeddings,
    }
    .max(1) as usize;
    from_tokenizer.map_or(positions, |m| m.min(positions))
}

/// Reads a JSON object config into `T`, naming the operation and the key in errors.
pub fn parse_config<T: serde::de::DeserializeOwned>(
    config_json: &str,
    op: &str,
) -> Result<T, String> {
    medkit_sdk::parse_config(config_json).map_err(|e| format!("{op}: invalid {e}"))
}
