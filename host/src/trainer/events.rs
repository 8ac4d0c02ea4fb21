//! The trainer's events as values (burn-train style): the loop emits an [`Event`], the callback
//! operations consume it. A failing or panicking callback is reported (once per callback and
//! event kind) and training goes on.

use abi_stable::std_types::RStr;
use medkit_sdk::{EpochMetrics, Phase, TrainerCallbackBox};
use std::collections::HashSet;

/// What happened in the training loop, in medkit's TrainerCallback vocabulary.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The trainer config as a JSON object (with the seed, example counts and device).
    TrainBegin {
        config_json: &'a str,
    },
    EpochBegin {
        epoch: u32,
    },
    StepBegin {
        step: u64,
        nb_batches: u64,
        phase: Phase,
    },
    /// `loss`: the running mean loss of the phase so far.
    StepEnd {
        step: u64,
        nb_batches: u64,
        phase: Phase,
        loss: f64,
    },
    EpochEnd {
        metrics: &'a EpochMetrics,
        epoch: u32,
        duration_s: f64,
    },
    /// A checkpoint is about to be written to `dir`.
    Save {
        dir: &'a str,
    },
    TrainEnd,
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Event::TrainBegin { .. } => "on_train_begin",
            Event::EpochBegin { .. } => "on_epoch_begin",
            Event::StepBegin { .. } => "on_step_begin",
            Event::StepEnd { .. } => "on_step_end",
            Event::EpochEnd { .. } => "on_epoch_end",
            Event::Save { .. } => "on_save",
            Event::TrainEnd => "on_train_end",
        }
    }
}

/// The callback operations, in order.
pub struct Callbacks {
    items: Vec<(String, TrainerCallbackBox)>,
    reported: HashSet<(usize, &'static str)>,
}

impl Callbacks {
    pub fn new(items: Vec<(String, TrainerCallbackBox)>) -> Self {
        Self {
            items,
            reported: HashSet::new(),
        }
    }

    /// Hands `event` to every callback.
    pub fn emit(&mut self, event: Event<'_>) {
        for (i, (name, cb)) in self.items.iter_mut().enumerate() {
            let result = match event {
                Event::TrainBegin { config_json } => cb.on_train_begin(RStr::from_str(config_json)),
                Event::EpochBegin { epoch } => cb.on_epoch_begin(epoch),
                Event::StepBegin {
                    step,
                    nb_batches,
                    phase,
                } => cb.on_step_begin(step, nb_batches, phase),
                Event::StepEnd {
                    step,
                    nb_batches,
                    phase,
                    loss,
                } => cb.on_step_end(step, nb_batches, phase, loss),
                Event::EpochEnd {
                    metrics,
                    epoch,
                    duration_s,
                } => cb.on_epoch_end(metrics, epoch, duration_s),
                Event::Save { dir } => cb.on_save(RStr::from_str(dir)),
                Event::TrainEnd => cb.on_train_end(),
            };
            if let Err(e) = result.into_result() {
                if self.reported.insert((i, event.name())) {
                    log::error!(
                        "callback '{name}' failed in {}: {e} (training goes on)",
                        event.name()
                    );
                }
            }
        }
    }
}
