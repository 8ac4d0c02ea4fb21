//! Finding and loading plugin libraries. Each file is loaded on its own with abi_stable's
//! `lib_header_from_path` (its `load_from_directory` keeps one library per root-module type).
//! Libraries are never unloaded.

use super::logging::{log_sink, max_level};
use abi_stable::library::{lib_header_from_path, LibraryError, RootModule};
use medkit_sdk::{PluginInfo, PluginModRef};
use std::path::{Path, PathBuf};

/// A plugin library that loaded and described itself.
pub struct LoadedPlugin {
    pub path: PathBuf,
    pub info: PluginInfo,
    pub module: PluginModRef,
}

/// A library file that could not be used, and why.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The plugin search path, in order: `--plugin-dir` flags, `MEDKIT_PLUGIN_PATH`, the pipeline's
/// `[plugins] dirs`, then the directory of the running binary. Duplicates are dropped.
pub fn search_dirs(cli_dirs: &[PathBuf], pipeline_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = cli_dirs.to_vec();
    if let Some(var) = std::env::var_os("MEDKIT_PLUGIN_PATH") {
        dirs.extend(std::env::split_paths(&var).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs.extend(pipeline_dirs.iter().cloned());
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir);
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let key = d.canonicalize().unwrap_or_else(|_| d.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    dirs
}

/// Library files directly inside `dir`, sorted by name.
pub(crate) fn library_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read plugin directory: {e}"))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().and_then(|e| e.to_str()) == Some(std::env::consts::DLL_EXTENSION)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Loads one library file as a medkit plugin.
pub(crate) fn load_file(path: &Path) -> Result<LoadedPlugin, String> {
    refuse_writable_by_others(path)?;
    let header = lib_header_from_path(path).map_err(|e| describe_error(&e))?;
    let module = header
        .init_root_module::<PluginModRef>()
        .map_err(|e| describe_error(&e))?;
    (module.set_log_sink())(log_sink(), max_level());
    let info = (module.describe())()
        .into_result()
        .map_err(|e| format!("plugin failed to describe itself: {e}"))?;
    Ok(LoadedPlugin {
        path: path.to_path_buf(),
        info,
        module,
    })
}

fn describe_error(e: &LibraryError) -> String {
    match e {
        LibraryError::OpenError { err, .. } => format!("cannot open library: {err}"),
        LibraryError::GetSymbolError { .. } => {
            "not a medkit plugin: the library exports no abi_stable root module".to_string()
        }
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => format!(
            "built against medkit-sdk {actual_version}, incompatible with this host's medkit-sdk \
             {expected_version} (rebuild the plugin against SDK {expected_version})"
        ),
        LibraryError::AbiInstability(err) => format!(
            "ABI layout mismatch with this host's medkit-sdk {} (rebuild the plugin against it): {}",
            PluginModRef::VERSION_STRINGS.version,
            summarize_layout_error(&err.to_string())
        ),
        LibraryError::RootModule { err, .. } => format!("plugin root module failed: {err}"),
        other => format!("cannot load plugin: {other}"),
    }
}

/// abi_stable's layout report runs to thousands of lines; keep its distinct `Error:` verdicts.
fn summarize_layout_error(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let mut out: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(what) = l.strip_prefix("Error:") else {
            continue;
        };
        let detail: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|x| !x.is_empty() && !x.starts_with("Error:") && !x.contains("error(s)"))
            .copied()
            .collect();
        let verdict = if what == "incompatible package versions" && detail.len() == 4 {
            format!(
                "built against medkit-sdk {}, incompatible with this host's medkit-sdk {}",
                detail[3], detail[1]
            )
        } else {
            format!("{what} ({})", detail.join(" "))
        };
        if !out.contains(&verdict) {
            out.push(verdict);
        }
    }
    if out.is_empty() {
        "incompatible type layouts".to_string()
    } else {
        out.join("; ")
    }
}

#[cfg(unix)]
fn refuse_writable_by_others(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    // Through symlinks: what gets loaded is the target, in the target's directory.
    let path = &path
        .canonicalize()
        .map_err(|e| format!("cannot resolve path: {e}"))?;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot stat: {e}"))?
        .permissions()
        .mode();
    if mode & 0o002 != 0 {
        return Err("refused: the file is writable by any user (chmod o-w it)".to_string());
    }
    if let Some(dir) = path.parent() {
        if let Ok(m) = std::fs::metadata(dir) {
            let dmode = m.permissions().mode();
            // Sticky world-writable dirs (/tmp) still let others replace files: refuse them too.
            if dmode & 0o002 != 0 {
                return Err(format!(
                    "refused: its directory {} is writable by any user",
                    dir.display()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_writable_by_others(_path: &Path) -> Result<(), String> {
    Ok(())
}
