//! Streamed reading: one document per `next()`, memory bounded by the longest line.

use super::decode::document_from_value;
use crate::pyvalue::{self, PyValue};
use crate::{CorpusError, InvalidAnnotations, OnError};
use medkit_sdk::data::TextDocument;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Iterator over the documents of a medkit JSONL file. After the first error it yields nothing more.
pub struct DocumentReader {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    buf: Vec<u8>,
    /// 64-bit hashes of the document uids seen so far (16 bytes a document, not the uids):
    /// medkit uids are unique; a repeat means a corrupt or merged file.
    seen: HashSet<u64>,
    done: bool,
    invalid: InvalidAnnotations,
}

/// Opens `path` and checks its header line; documents are read as the iterator advances. An
/// annotation that cannot be built is an error naming the file, line and annotation.
pub fn read_documents(path: &Path) -> Result<DocumentReader, CorpusError> {
    read_documents_with(path, InvalidAnnotations::default())
}

/// As [`read_documents`], annotations that cannot be built (a span outside the text, spans
/// whose length is not the text's, a relation to one of those) handed to `invalid`: an error,
/// or skipped with a warning and a count. A line that is not a document stays an error.
pub fn read_documents_with(
    path: &Path,
    invalid: InvalidAnnotations,
) -> Result<DocumentReader, CorpusError> {
    let file = File::open(path).map_err(|e| CorpusError::io(path, e))?;
    let mut r = DocumentReader {
        path: path.to_path_buf(),
        reader: BufReader::with_capacity(1 << 16, file),
        line: 0,
        buf: Vec::new(),
        seen: HashSet::new(),
        done: false,
        invalid,
    };
    let header = match r.next_line()? {
        // a BOM is no part of medkit's format; tolerate it rather than fail on the first byte
        Some((text, _)) => text.trim_start_matches('\u{feff}').to_string(),
        None => {
            return Err(CorpusError::file(
                path,
                "empty file: missing the medkit JSON header line",
            ))
        }
    };
    let v = pyvalue::parse(&header)
        .map_err(|e| r.err(format!("invalid header line (not JSON: {e})")))?;
    let version = v.get("version").and_then(PyValue::as_str);
    if version != Some("0.2") {
        return Err(r.err(format!(
            "unsupported medkit JSON version {} in header (expected \"0.2\")",
            v.get("version")
                .map_or_else(|| "null".into(), PyValue::to_json)
        )));
    }
    let ct = v.get("content_type").and_then(PyValue::as_str);
    if ct != Some("text_document_list") {
        return Err(r.err(format!(
            "header content_type is {}, expected \"text_document_list\"",
            v.get("content_type")
                .map_or_else(|| "null".into(), PyValue::to_json)
        )));
    }
    Ok(r)
}

impl DocumentReader {
    /// The 1-based line of the last document returned (0 before the first).
    pub fn line(&self) -> usize {
        self.line
    }

    fn err(&self, msg: impl Into<String>) -> CorpusError {
        CorpusError::line(&self.path, self.line, msg)
    }

    /// The next line as text (newline removed) and whether it ended with a newline.
    fn next_line(&mut self) -> Result<Option<(String, bool)>, CorpusError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| CorpusError::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let terminated = self.buf.last() == Some(&b'\n');
        if terminated {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        let bytes = std::mem::take(&mut self.buf);
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Some((s, terminated))),
            Err(e) => Err(self.err(format!(
                "invalid UTF-8 at byte {} of the line",
                e.utf8_error().valid_up_to()
            ))),
        }
    }

    fn next_doc(&mut self) -> Result<Option<TextDocument>, CorpusError> {
        loop {
            let Some((text, terminated)) = self.next_line()? else {
                return Ok(None);
            };
            if text.trim().is_empty() {
                continue;
            }
            let v = pyvalue::parse(&text).map_err(|e| {
                if terminated {
                    self.err(format!("invalid JSON: {e}"))
                } else {
                    self.err(format!(
                        "truncated last line (no newline at end of file, invalid JSON: {e})"
                    ))
                }
            })?;
            let skip = self.invalid.policy() == OnError::Skip;
            let (doc, invalid) = document_from_value(&v, skip).map_err(|m| self.err(m))?;
            for (id, why) in invalid {
                self.invalid.handle(&self.path, self.line, &id, why)?;
            }
            if !self.seen.insert(uid_hash(&doc.uid)) {
                return Err(self.err(format!("duplicate document uid {:?}", doc.uid.as_str())));
            }
            return Ok(Some(doc));
        }
    }
}

/// A fixed-key hash, so that a run is reproducible.
fn uid_hash(uid: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new(); // fixed zero keys
    uid.hash(&mut h);
    h.finish()
}

impl Iterator for DocumentReader {
    type Item = Result<TextDocument, CorpusError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_doc() {
            Ok(Some(d)) => Some(Ok(d)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
