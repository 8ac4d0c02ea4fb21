//! seqeval metrics (exact port of Python seqeval 1.2.2) as medkit-rs operations

medkit_sdk::export_plugin!();
