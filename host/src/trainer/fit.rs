//! The training loop, in medkit's Trainer shape: per epoch train, evaluate, schedule the lr,
//! emit events, checkpoint and track the best checkpoint.

use super::checkpoint::{self, existing_checkpoints, write_atomically, write_json_atomically};
use super::config::TrainerConfig;
use super::events::Callbacks;
use super::scheduler::LrScheduler;
use abi_stable::std_types::{RStr, RVec};
use anyhow::{anyhow, bail, Context as _};
use medkit_sdk::{EpochMetrics, Features, Metric, MetricsBox, Phase, TextDocument, TrainableBox};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::time::Instant;

/// What `Trainer::train` returns: medkit's history plus where the checkpoints went.
pub struct TrainOutcome {
    /// Per epoch `{"train": {...}, "eval": {...}}`, as medkit's `Trainer.train()`.
    pub history: Vec<Value>,
    pub best_checkpoint: Option<PathBuf>,
    pub last_checkpoint: Option<PathBuf>,
}

pub struct Trainer {
    pub config: TrainerConfig,
    pub trainable: TrainableBox,
    pub metrics: Option<MetricsBox>,
    pub callbacks: Callbacks,
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
            out.extend(feats.into_iter());
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
        let existing = existing_checkpoints(&output_dir);
        if !existing.is_empty() && !config.overwrite_output_dir {
            bail!(
                "output_dir {} already holds {} checkpoint(s) (e.g. {}); choose another output_dir \
                 or set trainer.overwrite_output_dir = true",
                output_dir.display(),
                existing.len(),
                existing[0].display()
            );
        }
        // A fresh seed is drawn (and logged) when none is configured, so any run can be replayed.
        let seed = config.seed.unwrap_or_else(rand::random);
        if config.seed.is_none() {
            log::info!("No seed configured; using seed {seed}");
        }

        let train = self.preprocess(train_docs, "train")?;
        let mut eval = self.preprocess(eval_docs, "eval")?;
        if train.is_empty() {
            bail!("no training example: the train corpus is empty");
        }
        if eval.is_empty() {
            bail!("no evaluation example: the eval corpus is empty (set corpus.validation)");
        }
        // Length-sorted eval batches pad less; seqeval is order-independent.
        eval.sort_by_key(|f| f.input_ids.len());

        if let Some(m) = self.metrics.as_mut() {
            let labels = rerr(self.trainable.id_to_label())?;
            rerr(m.set_labels(labels)).context("metrics computer set_labels")?;
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
        self.callbacks.train_begin(&config_json.to_string());

        let mut history = Vec::new();
        let mut best: Option<(PathBuf, f64)> = None;
        let mut last = None;
        let mut opt_step = 0u64;
        for epoch in 1..=config.nb_training_epochs {
            let start = Instant::now();
            self.callbacks.epoch_begin(epoch);
            // Per-epoch seeds make an epoch boundary a complete resume point.
            rerr(self.trainable.set_seed(seed.wrapping_add(epoch as u64)))?;
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(
                seed ^ ((epoch as u64) << 32),
            ));
            let train_metrics =
                self.train_epoch(&train, &order, epoch, &mut scheduler, &mut opt_step)?;
            let eval_metrics = self.eval_epoch(&eval)?;
            let tracked = eval_metrics
                .iter()
                .find(|m| m.name.as_str() == config.metric_to_track_lr)
                .map(|m| m.value);
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
            write_json_atomically(
                &output_dir.join("history.json"),
                &Value::Array(history.clone()),
            )?;

            let is_last = epoch == config.nb_training_epochs;
            let periodic = config.checkpoint_period != 0 && epoch % config.checkpoint_period == 0;
            if !is_last && !periodic {
                continue;
            }
            let value = eval_metrics
                .iter()
                .find(|m| m.name.as_str() == config.checkpoint_metric)
                .map(|m| m.value)
                .ok_or_else(|| {
                    anyhow!(
                        "checkpoint metric '{}' not found in eval metrics (have: {})",
                        config.checkpoint_metric,
                        eval_metrics
                            .iter()
                            .map(|m| m.name.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let dir = self.save_checkpoint(epoch, seed, opt_step, &config_json, &record)?;
            last = Some(dir.clone());
            let better = match &best {
                None => true,
                Some((_, b)) => {
                    (config.minimize_checkpoint_metric && value < *b)
                        || (!config.minimize_checkpoint_metric && value > *b)
                }
            };
            if better {
                if let Some((old, _)) = best.take() {
                    std::fs::remove_dir_all(&old).ok();
                }
                best = Some((dir, value));
            }
        }
        self.callbacks.train_end();
        Ok(TrainOutcome {
            history,
            best_checkpoint: best.map(|(p, _)| p),
            last_checkpoint: last,
        })
    }

    fn train_epoch(
        &mut self,
        train: &[Features],
        order: &[usize],
        epoch: u32,
        scheduler: &mut LrScheduler,
        opt_step: &mut u64,
    ) -> anyhow::Result<Vec<Metric>> {
        let bs = self.config.batch_size;
        let acc = self.config.gradient_accumulation_steps;
        let nb_batches = order.len().div_ceil(bs) as u64;
        let with_metrics = self.config.do_metrics_in_training && self.metrics.is_some();
        let mut total = 0.0;
        for (step, chunk) in order.chunks(bs).enumerate() {
            let step = step as u64;
            self.callbacks.step_begin(step, nb_batches, Phase::Train);
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
            if (step + 1) % acc as u64 == 0 || step + 1 == nb_batches {
                if let Some(lr) = scheduler.on_optimizer_step(*opt_step) {
                    rerr(self.trainable.set_learning_rate(lr))?;
                }
                rerr(self.trainable.optimizer_step())?;
                *opt_step += 1;
            }
            total += out.loss;
            if with_metrics {
                let m = self.metrics.as_mut().expect("checked");
                rerr(m.prepare_batch(out.references, out.predictions))?;
            }
            self.callbacks
                .step_end(step, nb_batches, Phase::Train, total / (step + 1) as f64);
        }
        let mut metrics = vec![Metric::new("loss", total / nb_batches.max(1) as f64)];
        if with_metrics {
            let m = self.metrics.as_mut().expect("checked");
            metrics.extend(rerr(m.compute())?.into_iter());
        }
        Ok(metrics)
    }

    /// Loss and metrics of the trainable on `eval` (no gradients).
    pub fn eval_epoch(&mut self, eval: &[Features]) -> anyhow::Result<Vec<Metric>> {
        let bs = self.config.batch_size;
        let nb_batches = eval.len().div_ceil(bs) as u64;
        let mut total = 0.0;
        for (step, chunk) in eval.chunks(bs).enumerate() {
            let step = step as u64;
            self.callbacks.step_begin(step, nb_batches, Phase::Eval);
            let out = rerr(self.trainable.eval_step(RVec::from(chunk.to_vec())))
                .with_context(|| format!("evaluation step {step}"))?;
            total += out.loss;
            if let Some(m) = self.metrics.as_mut() {
                rerr(m.prepare_batch(out.references, out.predictions))?;
            }
            self.callbacks
                .step_end(step, nb_batches, Phase::Eval, total / (step + 1) as f64);
        }
        let mut metrics = vec![Metric::new("loss", total / nb_batches.max(1) as f64)];
        if let Some(m) = self.metrics.as_mut() {
            metrics.extend(rerr(m.compute())?.into_iter());
        }
        Ok(metrics)
    }

    fn save_checkpoint(
        &mut self,
        epoch: u32,
        seed: u64,
        opt_step: u64,
        config_json: &Value,
        record: &Value,
    ) -> anyhow::Result<PathBuf> {
        let name = checkpoint::checkpoint_name(epoch);
        let shown = self.config.output_dir.join(&name);
        self.callbacks.save(&shown.display().to_string());
        let trainable = &mut self.trainable;
        write_atomically(&self.config.output_dir, &name, |tmp| {
            let dir = tmp.display().to_string();
            rerr(trainable.save(RStr::from_str(&dir))).context("saving the model")?;
            rerr(trainable.save_state(RStr::from_str(&dir)))
                .context("saving the optimizer state")?;
            let state = json!({"epoch": epoch, "seed": seed, "optimizer_steps": opt_step});
            write_json_atomically(&tmp.join(checkpoint::STATE_NAME), &state)?;
            write_json_atomically(&tmp.join(checkpoint::CONFIG_NAME), config_json)?;
            write_json_atomically(&tmp.join(checkpoint::METRICS_NAME), record)?;
            Ok(())
        })
    }
}
