//! The process's plugins: the package's own (found next to the module, no environment variable)
//! and those `load_plugins(dir)` adds; operations are built from them by kind and name.

use crate::errors::{guarded, MedkitError};
use anyhow::anyhow;
use medkit_host::context::Context;
use medkit_host::pipeline::{run_file, RunOptions};
use medkit_host::plugins::PluginSet;
use medkit_sdk::{Operation, OperationKind};
use pyo3::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

struct Registry {
    dirs: Vec<PathBuf>,
    set: PluginSet,
}

static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .get_or_init(|| {
            Mutex::new(Registry {
                dirs: Vec::new(),
                set: PluginSet::default(),
            })
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Loads the plugins of `dir`; an error when it is not a folder or one of its libraries fails.
fn add_dir(dir: &Path) -> anyhow::Result<usize> {
    if !dir.is_dir() {
        return Err(anyhow!("plugin directory {} does not exist", dir.display()));
    }
    let mut r = registry();
    let before = (r.set.plugins.len(), r.set.errors.len());
    r.set.add_dirs(&[dir.to_path_buf()]);
    if !r.dirs.iter().any(|d| d == dir) {
        r.dirs.push(dir.to_path_buf());
    }
    if r.set.errors.len() > before.1 {
        let errors: Vec<String> = r.set.errors[before.1..]
            .iter()
            .map(|e| e.to_string())
            .collect();
        return Err(anyhow!(
            "loading plugins from {}: {}",
            dir.display(),
            errors.join("; ")
        ));
    }
    Ok(r.set.plugins.len() - before.0)
}

/// Loads the package's own plugins (called once, by `medkit_rs/__init__.py`); one that does not
/// load (libtorch not found, say) makes the import fail with its reason.
#[pyfunction]
pub fn init(package_plugins: PathBuf) -> PyResult<()> {
    guarded(|| add_dir(&package_plugins).map(|_| ()))
}

/// Loads every plugin library in `dir` (third-party plugins); returns how many were new.
#[pyfunction]
pub fn load_plugins(py: Python<'_>, dir: PathBuf) -> PyResult<usize> {
    crate::logging::refresh();
    py.detach(|| guarded(|| add_dir(&dir)))
}

pub fn kind_of(kind: &str) -> PyResult<OperationKind> {
    OperationKind::parse(kind).ok_or_else(|| {
        MedkitError::new_err(format!(
            "unknown operation kind '{kind}' (expected one of: {})",
            OperationKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// `(kind, name)` of every loaded operation, sorted by kind then name.
#[pyfunction]
pub fn operations(py: Python<'_>) -> Vec<(String, String)> {
    // without the GIL: a thread holding the registry may be logging (which takes the GIL)
    py.detach(all_operations)
}

fn all_operations() -> Vec<(String, String)> {
    let r = registry();
    OperationKind::ALL
        .iter()
        .flat_map(|k| {
            r.set
                .names(*k)
                .into_iter()
                .map(|n| (k.as_str().to_string(), n))
        })
        .collect()
}

/// The config of operation (`kind`, `name`) checked by its plugin, with its defaults filled in
/// (JSON text); None when the plugin does not check configs ahead.
#[pyfunction]
pub fn validate(
    py: Python<'_>,
    kind: &str,
    name: &str,
    config_json: &str,
) -> PyResult<Option<String>> {
    let kind = kind_of(kind)?;
    py.detach(|| {
        guarded(|| {
            let config: serde_json::Value = serde_json::from_str(config_json)?;
            let filled = registry().set.validate(kind, name, &config)?;
            Ok(filled.map(|v| v.to_string()))
        })
    })
}

/// Builds operation (`kind`, `name`) from its JSON config.
pub fn create(kind: OperationKind, name: &str, config_json: &str) -> PyResult<Operation> {
    crate::logging::refresh();
    guarded(|| {
        let config: serde_json::Value = serde_json::from_str(config_json)?;
        registry().set.create(kind, name, &config)
    })
}

/// Whether operation (`kind`, `name`) takes the trainer's seed in its config.
pub fn accepts_seed(kind: OperationKind, name: &str) -> bool {
    registry().set.contract(kind, name).accepts_seed
}

/// medkit-rs's, the SDK's and each loaded plugin's versions (for checkpoints' provenance).
pub fn versions() -> serde_json::Value {
    medkit_host::trainer::provenance::versions(&registry().set)
}

/// The names of the default operations of `kind` (e.g. the progress printer callback).
pub fn defaults(kind: OperationKind) -> Vec<String> {
    registry().set.defaults(kind)
}

/// `medkit run PIPELINE [--set KEY=VALUE…] [--resume] [--skip-train]`, with this process's
/// plugins. The GIL is released; Ctrl-C stops training at a step boundary as in the CLI.
#[pyfunction]
#[pyo3(signature = (path, sets, resume=false, skip_train=false))]
pub fn run_pipeline(
    py: Python<'_>,
    path: PathBuf,
    sets: Vec<String>,
    resume: bool,
    skip_train: bool,
) -> PyResult<()> {
    let ctx = Context {
        plugin_dirs: registry().dirs.clone(),
    };
    let options = RunOptions { resume, skip_train };
    crate::logging::refresh();
    let result = py.detach(|| guarded(|| run_file(&ctx, &path, &sets, options)));
    // the run's signal handlers chain to Python's: a Ctrl-C is pending there too, and the
    // trainer's message says where the resumable checkpoint is
    interrupted(py, result)
}

/// `result`, or a KeyboardInterrupt (with the error's message when the run failed because of it)
/// when a Ctrl-C is pending.
pub fn interrupted<T>(py: Python<'_>, result: PyResult<T>) -> PyResult<T> {
    match (py.check_signals(), result) {
        (Err(_), Err(e)) => Err(pyo3::exceptions::PyKeyboardInterrupt::new_err(
            e.value(py).to_string(),
        )),
        (Err(k), Ok(_)) => Err(k),
        (Ok(()), r) => r,
    }
}
