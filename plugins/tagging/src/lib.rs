//! Tagging-scheme converters (IOB2, BILOU, IOBES, IO) as medkit-rs operations, and the same
//! conversions as a Rust API for plugins that link this crate (the HF entity matcher).

mod convert;
mod op;
mod scheme;

pub use convert::{align_labels, entities_to_tags, tags_to_entities, SPECIAL_TAG_ID};
pub use op::SchemeOp;
pub use scheme::{Scheme, TaggingError};

medkit_sdk::export_plugin!();
