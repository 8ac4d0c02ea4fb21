//! The runtime a checkpoint was trained on, written by the trainable's `save` as the SDK's
//! `runtime.json`: libtorch's version, read from the install folder of the libtorch loaded in
//! this process (on Linux, through /proc/self/maps), else the one linked at build time.

use crate::libtorch_version::version_in;
use std::path::Path;

/// The libtorch linked at build time (build.rs).
const BUILT_WITH: &str = env!("MEDKIT_LIBTORCH_VERSION");

/// libtorch's version, e.g. `2.11.0+cu130`.
pub fn libtorch_version() -> String {
    loaded_libtorch_root()
        .and_then(|root| version_in(&root))
        .unwrap_or_else(|| BUILT_WITH.to_string())
}

/// The install folder of the libtorch_cpu library mapped into this process.
fn loaded_libtorch_root() -> Option<std::path::PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let lib = maps.lines().find_map(|line| {
        let path = line.split_whitespace().nth(5)?;
        let name = Path::new(path).file_name()?.to_str()?;
        name.starts_with("libtorch_cpu.").then_some(path)
    })?;
    Some(Path::new(lib).parent()?.parent()?.to_path_buf())
}

/// Writes `dir/runtime.json` (see `medkit_sdk::write_runtime`).
pub fn write(dir: &str) -> Result<(), String> {
    medkit_sdk::write_runtime(dir, &[("libtorch", &libtorch_version())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_install_layouts_and_the_loaded_library() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(version_in(tmp.path()), None);
        std::fs::write(
            tmp.path().join("version.py"),
            "__all__ = ['__version__']\n__version__ = '2.11.0+cpu'\ncuda = None\n",
        )
        .unwrap();
        assert_eq!(version_in(tmp.path()).as_deref(), Some("2.11.0+cpu"));
        std::fs::write(tmp.path().join("build-version"), "2.9.1+cu128\n").unwrap();
        assert_eq!(version_in(tmp.path()).as_deref(), Some("2.9.1+cu128"));
        // The test binary links libtorch: its version is known, not "unknown".
        let _ = tch::Tensor::zeros([1], (tch::Kind::Float, tch::Device::Cpu));
        let v = libtorch_version();
        assert!(v.chars().next().is_some_and(|c| c.is_ascii_digit()), "{v}");
        assert_eq!(v.split('+').next(), BUILT_WITH.split('+').next());
    }
}
