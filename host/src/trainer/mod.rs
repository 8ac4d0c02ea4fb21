//! The trainer loop. In the style of burn-train: the loop emits events (`events`), callback
//! operations consume them; metrics come from a metrics-computer operation.

pub mod checkpoint;
pub mod config;
pub mod events;
pub mod fit;
pub mod scheduler;

pub use config::TrainerConfig;
pub use events::Callbacks;
pub use fit::{EpochTiming, ResumePoint, TrainOutcome, Trainer};

#[cfg(test)]
mod tests;
