//! The training loop, in medkit's Trainer shape: per epoch train, evaluate, schedule the lr,
//! emit events, checkpoint and track the best checkpoint. The parts: `epoch` (the phases),
//! `checkpointer` (writing and keeping checkpoints), `state` (what a checkpoint records of the
//! run, and resuming from it), `events` (what callbacks consume).

use super::checkpoint::{self, existing_checkpoints};
use super::checkpointer::Checkpointer;
use super::config::{LrSchedulerKind, TrainerConfig};
use super::documents::Examples;
use super::epoch::{EpochEnd, TrainPhase};
use super::events::{Callbacks, Event};
use super::optimizer::{self, OptimizerSection};
use super::scheduler::{improves, LrScheduler};
use super::state::{best_checkpoint, read_history, ResumePoint, TrainerState};
use abi_stable::std_types::{RResult, RStr, RString, RVec};
use anyhow::{anyhow, bail, Context as _};
use medkit_corpus::io;
use medkit_sdk::{EpochMetrics, Metric, MetricsComputerBox, TextDocument, TrainableBox};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// What `Trainer::train` returns: medkit's history plus where the checkpoints went.
pub struct TrainOutcome {
    /// Per epoch `{"train": {...}, "eval": {...}}`, as medkit's `Trainer.train()`.
    pub history: Vec<Value>,
    /// Per epoch run by this call: phase durations and what the train phase processed.
    pub timings: Vec<EpochTiming>,
    pub best_checkpoint: Option<PathBuf>,
    pub last_checkpoint: Option<PathBuf>,
}

pub struct Trainer {
    pub config: TrainerConfig,
    /// `[train.optimizer]`; none: Python medkit's optimizer.
    pub optimizer: Option<OptimizerSection>,
    pub trainable: TrainableBox,
    /// Metrics computers (`[[train.metrics]]`), each with its operation name.
    pub metrics: Vec<(String, MetricsComputerBox)>,
    pub callbacks: Callbacks,
    /// Set (e.g. by SIGINT/SIGTERM) to stop at the next step boundary with a resumable checkpoint.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Continue a run from this checkpoint (the trainable's `resume` loads its weights and state).
    pub resume: Option<ResumePoint>,
    /// What produced the run (resolved config, versions, data hashes), written into each
    /// checkpoint as `provenance.json`; none: no record.
    pub provenance: Option<Value>,
}

/// Durations of one epoch's phases, and the train phase's volume (for throughput figures).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct EpochTiming {
    pub epoch: u32,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub train_examples: usize,
    /// Non-padding tokens of the train examples (special tokens included).
    pub train_tokens: usize,
    /// The learning rate at the end of the epoch's train phase (before a plateau reduction).
    pub learning_rate: f64,
}

pub(super) fn rerr<T>(r: RResult<T, RString>) -> anyhow::Result<T> {
    r.into_result().map_err(|e| anyhow!("{e}"))
}

/// Metrics as a JSON object, name → value (a history entry's `train` / `eval`).
pub fn to_map(metrics: &[Metric]) -> Map<String, Value> {
    metrics
        .iter()
        .map(|m| (m.name.to_string(), json!(m.value)))
        .collect()
}

impl Trainer {
    /// Preprocesses documents into examples through the trainable, remembering the document
    /// of each (a long document may give several: windows).
    pub fn preprocess(&mut self, docs: Vec<TextDocument>, what: &str) -> anyhow::Result<Examples> {
        let mut out = Examples::default();
        for doc in docs {
            let uid = doc.uid.to_string();
            let feats = rerr(self.trainable.preprocess(doc))
                .with_context(|| format!("preprocessing {what} document '{uid}'"))?;
            out.push_document(feats.into_vec());
        }
        log::info!(
            "{what}: {} document(s), {} example(s)",
            out.nb_documents(),
            out.len()
        );
        Ok(out)
    }

    /// Refuses an output_dir holding another run's checkpoints (unless overwriting them).
    fn prepare_output_dir(&self) -> anyhow::Result<()> {
        let output_dir = &self.config.output_dir;
        std::fs::create_dir_all(output_dir)
            .with_context(|| format!("creating output_dir {}", output_dir.display()))?;
        checkpoint::remove_leftovers(output_dir);
        let existing = existing_checkpoints(output_dir);
        if existing.is_empty() || self.resume.is_some() {
            return Ok(());
        }
        if !self.config.overwrite_output_dir {
            bail!(
                "output_dir {} already holds {} checkpoint(s) (e.g. {}); resume with --resume, \
                 choose another output_dir or set trainer.overwrite_output_dir = true",
                output_dir.display(),
                existing.len(),
                existing[0].display()
            );
        }
        // The old run's checkpoints go, so that best-tracking and --resume never mix two runs.
        log::warn!(
            "overwrite_output_dir: removing {} checkpoint(s) of a previous run in {}",
            existing.len(),
            output_dir.display()
        );
        for dir in &existing {
            checkpoint::remove_checkpoint(dir)?;
        }
        let manifest = output_dir.join(super::checkpointer::MANIFEST_NAME);
        if manifest.exists() {
            std::fs::remove_file(&manifest)
                .with_context(|| format!("removing {}", manifest.display()))?;
        }
        Ok(())
    }

    pub fn train(
        &mut self,
        train_docs: Vec<TextDocument>,
        eval_docs: Vec<TextDocument>,
    ) -> anyhow::Result<TrainOutcome> {
        let config = self.config.clone();
        config.validate().map_err(|e| anyhow!(e))?;
        let optimizer = optimizer::checked_settings(self.optimizer.as_ref(), config.max_grad_norm)
            .map_err(|e| anyhow!(e))?;
        let output_dir = config.output_dir.clone();
        self.prepare_output_dir()?;
        let resume = self.resume.clone();
        // A fresh seed is drawn (and logged) when none is configured, so any run can be replayed.
        let seed = match (&resume, config.seed) {
            (Some(r), _) => r.seed,
            (None, Some(s)) => s,
            (None, None) => {
                let s = rand::random();
                log::info!("No seed configured; using seed {s}");
                s
            }
        };

        let train = self.preprocess(train_docs, "train")?;
        let eval = self.preprocess(eval_docs, "eval")?;
        if train.is_empty() {
            bail!("no training example: the train corpus is empty");
        }
        if eval.is_empty() {
            bail!("no evaluation example: the eval corpus is empty (set corpus.validation)");
        }
        // Eval keeps the corpus order (medkit's shuffle=False loader): the epoch loss is a mean of
        // batch means, so regrouping examples would change it. The plugin may still sub-batch.

        if !self.metrics.is_empty() {
            let labels = rerr(self.trainable.id_to_label())?;
            for (name, m) in self.metrics.iter_mut() {
                rerr(m.set_labels(labels.clone()))
                    .with_context(|| format!("metrics computer '{name}': set_labels"))?;
            }
        }
        let optimizer_json = serde_json::to_string(&optimizer)?;
        rerr(
            self.trainable
                .configure_optimizer(config.learning_rate, RStr::from_str(&optimizer_json)),
        )
        .with_context(|| format!("configuring the optimizer with {optimizer_json}"))?;

        let nb_batches = train.len().div_ceil(config.batch_size) as u64;
        let opt_steps_per_epoch = nb_batches.div_ceil(config.gradient_accumulation_steps as u64);
        let mut scheduler = LrScheduler::new(&config, opt_steps_per_epoch);
        let mut config_json = serde_json::to_value(&config)?;
        config_json["seed"] = json!(seed);
        config_json["optimizer"] = serde_json::to_value(&optimizer)?;
        config_json["nb_train_documents"] = json!(train.nb_documents());
        config_json["nb_train_examples"] = json!(train.len());
        config_json["nb_eval_documents"] = json!(eval.nb_documents());
        config_json["nb_eval_examples"] = json!(eval.len());
        config_json["device"] = json!(rerr(self.trainable.device())?.to_string());

        let mut history = Vec::new();
        let mut timings = Vec::new();
        let mut checkpointer = Checkpointer::new(
            &output_dir,
            &config.checkpoint_metric,
            config.minimize_checkpoint_metric,
            self.provenance.clone(),
        );
        let mut early_stopping = config
            .early_stopping_patience
            .map(|patience| EarlyStopping {
                patience,
                threshold: config.early_stopping_threshold,
                minimize: config.minimize_checkpoint_metric,
                best: None,
                bad_epochs: 0,
            });
        let mut opt_step = 0u64;
        let (mut first_epoch, mut start_step) = (1, (0u64, 0.0f64));
        if let Some(r) = &resume {
            rerr(
                self.trainable
                    .resume(RStr::from_str(&r.dir.display().to_string())),
            )
            .with_context(|| format!("resuming from {}", r.dir.display()))?;
            opt_step = r.optimizer_steps;
            if let Some(state) = &r.scheduler {
                scheduler.restore(state);
            }
            if config.lr_scheduler != LrSchedulerKind::None {
                rerr(self.trainable.set_learning_rate(scheduler.lr()))?;
            }
            (first_epoch, start_step) = r.next();
            history = read_history(&output_dir, first_epoch - 1)?;
            checkpointer.resumed(best_checkpoint(&output_dir, &config)?, &r.dir, r.completed);
            log::info!(
                "Resuming from {} at epoch {first_epoch}, step {}",
                r.dir.display(),
                start_step.0
            );
        }
        let config_text = config_json.to_string();
        self.callbacks.emit(Event::TrainBegin {
            config_json: &config_text,
        });

        for epoch in first_epoch..=config.nb_training_epochs {
            let start = Instant::now();
            self.callbacks.emit(Event::EpochBegin { epoch });
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(
                seed ^ ((epoch as u64) << 32),
            ));
            let from = std::mem::take(&mut start_step);
            // What this call really runs (a resumed epoch skips its first steps).
            let processed = order
                .chunks(config.batch_size)
                .skip(from.0 as usize)
                .flatten()
                .fold((0usize, 0usize), |(n, t), &i| {
                    (n + 1, t + train.features[i].input_ids.len())
                });
            let train_start = Instant::now();
            let phase = TrainPhase {
                examples: &train,
                order: &order,
                epoch,
                seed,
                from,
            };
            let train_metrics = match self.train_epoch(phase, &mut scheduler, &mut opt_step)? {
                EpochEnd::Done(m) => m,
                EpochEnd::Interrupted {
                    next_step,
                    loss_sum,
                } => {
                    let state = TrainerState {
                        epoch,
                        completed: false,
                        next_step,
                        seed,
                        optimizer_steps: opt_step,
                        loss_sum,
                        scheduler: Some(scheduler.state()),
                    };
                    let name = format!("{}_step{next_step:06}", checkpoint::checkpoint_name(epoch));
                    let dir = checkpointer.save(
                        &mut self.trainable,
                        &mut self.callbacks,
                        &name,
                        &state,
                        &config_json,
                        &Value::Null,
                    )?;
                    self.callbacks.emit(Event::TrainEnd);
                    bail!(
                        "training interrupted at epoch {epoch}, step {next_step}; resumable checkpoint \
                         written to {} (run again with --resume)",
                        dir.display()
                    );
                }
            };
            let train_seconds = train_start.elapsed().as_secs_f64();
            let eval_start = Instant::now();
            let eval_metrics = self.eval_epoch(&eval)?;
            timings.push(EpochTiming {
                epoch,
                train_seconds,
                eval_seconds: eval_start.elapsed().as_secs_f64(),
                train_examples: processed.0,
                train_tokens: processed.1,
                learning_rate: scheduler.lr(),
            });
            if config.lr_scheduler == LrSchedulerKind::Plateau {
                let tracked = find_metric(&eval_metrics, &config.metric_to_track_lr).context(
                    "trainer.metric_to_track_lr: the plateau scheduler needs this eval metric",
                )?;
                if let Some(lr) = scheduler.on_epoch_end(tracked.value, tracked.kind) {
                    log::info!("Reducing learning rate to {lr:e}");
                    rerr(self.trainable.set_learning_rate(lr))?;
                }
            }
            let record = json!({"train": to_map(&train_metrics), "eval": to_map(&eval_metrics)});
            history.push(record.clone());
            let epoch_metrics = EpochMetrics {
                train: RVec::from(train_metrics),
                eval: RVec::from(eval_metrics.clone()),
            };
            self.callbacks.emit(Event::EpochEnd {
                metrics: &epoch_metrics,
                epoch,
                duration_s: start.elapsed().as_secs_f64(),
            });
            io::write_json(
                &output_dir.join("history.json"),
                &Value::Array(history.clone()),
            )?;

            let stop = match early_stopping.as_mut() {
                Some(e) => e.should_stop(
                    find_metric(&eval_metrics, &config.checkpoint_metric)
                        .context("trainer.early_stopping_patience: on the checkpoint metric")?
                        .value,
                ),
                None => false,
            };
            if stop {
                log::info!(
                    "Early stopping at epoch {epoch}: {} has not improved for {} epoch(s)",
                    config.checkpoint_metric,
                    config.early_stopping_patience.unwrap_or(0)
                );
            }
            let is_last = epoch == config.nb_training_epochs || stop;
            let periodic = config.checkpoint_period != 0 && epoch % config.checkpoint_period == 0;
            if !is_last && !periodic {
                continue;
            }
            let state = TrainerState {
                epoch,
                completed: true,
                next_step: 0,
                seed,
                optimizer_steps: opt_step,
                loss_sum: 0.0,
                scheduler: Some(scheduler.state()),
            };
            let dir = checkpointer.save(
                &mut self.trainable,
                &mut self.callbacks,
                &checkpoint::checkpoint_name(epoch),
                &state,
                &config_json,
                &record,
            )?;
            // Checked after saving, as medkit does: a wrong name must not cost the trained model.
            let value = find_metric(&eval_metrics, &config.checkpoint_metric)
                .with_context(|| format!("checkpoint saved in {}", dir.display()))?
                .value;
            checkpointer.track(dir, value)?;
            if stop {
                break;
            }
        }
        self.callbacks.emit(Event::TrainEnd);
        Ok(TrainOutcome {
            history,
            timings,
            best_checkpoint: checkpointer.best(),
            last_checkpoint: checkpointer.last(),
        })
    }
}

/// transformers' EarlyStoppingCallback on the checkpoint metric: an epoch improves when its
/// value beats the best by more than `threshold`; training stops after `patience` epochs
/// without improvement. (Its state starts afresh on resume, as transformers' does.)
struct EarlyStopping {
    patience: u32,
    threshold: f64,
    minimize: bool,
    best: Option<f64>,
    bad_epochs: u32,
}

impl EarlyStopping {
    fn should_stop(&mut self, value: f64) -> bool {
        let beats = improves(value, self.best, self.minimize);
        let by_enough = self.best.is_none_or(|b| (value - b).abs() > self.threshold);
        if beats && by_enough {
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        // transformers' Trainer moves the best on any improvement, however small
        if beats {
            self.best = Some(value);
        }
        self.bad_epochs >= self.patience
    }
}

fn find_metric<'a>(metrics: &'a [Metric], name: &str) -> anyhow::Result<&'a Metric> {
    metrics
        .iter()
        .find(|m| m.name.as_str() == name)
        .ok_or_else(|| {
            anyhow!(
                "checkpoint metric '{name}' not found in eval metrics (have: {})",
                metrics
                    .iter()
                    .map(|m| m.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

#[cfg(test)]
mod early_stopping_tests {
    use super::EarlyStopping;

    fn run(values: &[f64], patience: u32, threshold: f64, minimize: bool) -> Option<usize> {
        let mut e = EarlyStopping {
            patience,
            threshold,
            minimize,
            best: None,
            bad_epochs: 0,
        };
        values.iter().position(|&v| e.should_stop(v))
    }

    #[test]
    fn stops_after_patience_epochs_without_enough_improvement() {
        // F1 (maximised): 0.5 best, then two epochs without improvement
        assert_eq!(run(&[0.4, 0.5, 0.49, 0.5, 0.6], 2, 0.0, false), Some(3));
        // small steps up, each below the threshold, count as no improvement (the best moves)
        assert_eq!(run(&[0.5, 0.505, 0.51, 0.515], 2, 0.01, false), Some(2));
        // a loss (minimised) that keeps falling never stops
        assert_eq!(run(&[3.0, 2.0, 1.0, 0.5], 1, 0.0, true), None);
        assert_eq!(run(&[3.0, 3.5], 1, 0.0, true), Some(1));
    }
}
