//! Fan-out of trainer events to the callback operations. A failing or panicking callback is
//! reported (once per callback and event kind) and training goes on.

use abi_stable::std_types::RStr;
use medkit_sdk::{EpochMetrics, Phase, TrainerCallbackBox};
use std::collections::HashSet;

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

    fn each(
        &mut self,
        event: &'static str,
        mut f: impl FnMut(
            &mut TrainerCallbackBox,
        ) -> abi_stable::std_types::RResult<(), abi_stable::std_types::RString>,
    ) {
        for (i, (name, cb)) in self.items.iter_mut().enumerate() {
            if let Err(e) = f(cb).into_result() {
                if self.reported.insert((i, event)) {
                    log::error!("callback '{name}' failed in {event}: {e} (training goes on)");
                }
            }
        }
    }

    pub fn train_begin(&mut self, config_json: &str) {
        self.each("on_train_begin", |c| {
            c.on_train_begin(RStr::from_str(config_json))
        });
    }
    pub fn train_end(&mut self) {
        self.each("on_train_end", |c| c.on_train_end());
    }
    pub fn epoch_begin(&mut self, epoch: u32) {
        self.each("on_epoch_begin", |c| c.on_epoch_begin(epoch));
    }
    pub fn epoch_end(&mut self, metrics: &EpochMetrics, epoch: u32, duration_s: f64) {
        self.each("on_epoch_end", |c| {
            c.on_epoch_end(metrics, epoch, duration_s)
        });
    }
    pub fn step_begin(&mut self, step: u64, nb_batches: u64, phase: Phase) {
        self.each("on_step_begin", |c| {
            c.on_step_begin(step, nb_batches, phase)
        });
    }
    pub fn step_end(&mut self, step: u64, nb_batches: u64, phase: Phase, loss: f64) {
        self.each("on_step_end", |c| {
            c.on_step_end(step, nb_batches, phase, loss)
        });
    }
    pub fn save(&mut self, dir: &str) {
        self.each("on_save", |c| c.on_save(RStr::from_str(dir)));
    }
}
