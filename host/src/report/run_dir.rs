//! What a training run directory holds, read for the report: `history.json` (metrics per epoch),
//! `timings.json` (durations, volume, learning rate per epoch) and the checkpoints'
//! `trainer_config.json`, `trainer_state.json` and HF `config.json`. Every file is optional; what
//! cannot be read is listed in `notes` instead of failing the report.

use crate::trainer::checkpoint::{existing_checkpoints, CONFIG_NAME, STATE_NAME};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One epoch of the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Epoch {
    pub epoch: u32,
    pub train: Map<String, Value>,
    pub eval: Map<String, Value>,
    pub train_seconds: Option<f64>,
    pub eval_seconds: Option<f64>,
    pub train_examples: Option<u64>,
    pub learning_rate: Option<f64>,
}

impl Epoch {
    pub fn train_metric(&self, name: &str) -> Option<f64> {
        self.train.get(name).and_then(Value::as_f64)
    }
    pub fn eval_metric(&self, name: &str) -> Option<f64> {
        self.eval.get(name).and_then(Value::as_f64)
    }
}

/// A checkpoint directory: its name, epoch and the trainer state saved with it.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub name: String,
    pub epoch: Option<u32>,
    pub state: Option<Value>,
}

#[derive(Debug, Default)]
pub struct TrainingRun {
    pub dir: Option<PathBuf>,
    pub epochs: Vec<Epoch>,
    pub checkpoints: Vec<Checkpoint>,
    /// The last checkpoint's `trainer_config.json` (the trainer's resolved config).
    pub trainer_config: Option<Value>,
    /// The last checkpoint's HF `config.json` (model type, labels).
    pub model_config: Option<Value>,
    /// Files that were absent or unreadable.
    pub notes: Vec<String>,
}

fn read_json(path: &Path, notes: &mut Vec<String>) -> Option<Value> {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            notes.push(format!("{}: not found", path.display()));
            None
        }
        Err(e) => {
            notes.push(format!("{}: {e}", path.display()));
            None
        }
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                notes.push(format!("{}: invalid JSON: {e}", path.display()));
                None
            }
        },
    }
}

/// `checkpoint_012_...` → 12.
fn checkpoint_epoch(name: &str) -> Option<u32> {
    name.strip_prefix("checkpoint_")?.get(..3)?.parse().ok()
}

pub fn read(dir: &Path) -> TrainingRun {
    let mut run = TrainingRun {
        dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    let notes = &mut run.notes;
    if let Some(Value::Array(items)) = read_json(&dir.join("history.json"), notes) {
        for (i, item) in items.iter().enumerate() {
            let part = |k: &str| item.get(k).and_then(Value::as_object).cloned();
            run.epochs.push(Epoch {
                epoch: i as u32 + 1,
                train: part("train").unwrap_or_default(),
                eval: part("eval").unwrap_or_default(),
                ..Default::default()
            });
        }
    }
    // timings.json: the epochs of the last `medkit run` (a resumed run writes only its own).
    if let Some(Value::Array(items)) = read_json(&dir.join("timings.json"), notes) {
        for t in items {
            let Some(n) = t.get("epoch").and_then(Value::as_u64) else {
                continue;
            };
            let f = |k: &str| t.get(k).and_then(Value::as_f64);
            if let Some(e) = run.epochs.iter_mut().find(|e| e.epoch as u64 == n) {
                e.train_seconds = f("train_seconds");
                e.eval_seconds = f("eval_seconds");
                e.train_examples = t.get("train_examples").and_then(Value::as_u64);
                e.learning_rate = f("learning_rate");
            }
        }
    }
    for path in existing_checkpoints(dir) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let state = read_json(&path.join(STATE_NAME), notes);
        run.trainer_config = read_json(&path.join(CONFIG_NAME), notes).or(run.trainer_config);
        run.model_config = read_json(&path.join("config.json"), notes).or(run.model_config);
        run.checkpoints.push(Checkpoint {
            epoch: checkpoint_epoch(&name),
            name,
            state,
        });
    }
    // The learning rate where timings.json has none: the checkpoint's scheduler state, else the
    // configured rate when no scheduler changes it.
    let constant_lr = run.trainer_config.as_ref().and_then(|c| {
        let none = c
            .get("lr_scheduler")
            .and_then(Value::as_str)
            .unwrap_or("none")
            == "none";
        c.get("learning_rate")
            .and_then(Value::as_f64)
            .filter(|_| none)
    });
    for e in &mut run.epochs {
        if e.learning_rate.is_some() {
            continue;
        }
        e.learning_rate = run
            .checkpoints
            .iter()
            .filter(|c| c.epoch == Some(e.epoch))
            .find_map(|c| c.state.as_ref()?.pointer("/scheduler/lr")?.as_f64())
            .or(constant_lr);
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_history_timings_and_checkpoints() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(
            d.join("history.json"),
            r#"[{"train": {"loss": 2.0}, "eval": {"loss": 1.5, "overall_f1-score": 0.2}},
                {"train": {"loss": 1.0}, "eval": {"loss": 1.2, "overall_f1-score": 0.4}}]"#,
        )
        .unwrap();
        std::fs::write(
            d.join("timings.json"),
            r#"[{"epoch": 1, "train_seconds": 3.5, "eval_seconds": 0.5, "train_examples": 10,
                 "train_tokens": 100}]"#,
        )
        .unwrap();
        let ck = d.join("checkpoint_002_20260101T000000Z");
        std::fs::create_dir(&ck).unwrap();
        std::fs::write(
            ck.join("trainer_state.json"),
            r#"{"epoch": 2, "scheduler": {"lr": 5e-5}}"#,
        )
        .unwrap();
        std::fs::write(
            ck.join("trainer_config.json"),
            r#"{"learning_rate": 1e-4, "lr_scheduler": "none"}"#,
        )
        .unwrap();
        let run = read(d);
        assert_eq!(run.epochs.len(), 2);
        assert_eq!(run.epochs[1].eval_metric("overall_f1-score"), Some(0.4));
        assert_eq!(run.epochs[0].train_seconds, Some(3.5));
        // epoch 1: constant lr from the config; epoch 2: the checkpoint's scheduler state
        assert_eq!(run.epochs[0].learning_rate, Some(1e-4));
        assert_eq!(run.epochs[1].learning_rate, Some(5e-5));
        assert_eq!(run.checkpoints[0].epoch, Some(2));
        assert!(run.notes.iter().any(|n| n.contains("config.json")));
    }

    #[test]
    fn an_empty_directory_gives_notes_not_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let run = read(tmp.path());
        assert!(run.epochs.is_empty());
        assert_eq!(run.notes.len(), 2, "{:?}", run.notes);
    }
}
