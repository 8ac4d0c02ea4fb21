//! Checkpoints: `checkpoint_<epoch:03>_<UTC timestamp>` directories, written to a hidden temporary
//! directory, fsynced, then renamed, so a crash never leaves a partial checkpoint visible.
//! Removing one (a former best, an interrupted one once resumed) renames it to a hidden
//! `.trash-` name first, so a crash while deleting never leaves a half-deleted one visible either.
//! A write error (disk full) removes the temporary directory and leaves the others untouched.

use anyhow::{anyhow, Context as _};
use medkit_corpus::io;
use std::path::{Path, PathBuf};

pub const CONFIG_NAME: &str = "trainer_config.json";
pub const STATE_NAME: &str = "trainer_state.json";
pub const METRICS_NAME: &str = "metrics.json";

pub fn checkpoint_name(epoch: u32) -> String {
    let ts = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    format!("checkpoint_{epoch:03}_{ts}")
}

/// Checkpoint directories already in `output_dir`, sorted by name (so by epoch).
pub fn existing_checkpoints(output_dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(output_dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("checkpoint_"))
        })
        .collect();
    v.sort();
    v
}

/// Creates `output_dir/<name>` by running `fill` on a temporary sibling, then renaming it.
pub fn write_atomically(
    output_dir: &Path,
    name: &str,
    fill: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<PathBuf> {
    let tmp = output_dir.join(format!(".tmp-{name}"));
    let dest = output_dir.join(name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).ok();
    }
    if dest.exists() {
        return Err(anyhow!("checkpoint {} already exists", dest.display()));
    }
    std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let result = fill(&tmp).and_then(|()| Ok(io::sync_tree(&tmp)?));
    if let Err(e) = result {
        std::fs::remove_dir_all(&tmp).ok();
        return Err(e.context(format!("writing checkpoint {}", dest.display())));
    }
    if dest.exists() {
        return Err(anyhow!("checkpoint {} already exists", dest.display()));
    }
    io::rename_durably(&tmp, &dest)
        .with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
    Ok(dest)
}

/// Removes the checkpoint `dir`: renamed to a hidden `.trash-<name>` sibling first (atomic), then
/// deleted, so it is never visible half-deleted.
pub fn remove_checkpoint(dir: &Path) -> anyhow::Result<()> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(anyhow!("{}: not a checkpoint directory", dir.display()));
    };
    let trash = parent.join(format!(".trash-{}", name.to_string_lossy()));
    if trash.exists() {
        std::fs::remove_dir_all(&trash).ok();
    }
    io::rename_durably(dir, &trash)
        .with_context(|| format!("removing checkpoint {}", dir.display()))?;
    std::fs::remove_dir_all(&trash).with_context(|| format!("removing {}", trash.display()))?;
    Ok(())
}

/// Removes what a killed run left hidden in `output_dir`: `.tmp-checkpoint_*` (a checkpoint being
/// written) and `.trash-checkpoint_*` (one being removed). Returns how many.
pub fn remove_leftovers(output_dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(output_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let leftover =
            name.starts_with(".tmp-checkpoint_") || name.starts_with(".trash-checkpoint_");
        if leftover && entry.path().is_dir() && std::fs::remove_dir_all(entry.path()).is_ok() {
            log::info!(
                "Removed {} (left by an interrupted run)",
                entry.path().display()
            );
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write error inside a checkpoint (here ENOSPC from the filler) removes the temporary
    /// directory, names the checkpoint and leaves the earlier checkpoint as it was.
    #[test]
    fn a_failed_write_keeps_the_previous_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let first = write_atomically(tmp.path(), "checkpoint_001_x", |d| {
            std::fs::write(d.join("model.safetensors"), b"weights 1")?;
            Ok(())
        })
        .unwrap();
        let err = write_atomically(tmp.path(), "checkpoint_002_x", |d| {
            std::fs::write(d.join("model.safetensors"), b"half")?;
            Err(std::io::Error::from_raw_os_error(28).into()) // ENOSPC
        })
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("writing checkpoint") && msg.contains("checkpoint_002_x"),
            "{msg}"
        );
        assert_eq!(existing_checkpoints(tmp.path()), vec![first.clone()]);
        assert_eq!(
            std::fs::read(first.join("model.safetensors")).unwrap(),
            b"weights 1"
        );
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn removal_goes_through_a_hidden_name_and_leftovers_are_cleaned() {
        let tmp = tempfile::tempdir().unwrap();
        let a = write_atomically(tmp.path(), "checkpoint_001_x", |_| Ok(())).unwrap();
        remove_checkpoint(&a).unwrap();
        assert!(existing_checkpoints(tmp.path()).is_empty());
        // What a killed run leaves: a checkpoint being written, one being removed.
        std::fs::create_dir(tmp.path().join(".tmp-checkpoint_002_x")).unwrap();
        std::fs::create_dir(tmp.path().join(".trash-checkpoint_001_x")).unwrap();
        std::fs::write(tmp.path().join("history.json"), "[]").unwrap();
        assert_eq!(remove_leftovers(tmp.path()), 2);
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["history.json"]);
    }
}
