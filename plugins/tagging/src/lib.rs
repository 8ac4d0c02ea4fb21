//! Tagging-scheme converters (IOB2, BILOU, …) as medkit-rs operations

medkit_sdk::export_plugin!();
