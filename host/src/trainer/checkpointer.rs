//! Writing checkpoints during a run and keeping medkit's set of them: the last, and the best by
//! the checkpoint metric (a former best goes when a better one arrives; an interrupted
//! checkpoint goes once a later one exists). `checkpoints.json` in the output_dir (`manifest`)
//! says which is which, rewritten atomically after each checkpoint; each checkpoint holds its
//! `provenance.json` (`provenance`).

use super::checkpoint::{self, write_atomically};
use super::events::{Callbacks, Event};
use super::scheduler::improves;
use super::state::TrainerState;
use super::{manifest, provenance};
use abi_stable::std_types::RStr;
use anyhow::{anyhow, Context as _};
use medkit_corpus::io;
use medkit_sdk::TrainableBox;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use manifest::MANIFEST_NAME;

pub struct Checkpointer {
    output_dir: PathBuf,
    metric: String,
    minimize: bool,
    best: Option<(PathBuf, f64)>,
    last: Option<PathBuf>,
    /// An interrupted checkpoint the run resumed from, removed once a later one exists.
    interrupted: Option<PathBuf>,
    provenance: Option<Value>,
}

impl Checkpointer {
    /// `provenance`: the run's record, written into each checkpoint (see [`provenance`]).
    pub fn new(output_dir: &Path, metric: &str, minimize: bool, provenance: Option<Value>) -> Self {
        Self {
            provenance,
            output_dir: output_dir.to_path_buf(),
            metric: metric.to_string(),
            minimize,
            best: None,
            last: None,
            interrupted: None,
        }
    }

    /// Goes on from a resumed run's checkpoints.
    pub fn resumed(&mut self, best: Option<(PathBuf, f64)>, from: &Path, completed: bool) {
        self.best = best;
        self.last = Some(from.to_path_buf());
        if !completed {
            self.interrupted = Some(from.to_path_buf());
        }
    }

    /// Writes checkpoint `name`: the trainable's model and state, the trainer's state and
    /// config, the epoch's metrics (`record`, null for an interrupted checkpoint) and the run's
    /// provenance.
    pub fn save(
        &self,
        trainable: &mut TrainableBox,
        callbacks: &mut Callbacks,
        name: &str,
        state: &TrainerState,
        config_json: &Value,
        record: &Value,
    ) -> anyhow::Result<PathBuf> {
        let shown = self.output_dir.join(name).display().to_string();
        callbacks.emit(Event::Save { dir: &shown });
        let state = serde_json::to_value(state)?;
        write_atomically(&self.output_dir, name, |tmp| {
            let dir = tmp.display().to_string();
            let rerr = |r: abi_stable::std_types::RResult<(), _>| {
                r.into_result().map_err(|e| anyhow!("{e}"))
            };
            rerr(trainable.save(RStr::from_str(&dir))).context("saving the model")?;
            rerr(trainable.save_state(RStr::from_str(&dir)))
                .context("saving the optimizer state")?;
            io::write_json(&tmp.join(checkpoint::STATE_NAME), &state)?;
            io::write_json(&tmp.join(checkpoint::CONFIG_NAME), config_json)?;
            if !record.is_null() {
                io::write_json(&tmp.join(checkpoint::METRICS_NAME), record)?;
            }
            match &self.provenance {
                Some(record) => provenance::write(record, tmp),
                None => Ok(()),
            }
        })
    }

    /// A complete epoch's checkpoint `dir` with its checkpoint-metric `value`: the new last,
    /// maybe the new best; the manifest says so.
    pub fn track(&mut self, dir: PathBuf, value: f64) -> anyhow::Result<()> {
        if let Some(prev) = self.last.replace(dir.clone()) {
            if self.interrupted.as_ref() == Some(&prev) {
                checkpoint::remove_checkpoint(&prev).ok();
                self.interrupted = None;
            }
        }
        if improves(value, self.best.as_ref().map(|(_, b)| *b), self.minimize) {
            if let Some((old, _)) = self.best.take() {
                checkpoint::remove_checkpoint(&old).ok();
            }
            self.best = Some((dir, value));
        }
        self.write_manifest()
    }

    fn write_manifest(&self) -> anyhow::Result<()> {
        manifest::write(
            &self.output_dir,
            (&self.metric, self.minimize),
            self.best.as_ref().map(|(d, _)| d.as_path()),
            self.last.as_deref(),
        )
    }

    pub fn best(&self) -> Option<PathBuf> {
        self.best.as_ref().map(|(p, _)| p.clone())
    }

    pub fn last(&self) -> Option<PathBuf> {
        self.last.clone()
    }
}
