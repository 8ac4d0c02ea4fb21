//! Learning-rate schedules applied by the trainer through `Trainable::set_learning_rate`.

use super::config::{LrSchedulerKind, TrainerConfig};

pub struct LrScheduler {
    kind: LrSchedulerKind,
    base_lr: f64,
    lr: f64,
    total_steps: u64,
    warmup_steps: u64,
    factor: f64,
    patience: u32,
    minimize: bool,
    best: Option<f64>,
    bad_epochs: u32,
}

impl LrScheduler {
    pub fn new(config: &TrainerConfig, optimizer_steps_per_epoch: u64) -> Self {
        let total_steps = optimizer_steps_per_epoch * config.nb_training_epochs as u64;
        Self {
            kind: config.lr_scheduler,
            base_lr: config.learning_rate,
            lr: config.learning_rate,
            total_steps,
            warmup_steps: (total_steps as f64 * config.warmup_ratio).round() as u64,
            factor: config.plateau_factor,
            patience: config.plateau_patience,
            // The tracked metric is minimised when it is a loss, as ReduceLROnPlateau(mode="min").
            minimize: config.metric_to_track_lr.ends_with("loss"),
            best: None,
            bad_epochs: 0,
        }
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The lr for optimizer step `step` (0-based), for per-step schedules; None when unchanged.
    pub fn on_optimizer_step(&mut self, step: u64) -> Option<f64> {
        if self.kind != LrSchedulerKind::Linear {
            return None;
        }
        let s = step + 1;
        let lr = if s < self.warmup_steps {
            self.base_lr * s as f64 / self.warmup_steps.max(1) as f64
        } else {
            let rest = self.total_steps.saturating_sub(self.warmup_steps).max(1);
            self.base_lr * (self.total_steps.saturating_sub(s)) as f64 / rest as f64
        };
        self.lr = lr;
        Some(lr)
    }

    /// What resuming needs: the current lr and the plateau tracking (the linear schedule is a
    /// function of the step, which the trainer passes).
    pub fn state(&self) -> serde_json::Value {
        serde_json::json!({"lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs})
    }

    pub fn restore(&mut self, state: &serde_json::Value) {
        if let Some(lr) = state.get("lr").and_then(|v| v.as_f64()) {
            self.lr = lr;
        }
        self.best = state.get("best").and_then(|v| v.as_f64());
        if let Some(b) = state.get("bad_epochs").and_then(|v| v.as_u64()) {
            self.bad_epochs = b as u32;
        }
    }

    /// ReduceLROnPlateau on the tracked eval metric; None when the lr is unchanged.
    pub fn on_epoch_end(&mut self, metric: f64) -> Option<f64> {
        if self.kind != LrSchedulerKind::Plateau {
            return None;
        }
        let improved = improves(metric, self.best, self.minimize);
        if improved {
            self.best = Some(metric);
            self.bad_epochs = 0;
            return None;
        }
        self.bad_epochs += 1;
        if self.bad_epochs > self.patience {
            self.bad_epochs = 0;
            self.lr *= self.factor;
            return Some(self.lr);
        }
        None
    }
}

/// Whether `value` beats `best` (strictly; anything beats no best yet).
pub fn improves(value: f64, best: Option<f64>, minimize: bool) -> bool {
    match best {
        None => true,
        Some(b) if minimize => value < b,
        Some(b) => value > b,
    }
}
