//! The trainer loop, in the style of burn-train: the loop (`fit`) runs epochs (`epoch`), emits
//! events as values (`events`) that callback operations consume, writes and keeps checkpoints
//! (`checkpointer`, `checkpoint`) whose `trainer_state.json` (`state`) is what resuming reads,
//! with the output_dir's manifest of them (`manifest`) and each one's `provenance`.

pub mod checkpoint;
pub mod checkpointer;
pub mod config;
pub mod documents;
mod epoch;
pub mod events;
pub mod fit;
pub mod manifest;
pub mod optimizer;
pub mod provenance;
pub mod scheduler;
pub mod state;

pub use config::TrainerConfig;
pub use epoch::{merge_metrics, LOSS};
pub use events::{Callbacks, Event};
pub use fit::{EpochTiming, TrainOutcome, Trainer};
pub use optimizer::OptimizerSection;
pub use state::{ResumePoint, TrainerState};

#[cfg(test)]
mod tests;
