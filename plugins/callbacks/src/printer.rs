//! `default-printer`: medkit's DefaultPrinterCallback through `log`, with a progress bar per
//! phase on a terminal and plain log lines every `log_step_interval` steps otherwise.

use crate::common::{parse_config, CallbackError, TrainerInfo};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use medkit_sdk::{EpochMetrics, Metric, OpResult, Phase, TrainerCallback};
use serde::Deserialize;
use std::io::IsTerminal;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Steps between log lines when no progress bar is drawn (default: the trainer's
    /// log_step_interval, else 50).
    log_step_interval: Option<u64>,
    /// Draw progress bars when stderr is a terminal (default true).
    progress_bar: Option<bool>,
}

pub struct DefaultPrinter {
    log_step_interval: Option<u64>,
    use_bar: bool,
    bar: Option<(Phase, ProgressBar)>,
}

const DEFAULT_LOG_STEP_INTERVAL: u64 = 50;

impl DefaultPrinter {
    pub fn from_config(config_json: &str) -> Result<Self, CallbackError> {
        let c: Config = parse_config(config_json)?;
        if c.log_step_interval == Some(0) {
            return Err(CallbackError::Config(
                "log_step_interval must be > 0".into(),
            ));
        }
        Ok(DefaultPrinter {
            log_step_interval: c.log_step_interval,
            use_bar: c.progress_bar.unwrap_or(true) && std::io::stderr().is_terminal(),
            bar: None,
        })
    }

    fn finish_bar(&mut self) {
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// medkit's metric lines: ` name:   0.123` (`{value:8.3f}`).
fn metric_lines(title: &str, metrics: &[Metric]) -> String {
    if metrics.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = metrics
        .iter()
        .map(|m| format!("{}:{:8.3}", m.name, m.value))
        .collect();
    format!("{title}:\n {}\n", lines.join("\n "))
}

impl TrainerCallback for DefaultPrinter {
    fn on_train_begin(&mut self, config_json: &str) -> OpResult<()> {
        let info = TrainerInfo::parse(config_json);
        let show = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
        log::info!(
            "Running training:\n\tNum epochs: {}\n\tTrain batch size: {}\n\tGradient accum steps: {}\n",
            show(info.nb_training_epochs),
            show(info.batch_size),
            show(info.gradient_accumulation_steps)
        );
        self.log_step_interval = self
            .log_step_interval
            .or(info.log_step_interval.filter(|&n| n > 0))
            .or(Some(DEFAULT_LOG_STEP_INTERVAL));
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        metrics: &EpochMetrics,
        epoch: u32,
        duration_s: f64,
    ) -> OpResult<()> {
        self.finish_bar();
        log::info!(
            "Epoch {epoch} ended (duration: {duration_s:.2}s)\n{}{}",
            metric_lines("Training metrics", &metrics.train),
            metric_lines("Evaluation metrics", &metrics.eval)
        );
        Ok(())
    }

    fn on_train_end(&mut self) -> OpResult<()> {
        self.finish_bar();
        log::info!("Training is completed");
        Ok(())
    }

    fn on_save(&mut self, checkpoint_dir: &str) -> OpResult<()> {
        log::info!("Saving checkpoint in {checkpoint_dir}");
        Ok(())
    }

    fn on_step_begin(&mut self, step: u64, nb_batches: u64, phase: Phase) -> OpResult<()> {
        if !self.use_bar || matches!(&self.bar, Some((p, _)) if *p == phase) {
            return Ok(());
        }
        // a new phase (or a resumed epoch starting mid-way): a fresh bar at `step`
        self.finish_bar();
        let bar = ProgressBar::with_draw_target(Some(nb_batches), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>5} {wide_bar} {pos}/{len} [{elapsed_precise}<{eta_precise}] loss {prefix}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(phase.as_str());
        bar.set_position(step);
        self.bar = Some((phase, bar));
        Ok(())
    }

    fn on_step_end(&mut self, step: u64, nb_batches: u64, phase: Phase, loss: f64) -> OpResult<()> {
        if let Some((_, bar)) = &self.bar {
            bar.set_prefix(format!("{loss:.4}"));
            bar.inc(1);
            if step.saturating_add(1) >= nb_batches {
                self.finish_bar();
            }
            return Ok(());
        }
        let every = self
            .log_step_interval
            .unwrap_or(DEFAULT_LOG_STEP_INTERVAL)
            .max(1);
        if step % every == every - 1 || step.saturating_add(1) == nb_batches {
            log::info!(
                "{} step {}/{nb_batches} loss {loss:.4}",
                phase.as_str(),
                step.saturating_add(1)
            );
        }
        Ok(())
    }
}
