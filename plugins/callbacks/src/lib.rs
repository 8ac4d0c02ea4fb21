//! Trainer callbacks: default printer, JSONL history, plots

medkit_sdk::export_plugin!();
