//! The epoch runner: one train phase (steps, gradient accumulation, lr schedule, interruption at
//! a step boundary) and one eval phase, each ending with the loss and the metrics computers'
//! values, computed on whole documents (a document's examples gathered back into one sequence).

use super::documents::{Examples, Gatherer, Sequences};
use super::events::Event;
use super::fit::{rerr, Trainer};
use super::scheduler::LrScheduler;
use abi_stable::std_types::RVec;
use anyhow::{bail, Context as _};
use medkit_sdk::{derive_seed, Features, Metric, Phase};
use std::sync::atomic::Ordering;

/// The name of the trainer's own loss in the history; no metrics computer can take it.
pub const LOSS: &str = "loss";

/// How a train phase ended.
pub enum EpochEnd {
    Done(Vec<Metric>),
    /// Stopped at a step boundary (interrupt): the step to resume at and the loss sum so far.
    Interrupted {
        next_step: u64,
        loss_sum: f64,
    },
}

/// Where a train phase starts and what it carries over.
pub struct TrainPhase<'a> {
    pub examples: &'a Examples,
    /// Example indices in this epoch's shuffled order.
    pub order: &'a [usize],
    pub epoch: u32,
    pub seed: u64,
    /// The first step to run and the sum of the losses of the steps before it (resume).
    pub from: (u64, f64),
}

/// The trainable's seed for `step` of `epoch`: every step boundary is an exact resume point
/// (dropout masks replay).
fn step_seed(seed: u64, epoch: u32, step: u64) -> u64 {
    derive_seed(seed, ((epoch as u64) << 32) | step)
}

impl Trainer {
    pub(super) fn train_epoch(
        &mut self,
        phase: TrainPhase<'_>,
        scheduler: &mut LrScheduler,
        opt_step: &mut u64,
    ) -> anyhow::Result<EpochEnd> {
        let TrainPhase {
            examples,
            order,
            epoch,
            seed,
            from: (first_step, loss_sum),
        } = phase;
        let bs = self.config.batch_size;
        let acc = self.config.gradient_accumulation_steps as u64;
        let nb_batches = order.len().div_ceil(bs) as u64;
        let with_metrics = self.config.do_metrics_in_training && !self.metrics.is_empty();
        if with_metrics {
            self.reset_metrics()?;
        }
        // Shuffled examples: a document reaches the metrics once all its examples have run.
        let mut gatherer = Gatherer::new(examples);
        let mut total = loss_sum;
        for (step, chunk) in order.chunks(bs).enumerate().skip(first_step as usize) {
            let step = step as u64;
            self.callbacks.emit(Event::StepBegin {
                step,
                nb_batches,
                phase: Phase::Train,
            });
            rerr(self.trainable.set_seed(step_seed(seed, epoch, step)))?;
            let batch: RVec<Features> = chunk
                .iter()
                .map(|&i| examples.features[i].clone())
                .collect();
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
                let documents = gatherer
                    .add(chunk, out.references, out.predictions)
                    .with_context(|| format!("training step {step} of epoch {epoch}"))?;
                self.prepare_metrics(documents)?;
            }
            self.callbacks.emit(Event::StepEnd {
                step,
                nb_batches,
                phase: Phase::Train,
                loss: total / (step + 1) as f64,
            });
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
            self.prepare_metrics(gatherer.finish())?;
            self.compute_metrics(loss)?
        } else {
            vec![loss]
        };
        Ok(EpochEnd::Done(metrics))
    }

    /// Loss (the mean of the batch means) and metrics (on whole documents) of the trainable on
    /// `eval` (no gradients).
    pub fn eval_epoch(&mut self, eval: &Examples) -> anyhow::Result<Vec<Metric>> {
        let bs = self.config.batch_size;
        let nb_batches = eval.len().div_ceil(bs) as u64;
        let mut total = 0.0;
        self.reset_metrics()?;
        let mut gatherer = Gatherer::new(eval);
        let indices: Vec<usize> = (0..eval.len()).collect();
        for (step, (chunk, ids)) in eval.features.chunks(bs).zip(indices.chunks(bs)).enumerate() {
            let step = step as u64;
            self.callbacks.emit(Event::StepBegin {
                step,
                nb_batches,
                phase: Phase::Eval,
            });
            let out = rerr(self.trainable.eval_step(RVec::from(chunk.to_vec())))
                .with_context(|| format!("evaluation step {step}"))?;
            total += out.loss;
            if !self.metrics.is_empty() {
                let documents = gatherer
                    .add(ids, out.references, out.predictions)
                    .with_context(|| format!("evaluation step {step}"))?;
                self.prepare_metrics(documents)?;
            }
            self.callbacks.emit(Event::StepEnd {
                step,
                nb_batches,
                phase: Phase::Eval,
                loss: total / (step + 1) as f64,
            });
        }
        self.prepare_metrics(gatherer.finish())?;
        self.compute_metrics(Metric::loss(LOSS, total / nb_batches.max(1) as f64))
    }

    fn reset_metrics(&mut self) -> anyhow::Result<()> {
        for (name, m) in self.metrics.iter_mut() {
            rerr(m.reset()).with_context(|| format!("metrics computer '{name}': reset"))?;
        }
        Ok(())
    }

    /// Hands whole documents to every computer (none: nothing to hand).
    fn prepare_metrics(&mut self, documents: Sequences) -> anyhow::Result<()> {
        let (mut references, mut predictions) = documents;
        if references.is_empty() {
            return Ok(());
        }
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
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_names_take_their_operation_and_the_loss_stays_the_trainers() {
        let m = |n: &str| Metric::new(n, 1.0);
        let merged = merge_metrics(
            Metric::loss(LOSS, 0.5),
            vec![
                (
                    "a".into(),
                    vec![m("accuracy"), m("f1"), Metric::loss("loss", 2.0)],
                ),
                ("b".into(), vec![m("accuracy"), m("support")]),
            ],
        );
        let names: Vec<&str> = merged.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "loss",
                "a.accuracy",
                "f1",
                "a.loss",
                "b.accuracy",
                "support"
            ]
        );
        assert_eq!(merged[0].value, 0.5);
    }
}
