//! Atomic file writing: a file or folder is written under a temporary name beside its target,
//! fsynced, then renamed onto it (and the rename made durable), so a reader or a crash sees the
//! previous version or the complete new one, never a part. Used by the document writers here and
//! by the host (trainer checkpoints and state, metrics and timings files).

use std::io;
use std::path::Path;
use tempfile::NamedTempFile;

/// A temp file `.<name>.XXXXXX.tmp` in the folder of `path`, so that the final rename stays on one
/// filesystem. Dropped before [`persist`], it is removed.
pub fn temp_beside(path: &Path) -> io::Result<NamedTempFile> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(parent_or_dot(path))
}

/// fsync + rename onto `path` + fsync of its folder; the file gets ordinary permissions (temp
/// files are created 0600).
pub fn persist(tmp: NamedTempFile, path: &Path) -> io::Result<()> {
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| e.error)?;
    sync_parent(path);
    Ok(())
}

/// Writes `value` as pretty JSON to `path` atomically (temp file, fsync, rename); an error names
/// `path`.
pub fn write_json(path: &Path, value: &serde_json::Value) -> io::Result<()> {
    let written = temp_beside(path).and_then(|mut tmp| {
        serde_json::to_writer_pretty(&mut tmp, value)?;
        persist(tmp, path)
    });
    written.map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// Renames `from` (a file already fsynced, or a folder already passed to [`sync_tree`]) onto
/// `to`, then fsyncs the folder of `to` so that the rename itself is durable.
pub fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_parent(to);
    Ok(())
}

/// fsyncs every file under `dir`, then each folder; an error names the file.
pub fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| {
                    io::Error::new(e.kind(), format!("syncing {}: {e}", path.display()))
                })?;
        }
    }
    sync_dir(dir);
    Ok(())
}

/// fsyncs the folder `dir` (making renames in it durable); best effort, since not every platform
/// allows opening a folder.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(dir);
    }
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_json_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        std::fs::write(&p, "old").unwrap();
        write_json(&p, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\n  \"a\": 1\n}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["m.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn a_write_error_names_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing/m.json");
        let e = write_json(&p, &serde_json::json!(1)).unwrap_err();
        assert!(e.to_string().starts_with("writing "), "{e}");
        assert!(e.to_string().contains("missing/m.json"), "{e}");
    }
}
