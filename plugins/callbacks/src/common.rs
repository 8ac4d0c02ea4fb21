//! Config parsing shared by the callbacks, and what they read from the trainer config.

use medkit_sdk::{EpochMetrics, Metric};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CallbackError {
    #[error("invalid config: {0}")]
    Config(String),
    #[error("no output directory: set `output_dir` in the callback config or the trainer config")]
    NoOutputDir,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl CallbackError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| CallbackError::Io { path, source }
    }
}

/// A callback config: a JSON object (empty text = `{}`), unknown keys refused.
pub fn parse_config<T: DeserializeOwned>(config_json: &str) -> Result<T, CallbackError> {
    let text = if config_json.trim().is_empty() {
        "{}"
    } else {
        config_json
    };
    serde_json::from_str(text).map_err(|e| CallbackError::Config(e.to_string()))
}

/// The trainer config keys the callbacks use; any other key is ignored.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TrainerInfo {
    pub output_dir: Option<PathBuf>,
    pub nb_training_epochs: Option<u64>,
    pub batch_size: Option<u64>,
    pub gradient_accumulation_steps: Option<u64>,
    pub log_step_interval: Option<u64>,
}

impl TrainerInfo {
    /// Tolerant: a config that is not an object, or with odd types, gives what it can.
    pub fn parse(config_json: &str) -> TrainerInfo {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(config_json) else {
            return TrainerInfo::default();
        };
        let u = |k: &str| map.get(k).and_then(Value::as_u64);
        TrainerInfo {
            output_dir: map
                .get("output_dir")
                .and_then(Value::as_str)
                .map(PathBuf::from),
            nb_training_epochs: u("nb_training_epochs"),
            batch_size: u("batch_size"),
            gradient_accumulation_steps: u("gradient_accumulation_steps"),
            log_step_interval: u("log_step_interval"),
        }
    }
}

/// Metrics as a JSON object, in order; NaN and infinities become null.
pub fn metrics_object(metrics: &[Metric]) -> Map<String, Value> {
    metrics
        .iter()
        .map(|m| {
            let v = serde_json::Number::from_f64(m.value).map_or(Value::Null, Value::Number);
            (m.name.to_string(), v)
        })
        .collect()
}

/// One epoch's record: `{"epoch", "duration_s", "train": {...}, "eval": {...}}`.
pub fn epoch_record(metrics: &EpochMetrics, epoch: u32, duration_s: f64) -> Value {
    let mut obj = Map::new();
    obj.insert("epoch".into(), epoch.into());
    obj.insert(
        "duration_s".into(),
        serde_json::Number::from_f64(duration_s).map_or(Value::Null, Value::Number),
    );
    obj.insert(
        "train".into(),
        Value::Object(metrics_object(&metrics.train)),
    );
    obj.insert("eval".into(), Value::Object(metrics_object(&metrics.eval)));
    Value::Object(obj)
}
