//! medkit JSONL written atomically (see [`crate::io`]): dropped unfinished, the temp file is
//! removed and the target is untouched.

use super::{document_to_json_line, HEADER};
use crate::{io, CorpusError};
use medkit_sdk::data::TextDocument;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

pub struct DocumentWriter {
    path: PathBuf,
    out: BufWriter<NamedTempFile>,
    count: usize,
}

impl DocumentWriter {
    /// Starts writing `path` (created or replaced only by `finish`).
    pub fn create(path: &Path) -> Result<Self, CorpusError> {
        let tmp = io::temp_beside(path).map_err(|e| CorpusError::io(path, e))?;
        let mut w = DocumentWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, tmp),
            count: 0,
        };
        w.put(HEADER)?;
        Ok(w)
    }

    pub fn write(&mut self, doc: &TextDocument) -> Result<(), CorpusError> {
        let line = encode_line(&self.path, self.count, doc)?;
        self.put(&line)?;
        self.count += 1;
        Ok(())
    }

    /// Documents written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Flushes, fsyncs and renames the temp file onto the target path.
    pub fn finish(self) -> Result<(), CorpusError> {
        let path = self.path;
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| CorpusError::io(&path, e.into_error()))?;
        io::persist(tmp, &path).map_err(|e| CorpusError::io(&path, e))
    }

    fn put(&mut self, line: &str) -> Result<(), CorpusError> {
        self.out
            .write_all(line.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|e| CorpusError::io(&self.path, e))
    }
}

/// Writes all `docs` to `path` atomically; returns how many were written.
pub fn write_documents<'a>(
    path: &Path,
    docs: impl IntoIterator<Item = &'a TextDocument>,
) -> Result<usize, CorpusError> {
    let mut w = DocumentWriter::create(path)?;
    for d in docs {
        w.write(d)?;
    }
    let n = w.count();
    w.finish()?;
    Ok(n)
}

/// Streamed writing for long runs (`medkit annotate`): lines go to `<path>.partial` in whole
/// lines only — documents are serialised into a memory buffer and handed to the file in one
/// `write` of complete lines at each [`flush_lines`](Self::flush_lines) (batch boundary) or when
/// the buffer passes 1 MiB, never a half line. `finish` fsyncs and renames `.partial` onto `path`,
/// so `path` is either the previous file or the complete new one. A run killed midway leaves
/// `<path>.partial` holding the header and the documents annotated so far, as valid medkit JSONL.
pub struct StreamingDocumentWriter {
    path: PathBuf,
    partial: PathBuf,
    file: Option<std::fs::File>,
    buf: Vec<u8>,
    count: usize,
    /// Bytes of whole lines in the file.
    written: u64,
}

const STREAM_BUFFER: usize = 1 << 20;

/// `<path>.partial`, where [`StreamingDocumentWriter`] writes until it finishes.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

impl StreamingDocumentWriter {
    /// Starts `<path>.partial` (replacing one left by an earlier killed run) with the header line.
    pub fn create(path: &Path) -> Result<Self, CorpusError> {
        if path.file_name().is_none() || path.is_dir() {
            return Err(CorpusError::file(path, "the output must be a file path"));
        }
        let partial = partial_path(path);
        let file = std::fs::File::create(&partial).map_err(|e| CorpusError::io(&partial, e))?;
        let mut w = StreamingDocumentWriter {
            path: path.to_path_buf(),
            partial,
            file: Some(file),
            buf: Vec::with_capacity(STREAM_BUFFER),
            count: 0,
            written: 0,
        };
        w.buf.extend_from_slice(HEADER.as_bytes());
        w.buf.push(b'\n');
        w.flush_lines()?;
        Ok(w)
    }

    /// Queues one document line; whole lines reach the file at the next flush.
    pub fn write(&mut self, doc: &TextDocument) -> Result<(), CorpusError> {
        let line = encode_line(&self.path, self.count, doc)?;
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        self.count += 1;
        if self.buf.len() >= STREAM_BUFFER {
            self.flush_lines()?;
        }
        Ok(())
    }

    /// Hands the queued whole lines to the file in one `write_all`. A failed write (disk full)
    /// is cut back to the last whole line, so the file never ends inside a line.
    pub fn flush_lines(&mut self) -> Result<(), CorpusError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let file = self.file.as_mut().expect("open until finish/abandon");
        if let Err(e) = file.write_all(&self.buf) {
            let _ = file.set_len(self.written);
            use std::io::Seek;
            let _ = file.seek(std::io::SeekFrom::Start(self.written));
            return Err(CorpusError::io(&self.partial, e));
        }
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Documents written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Where the lines go until `finish`.
    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// Flushes, fsyncs and renames `.partial` onto the target path.
    pub fn finish(mut self) -> Result<(), CorpusError> {
        self.flush_lines()?;
        let file = self.file.take().expect("open until finish/abandon");
        file.sync_all()
            .map_err(|e| CorpusError::io(&self.partial, e))?;
        drop(file);
        io::rename_durably(&self.partial, &self.path).map_err(|e| CorpusError::io(&self.path, e))
    }

    /// Stops after an error: the whole lines written so far stay in `.partial` (returned) when
    /// it holds at least one document; one holding only the header is removed.
    pub fn abandon(mut self) -> Option<PathBuf> {
        let _ = self.flush_lines();
        let file = self.file.take()?;
        let _ = file.sync_all();
        drop(file);
        if self.written <= HEADER.len() as u64 + 1 {
            let _ = std::fs::remove_file(&self.partial);
            return None;
        }
        Some(self.partial.clone())
    }
}

/// A document's JSON line; an error names the file, the document's position and its uid.
fn encode_line(path: &Path, written: usize, doc: &TextDocument) -> Result<String, CorpusError> {
    document_to_json_line(doc).map_err(|e| {
        CorpusError::file(
            path,
            format!("document {} (uid {}): {e}", written + 1, doc.uid.as_str()),
        )
    })
}
