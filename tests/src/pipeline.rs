//! Pipelines on the tiny random BERT fixture (seconds to train), and the run directories they
//! leave: checkpoints, history.

use crate::root;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The tiny random BERT checkpoint of the HF plugin's test fixtures.
pub fn tiny_bert() -> PathBuf {
    root().join("plugins/hf-matcher/tests/fixtures/tiny_bert")
}

/// A training pipeline for the `hf-entity-matcher` trainable: by default the tiny BERT trained
/// one epoch on `tests/data/e2e` (labels problem, treatment, test; IOB2; seed 0) with seqeval
/// metrics. The `*_keys` fields are TOML lines added to their section; `rest` is appended as is
/// (callbacks, `[annotate]`, `[[evaluate]]`…).
#[derive(Clone, Debug)]
pub struct TinyPipeline {
    /// `[plugins] dirs`; none: no `[plugins]` section.
    pub plugin_dirs: Vec<PathBuf>,
    pub train: PathBuf,
    pub validation: PathBuf,
    pub corpus_keys: String,
    /// `[train]` keys (data policies); empty: no `[train]` table of its own.
    pub train_keys: String,
    /// `model_name_or_path`: a directory or a hub name.
    pub model: String,
    pub labels: Vec<String>,
    pub tokenizer_max_length: Option<u32>,
    pub trainable_keys: String,
    /// Relative paths resolve against the pipeline file's folder.
    pub output_dir: PathBuf,
    pub learning_rate: Option<f64>,
    pub epochs: u32,
    pub batch_size: u32,
    pub trainer_keys: String,
    /// The `[train.metrics]` keys; empty: no metrics.
    pub metrics: String,
    pub rest: String,
}

impl Default for TinyPipeline {
    fn default() -> Self {
        let e2e = root().join("tests/data/e2e");
        TinyPipeline {
            plugin_dirs: Vec::new(),
            train: e2e.join("train.jsonl"),
            validation: e2e.join("validation.jsonl"),
            corpus_keys: String::new(),
            train_keys: String::new(),
            model: tiny_bert().display().to_string(),
            labels: ["problem", "treatment", "test"].map(String::from).to_vec(),
            tokenizer_max_length: Some(64),
            trainable_keys: String::new(),
            output_dir: PathBuf::from("out"),
            learning_rate: Some(1e-3),
            epochs: 1,
            batch_size: 4,
            trainer_keys: String::new(),
            metrics: "operation = \"seqeval\"\ntagging_scheme = \"iob2\"".into(),
            rest: String::new(),
        }
    }
}

/// The trainer's progress printer, as a `[[train.callbacks]]` entry (for `rest`).
pub const PRINTER: &str = "[[train.callbacks]]\noperation = \"default-printer\"\n";

impl TinyPipeline {
    /// A run writing `output_dir`, checkpointing every epoch, its progress printed (the runs
    /// the fault tests interrupt).
    pub fn checkpointing(output_dir: &Path, epochs: u32) -> Self {
        TinyPipeline {
            output_dir: output_dir.to_path_buf(),
            epochs,
            trainer_keys: "checkpoint_period = 1".into(),
            rest: PRINTER.into(),
            ..TinyPipeline::default()
        }
    }

    /// The pipeline file's text.
    pub fn toml(&self) -> String {
        let mut t = String::new();
        if !self.plugin_dirs.is_empty() {
            let dirs: Vec<String> = self
                .plugin_dirs
                .iter()
                .map(|d| format!("\"{}\"", d.display()))
                .collect();
            t += &format!("[plugins]\ndirs = [{}]\n\n", dirs.join(", "));
        }
        t += &format!(
            "[corpus]\ntrain = \"{}\"\nvalidation = \"{}\"\n{}\n\n",
            self.train.display(),
            self.validation.display(),
            self.corpus_keys
        );
        if !self.train_keys.is_empty() {
            t += &format!("[train]\n{}\n\n", self.train_keys);
        }
        let labels: Vec<String> = self.labels.iter().map(|l| format!("{l:?}")).collect();
        t += &format!(
            "[train.trainable]\noperation = \"hf-entity-matcher\"\nmodel_name_or_path = \"{}\"\n\
             labels = [{}]\ntagging_scheme = \"iob2\"\n",
            self.model,
            labels.join(", ")
        );
        if let Some(n) = self.tokenizer_max_length {
            t += &format!("tokenizer_max_length = {n}\n");
        }
        t += &format!(
            "{}\n\n[train.trainer]\noutput_dir = \"{}\"\n",
            self.trainable_keys,
            self.output_dir.display()
        );
        if let Some(lr) = self.learning_rate {
            t += &format!("learning_rate = {lr:e}\n");
        }
        t += &format!(
            "nb_training_epochs = {}\nbatch_size = {}\nseed = 0\n{}\n\n",
            self.epochs, self.batch_size, self.trainer_keys
        );
        if !self.metrics.is_empty() {
            t += &format!("[train.metrics]\n{}\n\n", self.metrics);
        }
        t + &self.rest
    }

    /// Writes the pipeline file `path`; returns `path`.
    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.toml())
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path.to_path_buf()
    }
}

/// The `checkpoint_*` directories of a run, sorted (by epoch, then time).
pub fn checkpoints(output_dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(output_dir)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("checkpoint_")
        })
        .collect();
    v.sort();
    v
}

/// The end-of-epoch checkpoint of `epoch` (`checkpoint_<epoch>_<time>`, not an interrupted
/// one's `…_step<N>`).
pub fn epoch_checkpoint(output_dir: &Path, epoch: u32) -> PathBuf {
    let prefix = format!("checkpoint_{epoch:03}_");
    checkpoints(output_dir)
        .into_iter()
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&prefix) && !n.contains("_step")
        })
        .unwrap_or_else(|| panic!("no {prefix}* in {}", output_dir.display()))
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A run's `history.json` (one entry per epoch).
pub fn history(output_dir: &Path) -> Value {
    read_json(&output_dir.join("history.json"))
}
