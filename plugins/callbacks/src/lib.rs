//! Trainer callbacks: `default-printer` (medkit's DefaultPrinterCallback), `history-jsonl`
//! (one JSON line per epoch) and `plot` (history.svg).

mod common;
mod history;
mod plot;
mod printer;
mod svg;

pub use common::{CallbackError, TrainerInfo};
pub use history::HistoryJsonl;
pub use plot::Plot;
pub use printer::DefaultPrinter;

medkit_sdk::register_operation! {
    kind: callback, name: "default-printer",
    description: "medkit's DefaultPrinterCallback: training summary, per-epoch metrics, checkpoints, progress",
    config_example: "log_step_interval = 50   # log lines every N steps when stderr is not a terminal\nprogress_bar = true",
    default: true,
    validate: |c: &str| DefaultPrinter::from_config(c).map(|_| c.to_string()).map_err(|e| e.to_string()),
    create: |c: &str| DefaultPrinter::from_config(c).map_err(|e| e.to_string()),
}
medkit_sdk::register_operation! {
    kind: callback, name: "history-jsonl",
    description: "appends one JSON line per epoch (epoch, duration, train/eval metrics) to a file",
    config_example: "output_dir = \"runs/ner\"   # default: the trainer's output_dir\nfile = \"history.jsonl\"",
    output_keys: ["output_dir"],
    validate: |c: &str| HistoryJsonl::from_config(c).map(|_| c.to_string()).map_err(|e| e.to_string()),
    create: |c: &str| HistoryJsonl::from_config(c).map_err(|e| e.to_string()),
}
medkit_sdk::register_operation! {
    kind: callback, name: "plot",
    description: "writes history.svg (losses and precision/recall/F1 per epoch) after each epoch",
    config_example: "output_dir = \"runs/ner\"   # default: the trainer's output_dir\nmetrics = [\"overall_precision\", \"overall_recall\", \"overall_f1-score\"]",
    output_keys: ["output_dir"],
    validate: |c: &str| Plot::from_config(c).map(|_| c.to_string()).map_err(|e| e.to_string()),
    create: |c: &str| Plot::from_config(c).map_err(|e| e.to_string()),
}

medkit_sdk::export_plugin!();
