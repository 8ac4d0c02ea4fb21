//! BRAT standoff (.txt + .ann): import as medkit's `BratInputConverter().load(dir)`, export as
//! `BratOutputConverter()` (entities, attributes, notes, relations, annotation.conf).

mod parse;
mod read;
mod write;

pub use read::{load_doc, load_doc_with, read_dir, read_dir_with};
pub use write::write_dir;
