//! Template plugin: one metrics computer (`token-accuracy`) and one trainer callback
//! (`epoch-file`). Copy this folder, rename the package, replace the operations.

use medkit_sdk::serde::Deserialize;
use medkit_sdk::{parse_config, EpochMetrics, Metric, MetricsComputer, OpResult, TrainerCallback};

/// Fraction of tag positions where prediction == reference (ignoring -100).
#[derive(Default)]
struct TokenAccuracy {
    correct: u64,
    total: u64,
}

impl MetricsComputer for TokenAccuracy {
    fn set_labels(&mut self, _id_to_label: Vec<String>) -> OpResult<()> {
        Ok(())
    }
    fn prepare_batch(
        &mut self,
        references: Vec<Vec<i64>>,
        predictions: Vec<Vec<i64>>,
    ) -> OpResult<()> {
        if references.len() != predictions.len() {
            return Err(format!(
                "token-accuracy: {} reference sequences but {} predicted",
                references.len(),
                predictions.len()
            ));
        }
        for (r, p) in references.iter().zip(&predictions) {
            for (a, b) in r.iter().zip(p).filter(|(a, _)| **a != -100) {
                self.total += 1;
                self.correct += u64::from(a == b);
            }
        }
        Ok(())
    }
    fn compute(&mut self) -> OpResult<Vec<Metric>> {
        let acc = if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        };
        self.reset()?;
        Ok(vec![Metric::new("token_accuracy", acc)])
    }
    fn reset(&mut self) -> OpResult<()> {
        *self = Self::default();
        Ok(())
    }
}

/// Appends "epoch N loss X" to a file after each epoch.
struct EpochFile {
    path: std::path::PathBuf,
}

impl TrainerCallback for EpochFile {
    fn on_epoch_end(
        &mut self,
        metrics: &EpochMetrics,
        epoch: u32,
        _duration_s: f64,
    ) -> OpResult<()> {
        use std::io::Write;
        let loss = metrics
            .eval
            .iter()
            .find(|m| m.name.as_str() == "loss")
            .map(|m| m.value);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("epoch-file: cannot open {}: {e}", self.path.display()))?;
        writeln!(f, "epoch {epoch} eval_loss {loss:?}").map_err(|e| e.to_string())
    }
}

/// The callback's config; an unknown or missing key is an error naming it.
#[derive(Deserialize)]
#[serde(crate = "medkit_sdk::serde", deny_unknown_fields)]
struct EpochFileConfig {
    path: std::path::PathBuf,
}

fn epoch_file(config: &str) -> Result<EpochFile, String> {
    let c: EpochFileConfig = parse_config(config).map_err(|e| format!("epoch-file: {e}"))?;
    Ok(EpochFile { path: c.path })
}

medkit_sdk::register_operation! {
    kind: metrics,
    name: "token-accuracy",
    description: "Token-level tag accuracy (example plugin)",
    config_example: "",
    create: |_config: &str| Ok::<_, String>(TokenAccuracy::default()),
}

medkit_sdk::register_operation! {
    kind: callback,
    name: "epoch-file",
    description: "Appends one line per epoch to a file (example plugin)",
    config_example: "path = \"epochs.txt\"",
    output_keys: ["path"],
    create: epoch_file,
}

medkit_sdk::export_plugin!();
