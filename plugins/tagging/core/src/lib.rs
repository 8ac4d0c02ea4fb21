//! The tagging-scheme conversions of the `medkit-plugin-tagging` plugin, compiled as a plain
//! library. Why a second crate over the same source files: a plugin's `cdylib + rlib` is one
//! compilation, so its rlib carries the plugin's exported root-module symbol, and a plugin that
//! linked it would export two root modules (a duplicate-symbol link error).

#[path = "../../src/convert.rs"]
mod convert;
#[path = "../../src/scheme.rs"]
mod scheme;

pub use convert::{align_labels, entities_to_tags, tags_to_entities, SPECIAL_TAG_ID};
pub use scheme::{Scheme, TaggingError};
