//! Checkpoints: `checkpoint_<epoch:03>_<UTC timestamp>` directories, written to a hidden temporary
//! directory, fsynced, then renamed, so a crash never leaves a partial checkpoint visible.

use anyhow::{anyhow, Context as _};
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
    let result = fill(&tmp).and_then(|()| fsync_tree(&tmp));
    if let Err(e) = result {
        std::fs::remove_dir_all(&tmp).ok();
        return Err(e.context(format!("writing checkpoint {}", dest.display())));
    }
    if dest.exists() {
        return Err(anyhow!("checkpoint {} already exists", dest.display()));
    }
    std::fs::rename(&tmp, &dest)
        .with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
    fsync_dir(output_dir);
    Ok(dest)
}

fn fsync_tree(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fsync_tree(&path)?;
        } else {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("syncing {}", path.display()))?;
        }
    }
    fsync_dir(dir);
    Ok(())
}

fn fsync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Writes `value` as pretty JSON to `path` atomically (temp file + fsync + rename).
pub fn write_json_atomically(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    serde_json::to_writer_pretty(&mut tmp, value)?;
    tmp.as_file().sync_all()?;
    // NamedTempFile creates 0600; these files are ordinary outputs.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path)
        .map_err(|e| anyhow!("writing {}: {}", path.display(), e.error))?;
    Ok(())
}
