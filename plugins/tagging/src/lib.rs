//! Tagging-scheme converters (IOB2, BILOU, IOBES, IO) as medkit-rs operations. The conversions
//! themselves live in `medkit-tagging` (`core/`), the crate other plugins link.

mod op;

pub use op::SchemeOp;

medkit_sdk::export_plugin!();
