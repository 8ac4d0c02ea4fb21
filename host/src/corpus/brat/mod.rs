//! BRAT standoff (.txt + .ann): import as medkit's `BratInputConverter().load(dir)`, export as
//! `BratOutputConverter()` (entities, attributes, notes, relations, annotation.conf).

mod parse;
mod read;
mod write;

pub use read::{load_doc, read_dir};
pub use write::write_dir;
