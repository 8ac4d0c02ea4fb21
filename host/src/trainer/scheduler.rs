//! Learning-rate schedules applied by the trainer through `Trainable::set_learning_rate`.

use super::config::{LrSchedulerKind, PlateauMode, ThresholdMode, TrainerConfig};
use medkit_sdk::MetricKind;

pub struct LrScheduler {
    kind: LrSchedulerKind,
    base_lr: f64,
    lr: f64,
    total_steps: u64,
    warmup_steps: u64,
    plateau: Plateau,
}

/// torch's ReduceLROnPlateau: its options and its state (best, bad epochs, cooldown).
struct Plateau {
    factor: f64,
    patience: u32,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: u32,
    min_lr: f64,
    /// None until set by the config or by the tracked metric's kind (a loss is minimised).
    minimize: Option<bool>,
    best: Option<f64>,
    bad_epochs: u32,
    cooldown_left: u32,
}

/// torch's `eps`: a reduction smaller than this is not applied.
const PLATEAU_EPS: f64 = 1e-8;

impl LrScheduler {
    pub fn new(config: &TrainerConfig, optimizer_steps_per_epoch: u64) -> Self {
        let total_steps = optimizer_steps_per_epoch * config.nb_training_epochs as u64;
        // transformers' TrainingArguments.get_warmup_steps
        let warmup_steps = if config.warmup_steps > 0 {
            config.warmup_steps
        } else {
            (total_steps as f64 * config.warmup_ratio).ceil() as u64
        };
        Self {
            kind: config.lr_scheduler,
            base_lr: config.learning_rate,
            lr: config.learning_rate,
            total_steps,
            warmup_steps,
            plateau: Plateau {
                factor: config.plateau_factor,
                patience: config.plateau_patience,
                threshold: config.plateau_threshold,
                threshold_mode: config.plateau_threshold_mode,
                cooldown: config.plateau_cooldown,
                min_lr: config.plateau_min_lr,
                minimize: config.plateau_mode.map(|m| m == PlateauMode::Min),
                best: None,
                bad_epochs: 0,
                cooldown_left: 0,
            },
        }
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The lr optimizer step `step` (0-based) runs at, for per-step schedules (None when
    /// unchanged): transformers' `get_linear_schedule_with_warmup`, whose scheduler steps after
    /// each optimizer step, so step 0 runs at the schedule's value for 0.
    pub fn on_optimizer_step(&mut self, step: u64) -> Option<f64> {
        if self.kind != LrSchedulerKind::Linear {
            return None;
        }
        let factor = if step < self.warmup_steps {
            step as f64 / self.warmup_steps.max(1) as f64
        } else {
            let rest = self.total_steps.saturating_sub(self.warmup_steps).max(1);
            self.total_steps.saturating_sub(step) as f64 / rest as f64
        };
        self.lr = self.base_lr * factor.max(0.0);
        Some(self.lr)
    }

    /// What resuming needs: the current lr and the plateau tracking (the linear schedule is a
    /// function of the step, which the trainer passes).
    pub fn state(&self) -> serde_json::Value {
        let p = &self.plateau;
        serde_json::json!({"lr": self.lr, "best": p.best, "bad_epochs": p.bad_epochs,
            "cooldown_left": p.cooldown_left, "minimize": p.minimize})
    }

    pub fn restore(&mut self, state: &serde_json::Value) {
        let p = &mut self.plateau;
        if let Some(lr) = state.get("lr").and_then(|v| v.as_f64()) {
            self.lr = lr;
        }
        p.best = state.get("best").and_then(|v| v.as_f64());
        let count = |k: &str| state.get(k).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        p.bad_epochs = count("bad_epochs");
        p.cooldown_left = count("cooldown_left");
        if p.minimize.is_none() {
            p.minimize = state.get("minimize").and_then(|v| v.as_bool());
        }
    }

    /// torch's `ReduceLROnPlateau.step(metric)` on the tracked eval metric, minimised when the
    /// config says `plateau_mode = "min"` or, without it, when the metric is a loss; None when
    /// the lr is unchanged.
    pub fn on_epoch_end(&mut self, metric: f64, kind: MetricKind) -> Option<f64> {
        if self.kind != LrSchedulerKind::Plateau {
            return None;
        }
        let p = &mut self.plateau;
        let minimize = *p.minimize.get_or_insert(kind == MetricKind::Loss);
        if p.is_better(metric, minimize) {
            p.best = Some(metric);
            p.bad_epochs = 0;
        } else {
            p.bad_epochs += 1;
        }
        if p.cooldown_left > 0 {
            p.cooldown_left -= 1;
            p.bad_epochs = 0;
        }
        if p.bad_epochs <= p.patience {
            return None;
        }
        p.cooldown_left = p.cooldown;
        p.bad_epochs = 0;
        let new_lr = (self.lr * p.factor).max(p.min_lr);
        if self.lr - new_lr <= PLATEAU_EPS {
            return None;
        }
        self.lr = new_lr;
        Some(new_lr)
    }
}

impl Plateau {
    fn is_better(&self, value: f64, minimize: bool) -> bool {
        let Some(best) = self.best else {
            return true;
        };
        match (minimize, self.threshold_mode) {
            (true, ThresholdMode::Rel) => value < best * (1.0 - self.threshold),
            (true, ThresholdMode::Abs) => value < best - self.threshold,
            (false, ThresholdMode::Rel) => value > best * (1.0 + self.threshold),
            (false, ThresholdMode::Abs) => value > best + self.threshold,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const FIXTURES: &str = include_str!("../../tests/fixtures/lr_schedules.json");

    fn config(base_lr: f64) -> TrainerConfig {
        toml::from_str(&format!("output_dir = 'x'\nlearning_rate = {base_lr}")).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-3)
    }

    #[test]
    fn linear_schedule_equals_transformers_step_for_step() {
        let f: Value = serde_json::from_str(FIXTURES).unwrap();
        for case in f["linear"].as_array().unwrap() {
            let mut c = config(f["base_lr"].as_f64().unwrap());
            c.lr_scheduler = LrSchedulerKind::Linear;
            c.nb_training_epochs = 1;
            c.warmup_steps = case["warmup_steps"].as_u64().unwrap();
            c.warmup_ratio = case["warmup_ratio"].as_f64().unwrap();
            let total = case["total_steps"].as_u64().unwrap();
            let mut s = LrScheduler::new(&c, total);
            for (step, want) in case["lrs"].as_array().unwrap().iter().enumerate() {
                let got = s.on_optimizer_step(step as u64).unwrap();
                let want = want.as_f64().unwrap();
                assert!(close(got, want), "{case}: step {step}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn plateau_schedule_equals_torch_epoch_for_epoch() {
        let f: Value = serde_json::from_str(FIXTURES).unwrap();
        for case in f["plateau"].as_array().unwrap() {
            let o = &case["options"];
            let mut c = config(f["base_lr"].as_f64().unwrap());
            c.lr_scheduler = LrSchedulerKind::Plateau;
            c.plateau_factor = o["factor"].as_f64().unwrap();
            c.plateau_patience = o["patience"].as_u64().unwrap() as u32;
            c.plateau_threshold = o.get("threshold").and_then(Value::as_f64).unwrap_or(1e-4);
            if o.get("threshold_mode").and_then(Value::as_str) == Some("abs") {
                c.plateau_threshold_mode = ThresholdMode::Abs;
            }
            c.plateau_cooldown = o.get("cooldown").and_then(Value::as_u64).unwrap_or(0) as u32;
            c.plateau_min_lr = o.get("min_lr").and_then(Value::as_f64).unwrap_or(0.0);
            // the mode comes from the tracked metric's kind when the config does not say it
            let kind = if o["mode"] == "min" {
                MetricKind::Loss
            } else {
                MetricKind::Score
            };
            let mut s = LrScheduler::new(&c, 1);
            let metrics = case["metrics"].as_array().unwrap();
            for (epoch, (m, want)) in metrics
                .iter()
                .zip(case["lrs"].as_array().unwrap())
                .enumerate()
            {
                s.on_epoch_end(m.as_f64().unwrap(), kind);
                let want = want.as_f64().unwrap();
                assert!(
                    close(s.lr(), want),
                    "{case}: epoch {epoch}: {} vs {want}",
                    s.lr()
                );
            }
        }
    }

    #[test]
    fn an_explicit_plateau_mode_wins_over_the_metric_kind() {
        let mut c = config(0.01);
        c.lr_scheduler = LrSchedulerKind::Plateau;
        c.plateau_mode = Some(PlateauMode::Max);
        let mut s = LrScheduler::new(&c, 1);
        s.on_epoch_end(0.5, MetricKind::Loss);
        // a higher "loss" is an improvement in max mode: no reduction
        assert_eq!(s.on_epoch_end(0.6, MetricKind::Loss), None);
        assert_eq!(s.on_epoch_end(0.4, MetricKind::Loss), Some(0.001));
    }
}
