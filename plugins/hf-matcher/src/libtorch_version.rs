//! libtorch's version from its install folder: `build-version` (the libtorch archives) or
//! torch's `version.py` (a pip-installed torch). Shared by build.rs (the libtorch linked
//! against) and `runtime` (the one loaded).

use std::path::Path;

/// The version of the libtorch installed at `root` (the folder holding `lib/`), if it says.
pub fn version_in(root: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(root.join("build-version")) {
        let v = text.trim();
        if !v.is_empty() {
            return Some(v.to_string());
        }
    }
    let text = std::fs::read_to_string(root.join("version.py")).ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("__version__")?.trim_start();
        let value = rest.strip_prefix('=')?.trim();
        let v = value.trim_matches(|c| c == '\'' || c == '"');
        (!v.is_empty()).then(|| v.to_string())
    })
}
