//! The training loop, in medkit's Trainer shape: per epoch train, evaluate, schedule the lr,
//! emit events, checkpoint and track the best checkpoint.

use super::checkpoint::{self, existing_checkpoints, write_atomically};
use super::config::TrainerConfig;
use super::events::Callbacks;
use super::scheduler::{improves, LrScheduler};
use abi_stable::std_types::{RStr, RVec};
use anyhow::{anyhow, bail, Context as _};
use medkit_corpus::io;
use medkit_sdk::{
    EpochMetrics, Features, Metric, MetricsComputerBox, Phase, TextDocument, TrainableBox,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
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
    pub trainable: TrainableBox,
    /// Metrics computers (`[[train.metrics]]`), each with its operation name.
    pub metrics: Vec<(String, MetricsComputerBox)>,
    pub callbacks: Callbacks,
    /// Set (e.g. by SIGINT/SIGTERM) to stop at the next step boundary with a resumable checkpoint.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Continue a run from this checkpoint (the trainable's `resume` loads its weights and state).
    pub resume: Option<ResumePoint>,
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

/// Where a resumed run picks up, read from a checkpoint's `trainer_state.json`.
#[derive(Debug, Clone)]
pub struct ResumePoint {
    pub dir: PathBuf,
    /// The epoch the checkpoint belongs to, and the first step of it still to run (0 when the
    /// epoch was complete: the run goes on with the next epoch).
    pub epoch: u32,
    pub next_step: u64,
    pub completed: bool,
    pub seed: u64,
    pub optimizer_steps: u64,
    /// Sum of the train losses of the epoch's steps already run.
    pub loss_sum: f64,
    /// The lr scheduler's state (lr, plateau tracking).
    pub scheduler: Option<Value>,
}

impl ResumePoint {
    /// The most advanced checkpoint of `output_dir` (by epoch, then complete over interrupted,
    /// then step), ignoring directories without a readable state.
    pub fn latest(output_dir: &std::path::Path) -> Option<Self> {
        existing_checkpoints(output_dir)
            .iter()
            .filter_map(|d| Self::read(d).ok())
            .max_by_key(|r| (r.epoch, r.completed, r.next_step))
    }

    pub fn read(dir: &std::path::Path) -> anyhow::Result<Self> {
        let path = dir.join(checkpoint::STATE_NAME);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let v: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let u = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| anyhow!("{}: missing or invalid key '{k}'", path.display()))
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            epoch: u("epoch")? as u32,
            next_step: v.get("next_step").and_then(Value::as_u64).unwrap_or(0),
            completed: v.get("completed").and_then(Value::as_bool).unwrap_or(true),
            seed: u("seed")?,
            optimizer_steps: u("optimizer_steps")?,
            loss_sum: v.get("loss_sum").and_then(Value::as_f64).unwrap_or(0.0),
            scheduler: v.get("scheduler").cloned(),
        })
        .and_then(|r: Self| {
            if r.epoch == 0 {
                Err(anyhow!("{}: epoch must be >= 1", path.display()))
            } else {
                Ok(r)
            }
        })
    }
}

/// What stopping at a step boundary left behind.
enum EpochEnd {
    Done(Vec<Metric>),
    Interrupted { next_step: u64, loss_sum: f64 },
}

fn rerr<T>(
    r: abi_stable::std_types::RResult<T, abi_stable::std_types::RString>,
) -> anyhow::Result<T> {
    r.into_result().map_err(|e| anyhow!("{e}"))
}

fn to_map(metrics: &[Metric]) -> Map<String, Value> {
    metrics
        .iter()
        .map(|m| (m.name.to_string(), json!(m.value)))
        .collect()
}

impl Trainer {
    /// Preprocesses documents into examples through the trainable.
    pub fn preprocess(
        &mut self,
        docs: Vec<TextDocument>,
        what: &str,
    ) -> anyhow::Result<Vec<Features>> {
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            let uid = doc.uid.to_string();
            let feats = rerr(self.trainable.preprocess(doc))
                .with_context(|| format!("preprocessing {what} document '{uid}'"))?;
            out.extend(feats);
        }
        Ok(out)
    }

    pub fn train(
        &mut self,
        train_docs: Vec<TextDocument>,
        eval_docs: Vec<TextDocument>,
    ) -> anyhow::Result<TrainOutcome> {
        let config = self.config.clone();
        config.validate().map_err(|e| anyhow!(e))?;
        let output_dir = config.output_dir.clone();
        std::fs::create_dir_all(&output_dir)
            .with_context(|| format!("creating output_dir {}", output_dir.display()))?;
        checkpoint::remove_leftovers(&output_dir);
        let existing = existing_checkpoints(&output_dir);
        if !existing.is_empty() && !config.overwrite_output_dir && self.resume.is_none() {
            bail!(
                "output_dir {} already holds {} checkpoint(s) (e.g. {}); resume with --resume, \
                 choose another output_dir or set trainer.overwrite_output_dir = true",
                output_dir.display(),
                existing.len(),
                existing[0].display()
            );
        }
        if !existing.is_empty() && self.resume.is_none() {
            // overwrite_output_dir: the old run's checkpoints go, so that best-tracking and
            // --resume never mix two runs.
            log::warn!(
                "overwrite_output_dir: removing {} checkpoint(s) of a previous run in {}",
                existing.len(),
                output_dir.display()
            );
            for dir in &existing {
                checkpoint::remove_checkpoint(dir)?;
            }
        }
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
        rerr(
            self.trainable
                .configure_optimizer(config.learning_rate, RStr::from_str("{}")),
        )
        .context("configuring the optimizer")?;

        let nb_batches = train.len().div_ceil(config.batch_size) as u64;
        let opt_steps_per_epoch = nb_batches.div_ceil(config.gradient_accumulation_steps as u64);
        let mut scheduler = LrScheduler::new(&config, opt_steps_per_epoch);
        let mut config_json = serde_json::to_value(&config)?;
        config_json["seed"] = json!(seed);
        config_json["nb_train_examples"] = json!(train.len());
        config_json["nb_eval_examples"] = json!(eval.len());
        config_json["device"] = json!(rerr(self.trainable.device())?.to_string());

        let mut history = Vec::new();
        let mut timings = Vec::new();
        let mut best: Option<(PathBuf, f64)> = None;
        let mut last = None;
        let mut opt_step = 0u64;
        let mut first_epoch = 1;
        let mut start_step = (0u64, 0.0f64);
        if let Some(r) = &resume {
            rerr(
                self.trainable
                    .resume(RStr::from_str(&r.dir.display().to_string())),
            )
            .with_context(|| format!("resuming from {}", r.dir.display()))?;
            opt_step = r.optimizer_steps;
            for _ in 0..opt_step {
                scheduler.on_optimizer_step_silent();
            }
            if let Some(state) = &r.scheduler {
                scheduler.restore(state);
            }
            if config.lr_scheduler != super::config::LrSchedulerKind::None {
                rerr(self.trainable.set_learning_rate(scheduler.lr()))?;
            }
            first_epoch = if r.completed { r.epoch + 1 } else { r.epoch };
            if !r.completed {
                start_step = (r.next_step, r.loss_sum);
            }
            history = read_history(&output_dir, first_epoch - 1)?;
            best = best_checkpoint(&output_dir, &config)?;
            last = Some(r.dir.clone());
            log::info!(
                "Resuming from {} at epoch {first_epoch}, step {}",
                r.dir.display(),
                start_step.0
            );
        }
        self.callbacks.train_begin(&config_json.to_string());

        for epoch in first_epoch..=config.nb_training_epochs {
            let start = Instant::now();
            self.callbacks.epoch_begin(epoch);
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
                    (n + 1, t + train[i].input_ids.len())
                });
            let train_start = Instant::now();
            let train_metrics = match self.train_epoch(
                &train,
                &order,
                epoch,
                seed,
                from,
                &mut scheduler,
                &mut opt_step,
            )? {
                EpochEnd::Done(m) => m,
                EpochEnd::Interrupted {
                    next_step,
                    loss_sum,
                } => {
                    let state = json!({"epoch": epoch, "completed": false, "next_step": next_step,
                        "seed": seed, "optimizer_steps": opt_step, "loss_sum": loss_sum,
                        "scheduler": scheduler.state()});
                    let name = format!("{}_step{next_step:06}", checkpoint::checkpoint_name(epoch));
                    let dir = self.save_checkpoint(&name, &state, &config_json, &json!(null))?;
                    self.callbacks.train_end();
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
            let tracked =
                if config.lr_scheduler == super::config::LrSchedulerKind::Plateau {
                    Some(metric_value(&eval_metrics, &config.metric_to_track_lr).context(
                    "trainer.metric_to_track_lr: the plateau scheduler needs this eval metric",
                )?)
                } else {
                    None
                };
            if let Some(lr) = tracked.and_then(|v| scheduler.on_epoch_end(v)) {
                log::info!("Reducing learning rate to {lr:e}");
                rerr(self.trainable.set_learning_rate(lr))?;
            }
            let record = json!({"train": to_map(&train_metrics), "eval": to_map(&eval_metrics)});
            history.push(record.clone());
            let epoch_metrics = EpochMetrics {
                train: RVec::from(train_metrics),
                eval: RVec::from(eval_metrics.clone()),
            };
            self.callbacks
                .epoch_end(&epoch_metrics, epoch, start.elapsed().as_secs_f64());
            io::write_json(
                &output_dir.join("history.json"),
                &Value::Array(history.clone()),
            )?;

            let is_last = epoch == config.nb_training_epochs;
            let periodic = config.checkpoint_period != 0 && epoch % config.checkpoint_period == 0;
            if !is_last && !periodic {
                continue;
            }
            let state = json!({"epoch": epoch, "completed": true, "seed": seed,
                "optimizer_steps": opt_step, "scheduler": scheduler.state()});
            let dir = self.save_checkpoint(
                &checkpoint::checkpoint_name(epoch),
                &state,
                &config_json,
                &record,
            )?;
            // Checked after saving, as medkit does: a wrong name must not cost the trained model.
            let value = metric_value(&eval_metrics, &config.checkpoint_metric)
                .with_context(|| format!("checkpoint saved in {}", dir.display()))?;
            // An interrupted checkpoint has served its purpose once a later one exists.
            if let Some(prev) = last.replace(dir.clone()) {
                if resume
                    .as_ref()
                    .is_some_and(|r| !r.completed && r.dir == prev)
                {
                    checkpoint::remove_checkpoint(&prev).ok();
                }
            }
            let better = improves(
                value,
                best.as_ref().map(|(_, b)| *b),
                config.minimize_checkpoint_metric,
            );
            if better {
                if let Some((old, _)) = best.take() {
                    checkpoint::remove_checkpoint(&old).ok();
                }
                best = Some((dir, value));
            }
        }
        self.callbacks.train_end();
        Ok(TrainOutcome {
            history,
            timings,
            best_checkpoint: best.map(|(p, _)| p),
            last_checkpoint: last,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn train_epoch(
        &mut self,
        train: &[Features],
        order: &[usize],
        epoch: u32,
        seed: u64,
        (first_step, loss_sum): (u64, f64),
        scheduler: &mut LrScheduler,
        opt_step: &mut u64,
    ) -> anyhow::Result<EpochEnd> {
        let bs = self.config.batch_size;
        let acc = self.config.gradient_accumulation_steps as u64;
        let nb_batches = order.len().div_ceil(bs) as u64;
        let with_metrics = self.config.do_metrics_in_training && !self.metrics.is_empty();
        if with_metrics {
            self.reset_metrics()?;
        }
        let mut total = loss_sum;
        for (step, chunk) in order.chunks(bs).enumerate().skip(first_step as usize) {
            let step = step as u64;
            self.callbacks.step_begin(step, nb_batches, Phase::Train);
            // Seeding every step makes any step boundary an exact resume point (dropout masks).
            rerr(self.trainable.set_seed(step_seed(seed, epoch, step)))?;
            let batch: RVec<Features> = chunk.iter().map(|&i| train[i].clone()).collect();
            let out = rerr(self.trainable.train_step(batch, 1.0 / acc as f64))
                .with_context(|| format!("training step {step} of epoch {epoch}"))?;
            if !out.loss.is_finite() {
                bail!(
                    "non-finite training loss ({}) at step {step} of epoch {epoch}; stopping \
                     (earlier checkpoints are kept)",
                    out.loss
                );
            }
            let boundary = (step + 1).is_multiple_of(acc) || step + 1 == nb_batches;
            if boundary {
                if let Some(lr) = scheduler.on_optimizer_step(*opt_step) {
                    rerr(self.trainable.set_learning_rate(lr))?;
                }
                rerr(self.trainable.optimizer_step())?;
                *opt_step += 1;
            }
            // medkit sums the loss divided by gradient_accumulation_steps (its history's "loss").
            total += out.loss / acc as f64;
            if with_metrics {
                self.prepare_metrics(out.references, out.predictions)?;
            }
            self.callbacks
                .step_end(step, nb_batches, Phase::Train, total / (step + 1) as f64);
            // Stop only where no gradient is pending, so the checkpoint holds the whole state.
            let stop = self
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::SeqCst));
            if stop && boundary && step + 1 < nb_batches {
                return Ok(EpochEnd::Interrupted {
                    next_step: step + 1,
                    loss_sum: total,
                });
            }
        }
        let loss = Metric::loss(LOSS, total / nb_batches.max(1) as f64);
        let metrics = if with_metrics {
            self.compute_metrics(loss)?
        } else {
            vec![loss]
        };
        Ok(EpochEnd::Done(metrics))
    }

    /// Loss and metrics of the trainable on `eval` (no gradients).
    pub fn eval_epoch(&mut self, eval: &[Features]) -> anyhow::Result<Vec<Metric>> {
        let bs = self.config.batch_size;
        let nb_batches = eval.len().div_ceil(bs) as u64;
        let mut total = 0.0;
        self.reset_metrics()?;
        for (step, chunk) in eval.chunks(bs).enumerate() {
            let step = step as u64;
            self.callbacks.step_begin(step, nb_batches, Phase::Eval);
            let out = rerr(self.trainable.eval_step(RVec::from(chunk.to_vec())))
                .with_context(|| format!("evaluation step {step}"))?;
            total += out.loss;
            self.prepare_metrics(out.references, out.predictions)?;
            self.callbacks
                .step_end(step, nb_batches, Phase::Eval, total / (step + 1) as f64);
        }
        self.compute_metrics(Metric::loss(LOSS, total / nb_batches.max(1) as f64))
    }

    fn reset_metrics(&mut self) -> anyhow::Result<()> {
        for (name, m) in self.metrics.iter_mut() {
            rerr(m.reset()).with_context(|| format!("metrics computer '{name}': reset"))?;
        }
        Ok(())
    }

    fn prepare_metrics(
        &mut self,
        mut references: RVec<RVec<i64>>,
        mut predictions: RVec<RVec<i64>>,
    ) -> anyhow::Result<()> {
        let n = self.metrics.len();
        for (i, (name, m)) in self.metrics.iter_mut().enumerate() {
            // The last computer takes the batch, the others a copy.
            let (r, p) = if i + 1 == n {
                (
                    std::mem::take(&mut references),
                    std::mem::take(&mut predictions),
                )
            } else {
                (references.clone(), predictions.clone())
            };
            rerr(m.prepare_batch(r, p))
                .with_context(|| format!("metrics computer '{name}': prepare_batch"))?;
        }
        Ok(())
    }

    /// The trainer's loss, then every computer's metrics (see `merge_metrics`).
    fn compute_metrics(&mut self, loss: Metric) -> anyhow::Result<Vec<Metric>> {
        let mut computed = Vec::with_capacity(self.metrics.len());
        for (name, m) in self.metrics.iter_mut() {
            let values =
                rerr(m.compute()).with_context(|| format!("metrics computer '{name}': compute"))?;
            computed.push((name.clone(), values.into_vec()));
        }
        Ok(merge_metrics(loss, computed))
    }

    fn save_checkpoint(
        &mut self,
        name: &str,
        state: &Value,
        config_json: &Value,
        record: &Value,
    ) -> anyhow::Result<PathBuf> {
        let shown = self.config.output_dir.join(name);
        self.callbacks.save(&shown.display().to_string());
        let trainable = &mut self.trainable;
        write_atomically(&self.config.output_dir, name, |tmp| {
            let dir = tmp.display().to_string();
            rerr(trainable.save(RStr::from_str(&dir))).context("saving the model")?;
            rerr(trainable.save_state(RStr::from_str(&dir)))
                .context("saving the optimizer state")?;
            io::write_json(&tmp.join(checkpoint::STATE_NAME), state)?;
            io::write_json(&tmp.join(checkpoint::CONFIG_NAME), config_json)?;
            if !record.is_null() {
                io::write_json(&tmp.join(checkpoint::METRICS_NAME), record)?;
            }
            Ok(())
        })
    }
}

/// The name of the trainer's own loss in the history; no metrics computer can take it.
pub const LOSS: &str = "loss";

/// The trainer's loss first, then each computer's metrics in order. A name that several
/// computers produce, or that is the trainer's `loss`, is prefixed with its operation's name
/// (`token-accuracy.accuracy`), so that no value shadows another.
pub fn merge_metrics(loss: Metric, computed: Vec<(String, Vec<Metric>)>) -> Vec<Metric> {
    let mut owners: std::collections::HashMap<String, usize> = Default::default();
    for (_, values) in &computed {
        let names: std::collections::HashSet<&str> =
            values.iter().map(|m| m.name.as_str()).collect();
        for n in names {
            *owners.entry(n.to_string()).or_default() += 1;
        }
    }
    let mut out = vec![loss];
    for (operation, values) in computed {
        for mut m in values {
            let name = m.name.to_string();
            if name == LOSS || owners.get(&name).is_some_and(|&n| n > 1) {
                m.name = format!("{operation}.{name}").into();
            }
            out.push(m);
        }
    }
    out
}

fn step_seed(seed: u64, epoch: u32, step: u64) -> u64 {
    seed ^ ((epoch as u64) << 40) ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn metric_value(metrics: &[Metric], name: &str) -> anyhow::Result<f64> {
    metrics
        .iter()
        .find(|m| m.name.as_str() == name)
        .map(|m| m.value)
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

/// The first `epochs` records of `output_dir/history.json` (none if absent).
fn read_history(output_dir: &std::path::Path, epochs: u32) -> anyhow::Result<Vec<Value>> {
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
fn best_checkpoint(
    output_dir: &std::path::Path,
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
