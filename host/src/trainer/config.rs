//! medkit's TrainerConfig, plus the seed's `log_step_interval` and an optional lr scheduler.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainerConfig {
    /// Where checkpoints and history.json go.
    pub output_dir: PathBuf,
    #[serde(default = "defaults::learning_rate")]
    pub learning_rate: f64,
    #[serde(default = "defaults::nb_training_epochs")]
    pub nb_training_epochs: u32,
    /// Threads that preprocess documents ahead of the training loop (0 = inline).
    #[serde(default)]
    pub dataloader_nb_workers: u32,
    #[serde(default = "defaults::one")]
    pub batch_size: usize,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default = "defaults::one")]
    pub gradient_accumulation_steps: usize,
    #[serde(default)]
    pub do_metrics_in_training: bool,
    #[serde(default = "defaults::loss")]
    pub metric_to_track_lr: String,
    /// Save every N epochs (and always at the last); 0 = only the last.
    #[serde(default = "defaults::one_u32")]
    pub checkpoint_period: u32,
    #[serde(default = "defaults::loss")]
    pub checkpoint_metric: String,
    #[serde(default = "defaults::yes")]
    pub minimize_checkpoint_metric: bool,
    /// Log the running train loss every N steps (when no progress bar is shown).
    #[serde(default)]
    pub log_step_interval: Option<u64>,
    /// `none` (medkit's default), `linear` (warmup then linear decay) or `plateau`.
    #[serde(default)]
    pub lr_scheduler: LrSchedulerKind,
    /// Fraction of the optimizer steps spent warming up (`linear`; rounded up, as transformers).
    #[serde(default)]
    pub warmup_ratio: f64,
    /// Optimizer steps spent warming up (`linear`); when > 0 it wins over `warmup_ratio`.
    #[serde(default)]
    pub warmup_steps: u64,
    /// `plateau` (torch's ReduceLROnPlateau): factor applied to the lr, and epochs without
    /// improvement before applying it.
    #[serde(default = "defaults::plateau_factor")]
    pub plateau_factor: f64,
    #[serde(default)]
    pub plateau_patience: u32,
    /// `plateau`: an improvement is a change of more than this (relative or absolute).
    #[serde(default = "defaults::plateau_threshold")]
    pub plateau_threshold: f64,
    #[serde(default)]
    pub plateau_threshold_mode: ThresholdMode,
    /// `plateau`: epochs after a reduction during which bad epochs are not counted.
    #[serde(default)]
    pub plateau_cooldown: u32,
    /// `plateau`: the lr never goes below this.
    #[serde(default)]
    pub plateau_min_lr: f64,
    /// `plateau`: "min" or "max"; default: "min" when the tracked metric is a loss, else "max".
    #[serde(default)]
    pub plateau_mode: Option<PlateauMode>,
    /// Stop when the checkpoint metric has not improved (by more than
    /// `early_stopping_threshold`) for this many epochs, as transformers' EarlyStoppingCallback.
    #[serde(default)]
    pub early_stopping_patience: Option<u32>,
    #[serde(default)]
    pub early_stopping_threshold: f64,
    /// Clip the gradients' total L2 norm to this before each optimizer step (torch's
    /// clip_grad_norm_, where transformers' Trainer applies it); absent: no clipping, as medkit.
    #[serde(default)]
    pub max_grad_norm: Option<f64>,
    /// Allow writing into an output_dir that already holds checkpoints.
    #[serde(default)]
    pub overwrite_output_dir: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedulerKind {
    #[default]
    None,
    Linear,
    Plateau,
}

/// torch's ReduceLROnPlateau `threshold_mode`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    #[default]
    Rel,
    Abs,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    Min,
    Max,
}

mod defaults {
    pub fn learning_rate() -> f64 {
        1e-5
    }
    pub fn nb_training_epochs() -> u32 {
        3
    }
    pub fn one() -> usize {
        1
    }
    pub fn one_u32() -> u32 {
        1
    }
    pub fn loss() -> String {
        "loss".into()
    }
    pub fn yes() -> bool {
        true
    }
    pub fn plateau_factor() -> f64 {
        0.1
    }
    pub fn plateau_threshold() -> f64 {
        1e-4
    }
}

impl TrainerConfig {
    /// Checks values serde cannot; errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("batch_size", self.batch_size as f64),
            (
                "gradient_accumulation_steps",
                self.gradient_accumulation_steps as f64,
            ),
            ("nb_training_epochs", self.nb_training_epochs as f64),
            ("learning_rate", self.learning_rate),
        ];
        for (key, v) in positive {
            if v.is_nan() || v <= 0.0 || !v.is_finite() {
                return Err(format!("trainer.{key} must be > 0 (got {v})"));
            }
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return Err(format!(
                "trainer.warmup_ratio must be in [0, 1) (got {})",
                self.warmup_ratio
            ));
        }
        if !(self.plateau_factor > 0.0 && self.plateau_factor < 1.0) {
            return Err(format!(
                "trainer.plateau_factor must be in (0, 1) (got {})",
                self.plateau_factor
            ));
        }
        for (key, v) in [
            ("plateau_threshold", self.plateau_threshold),
            ("plateau_min_lr", self.plateau_min_lr),
            ("early_stopping_threshold", self.early_stopping_threshold),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("trainer.{key} must be >= 0 (got {v})"));
            }
        }
        if let Some(n) = self.max_grad_norm {
            if !(n > 0.0 && n.is_finite()) {
                return Err(format!("trainer.max_grad_norm must be > 0 (got {n})"));
            }
        }
        if self.early_stopping_patience == Some(0) {
            return Err("trainer.early_stopping_patience must be >= 1".into());
        }
        if self.dataloader_nb_workers != 0 {
            log::warn!(
                "trainer.dataloader_nb_workers = {} is accepted for medkit compatibility but not \
                 used: documents are preprocessed inline, once, before the first epoch",
                self.dataloader_nb_workers
            );
        }
        if self.log_step_interval == Some(0) {
            return Err("trainer.log_step_interval must be > 0".into());
        }
        Ok(())
    }
}
