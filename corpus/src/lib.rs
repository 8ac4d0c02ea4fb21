//! medkit document formats: medkit JSONL, BRAT, CoNLL; overlap filtering; sentence splitting;
//! atomic file writing ([`io`]).

pub mod brat;
pub mod checks;
pub mod conll;
pub mod invalid;
pub mod io;
pub mod medkit_json;
pub mod overlaps;
pub mod pyjson;
pub mod pyvalue;
pub mod split;
mod uid;

pub use invalid::{InvalidAnnotations, OnError};
pub use uid::new_uid;

use std::path::{Path, PathBuf};

/// Every corpus error names the file and, where there is one, the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {msg}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        msg: String,
    },
    #[error("{}: {msg}", path.display())]
    File { path: PathBuf, msg: String },
    /// A document that cannot be written (e.g. metadata that is not JSON); no file yet.
    #[error("{0}")]
    Data(String),
}

impl CorpusError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        CorpusError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn line(path: &Path, line: usize, msg: impl Into<String>) -> Self {
        CorpusError::Line {
            path: path.to_path_buf(),
            line,
            msg: msg.into(),
        }
    }
    pub(crate) fn file(path: &Path, msg: impl Into<String>) -> Self {
        CorpusError::File {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }
}
