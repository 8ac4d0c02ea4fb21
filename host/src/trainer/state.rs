//! What a checkpoint records of the training run (`trainer_state.json`), and resuming from it:
//! the most advanced checkpoint, the history and the best checkpoint so far.

use super::checkpoint::{self, existing_checkpoints};
use super::config::TrainerConfig;
use super::scheduler::improves;
use anyhow::{anyhow, bail, Context as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `trainer_state.json`: where the run stood when the checkpoint was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// The epoch the checkpoint belongs to (from 1).
    pub epoch: u32,
    /// The epoch ran to its end (else the run was interrupted inside it).
    #[serde(default = "yes")]
    pub completed: bool,
    /// The first step of the epoch still to run (interrupted checkpoints).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_step: u64,
    pub seed: u64,
    pub optimizer_steps: u64,
    /// Sum of the train losses of the epoch's steps already run (interrupted checkpoints).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub loss_sum: f64,
    /// The lr scheduler's state (lr, plateau tracking).
    #[serde(default)]
    pub scheduler: Option<Value>,
}

fn yes() -> bool {
    true
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}
fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

/// A checkpoint to resume from.
#[derive(Debug, Clone)]
pub struct ResumePoint {
    pub dir: PathBuf,
    pub state: TrainerState,
}

impl std::ops::Deref for ResumePoint {
    type Target = TrainerState;
    fn deref(&self) -> &TrainerState {
        &self.state
    }
}

impl ResumePoint {
    /// The most advanced checkpoint of `output_dir` (by epoch, then complete over interrupted,
    /// then step), ignoring directories without a readable state.
    pub fn latest(output_dir: &Path) -> Option<Self> {
        existing_checkpoints(output_dir)
            .iter()
            .filter_map(|d| Self::read(d).ok())
            .max_by_key(|r| (r.epoch, r.completed, r.next_step))
    }

    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(checkpoint::STATE_NAME);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let state: TrainerState = serde_path_to_error::deserialize(de)
            .map_err(|e| anyhow!("{}: key '{}': {}", path.display(), e.path(), e.inner()))?;
        if state.epoch == 0 {
            bail!("{}: epoch must be >= 1", path.display());
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            state,
        })
    }

    /// The first epoch to run, and the step to start it at with the loss sum so far.
    pub fn next(&self) -> (u32, (u64, f64)) {
        if self.completed {
            (self.epoch + 1, (0, 0.0))
        } else {
            (self.epoch, (self.next_step, self.loss_sum))
        }
    }
}

/// The first `epochs` records of `output_dir/history.json` (none if absent).
pub fn read_history(output_dir: &Path, epochs: u32) -> anyhow::Result<Vec<Value>> {
    let path = output_dir.join("history.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut v: Vec<Value> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    v.truncate(epochs as usize);
    Ok(v)
}

/// The best complete checkpoint in `output_dir` by the configured metric.
pub fn best_checkpoint(
    output_dir: &Path,
    config: &TrainerConfig,
) -> anyhow::Result<Option<(PathBuf, f64)>> {
    let mut best: Option<(PathBuf, f64)> = None;
    for dir in existing_checkpoints(output_dir) {
        let Ok(text) = std::fs::read_to_string(dir.join(checkpoint::METRICS_NAME)) else {
            continue; // interrupted checkpoints have no metrics
        };
        let v: Value = serde_json::from_str(&text)?;
        let Some(x) = v["eval"][&config.checkpoint_metric].as_f64() else {
            continue;
        };
        let better = improves(
            x,
            best.as_ref().map(|(_, b)| *b),
            config.minimize_checkpoint_metric,
        );
        if better {
            best = Some((dir, x));
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_reads_older_files() {
        let s = TrainerState {
            epoch: 2,
            completed: false,
            next_step: 3,
            seed: 7,
            optimizer_steps: 9,
            loss_sum: 1.5,
            scheduler: Some(serde_json::json!({"lr": 1e-5})),
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<TrainerState>(&text).unwrap(), s);
        // a complete epoch's state omits the step keys, and `completed` defaults to true
        let old: TrainerState =
            serde_json::from_str(r#"{"epoch": 1, "seed": 0, "optimizer_steps": 4}"#).unwrap();
        assert!(old.completed && old.next_step == 0 && old.scheduler.is_none());
    }

    #[test]
    fn a_bad_state_names_its_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(checkpoint::STATE_NAME),
            r#"{"epoch": 1, "seed": "x", "optimizer_steps": 4}"#,
        )
        .unwrap();
        let e = ResumePoint::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("trainer_state.json: key 'seed'"), "{e}");
    }
}
