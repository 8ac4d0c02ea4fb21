//! Atomic writing: a temp file in the target's folder, fsync, rename. Dropped unfinished, the temp
//! file is removed and the target is untouched.

use super::{document_to_json_line, HEADER};
use crate::corpus::CorpusError;
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
        let tmp = temp_beside(path)?;
        let mut w = DocumentWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, tmp),
            count: 0,
        };
        w.put(HEADER)?;
        Ok(w)
    }

    pub fn write(&mut self, doc: &TextDocument) -> Result<(), CorpusError> {
        let line = document_to_json_line(doc).map_err(|e| {
            CorpusError::file(
                &self.path,
                format!(
                    "document {} (uid {}): {e}",
                    self.count + 1,
                    doc.uid.as_str()
                ),
            )
        })?;
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
        persist(tmp, &path)
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

/// A temp file in the folder of `path`, so that the final rename stays on one filesystem.
pub(crate) fn temp_beside(path: &Path) -> Result<NamedTempFile, CorpusError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| CorpusError::io(path, e))
}

/// fsync + rename; the file gets ordinary permissions (temp files are created 0600).
pub(crate) fn persist(tmp: NamedTempFile, path: &Path) -> Result<(), CorpusError> {
    tmp.as_file()
        .sync_all()
        .map_err(|e| CorpusError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path)
        .map_err(|e| CorpusError::io(path, e.error))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // make the rename itself durable; not all platforms allow opening a folder
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
