//! Tagging-scheme conversions (IOB2, BILOU, IOBES, IO) as a plain Rust library. The
//! `medkit-plugin-tagging` plugin wraps them as operations; plugins that convert tags themselves
//! (the HF entity matcher) link this crate, never the plugin: a plugin's rlib carries its
//! exported root module, and a second plugin linking it would export two.

mod convert;
mod scheme;

pub use convert::{align_labels, entities_to_tags, tags_to_entities, SPECIAL_TAG_ID};
pub use scheme::{Scheme, TaggingError};
