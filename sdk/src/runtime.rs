//! What a trainable tells a checkpoint about the runtime it ran on (libtorch's version, say):
//! plain data in a file of its own, [`RUNTIME_FILE`], that the host merges into the
//! checkpoint's `provenance.json`. The host knows no runtime library; this file is how such
//! plugin facts reach it.

use std::collections::BTreeMap;
use std::path::Path;

/// The file a trainable's `save` writes into the checkpoint directory.
pub const RUNTIME_FILE: &str = "runtime.json";

/// Writes `versions` (e.g. `[("libtorch", "2.11.0+cpu")]`) as a JSON object into
/// `dir/runtime.json`. Call it from [`Trainable::save`](crate::Trainable::save).
pub fn write_runtime(dir: &str, versions: &[(&str, &str)]) -> Result<(), String> {
    let map: BTreeMap<&str, &str> = versions.iter().copied().collect();
    let path = Path::new(dir).join(RUNTIME_FILE);
    let text = serde_json::to_string_pretty(&map).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The versions a `runtime.json` in `dir` holds (None when there is none; an error naming the
/// file when it is not a JSON object of strings).
pub fn read_runtime(dir: &Path) -> Result<Option<BTreeMap<String, String>>, String> {
    let path = dir.join(RUNTIME_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_a_bad_file() {
        let tmp = std::env::temp_dir().join(format!("medkit-runtime-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        assert_eq!(read_runtime(&tmp).unwrap(), None);
        write_runtime(tmp.to_str().unwrap(), &[("libtorch", "2.11.0+cpu")]).unwrap();
        let read = read_runtime(&tmp).unwrap().unwrap();
        assert_eq!(read["libtorch"], "2.11.0+cpu");
        std::fs::write(tmp.join(RUNTIME_FILE), "[1]").unwrap();
        let e = read_runtime(&tmp).unwrap_err();
        assert!(e.contains("runtime.json"), "{e}");
        std::fs::remove_dir_all(&tmp).ok();
    }
}
