//! The set of loaded plugins and their operations, keyed by (kind, name).

use super::loader::{library_files, load_file, LoadError, LoadedPlugin};
use abi_stable::std_types::{ROption, RResult, RStr, RString};
use anyhow::{anyhow, Context as _};
use medkit_sdk::{ConfigContract, Operation, OperationKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every plugin found on the search path, the files that failed, and the operation index.
#[derive(Default)]
pub struct PluginSet {
    pub plugins: Vec<LoadedPlugin>,
    pub errors: Vec<LoadError>,
    index: BTreeMap<(OperationKind, String), usize>,
}

impl PluginSet {
    /// Loads every library in `dirs`. A broken file is recorded in `errors` (and logged) and does
    /// not stop the others. A directory that does not exist is skipped silently unless `strict`.
    pub fn load(dirs: &[PathBuf]) -> Self {
        let mut set = PluginSet::default();
        set.add_dirs(dirs);
        set
    }

    /// Loads the libraries of `dirs` that are not loaded yet, as `load` does.
    pub fn add_dirs(&mut self, dirs: &[PathBuf]) {
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let mut seen: Vec<PathBuf> = self.plugins.iter().map(|p| canonical(&p.path)).collect();
        for dir in dirs {
            let files = match library_files(dir) {
                Ok(f) => f,
                Err(message) => {
                    if dir.exists() {
                        self.push_error(dir, message);
                    }
                    continue;
                }
            };
            for file in files {
                let key = canonical(&file);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                self.load_one(&file);
            }
        }
    }

    fn push_error(&mut self, path: &Path, message: String) {
        let err = LoadError {
            path: path.to_path_buf(),
            message,
        };
        log::warn!("plugin {err}");
        self.errors.push(err);
    }

    fn load_one(&mut self, file: &Path) {
        let plugin = match load_file(file) {
            Ok(p) => p,
            Err(message) => return self.push_error(file, message),
        };
        let idx = self.plugins.len();
        for op in plugin.info.operations.iter() {
            let Some(kind) = op.kind() else {
                log::warn!(
                    "plugin {}: operation '{}' is of kind '{}', unknown to this host (built \
                     against a newer SDK?); it is ignored",
                    file.display(),
                    op.name,
                    op.kind_name
                );
                continue;
            };
            let key = (kind, op.name.to_string());
            if let Some(&other) = self.index.get(&key) {
                let msg = format!(
                    "duplicate {} operation '{}': already provided by {}; this one is ignored",
                    kind.as_str(),
                    op.name,
                    self.plugins[other].path.display()
                );
                self.push_error(file, msg);
            } else {
                self.index.insert(key, idx);
            }
        }
        self.plugins.push(plugin);
    }

    /// Names of the operations of `kind`, sorted.
    pub fn names(&self, kind: OperationKind) -> Vec<String> {
        self.index
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect()
    }

    /// The plugin providing operation (`kind`, `name`).
    pub fn provider(&self, kind: OperationKind, name: &str) -> Option<&LoadedPlugin> {
        self.index
            .get(&(kind, name.to_string()))
            .map(|&i| &self.plugins[i])
    }

    /// What operation (`kind`, `name`) declared about its config (none when it is not loaded:
    /// `create` then reports it).
    pub fn contract(&self, kind: OperationKind, name: &str) -> ConfigContract {
        self.provider(kind, name)
            .and_then(|p| {
                p.info
                    .operations
                    .iter()
                    .find(|o| o.kind() == Some(kind) && o.name.as_str() == name)
            })
            .map(|o| o.contract.clone())
            .unwrap_or_default()
    }

    /// The operations of `kind` registered as the default (`default: true`), sorted by name.
    pub fn defaults(&self, kind: OperationKind) -> Vec<String> {
        self.names(kind)
            .into_iter()
            .filter(|n| self.contract(kind, n).is_default)
            .collect()
    }

    /// Checks operation (`kind`, `name`)'s config without building it: the config with its
    /// defaults filled in, or None when the plugin does not check configs (an operation without
    /// `validate`, or a plugin built before it existed).
    pub fn validate(
        &self,
        kind: OperationKind,
        name: &str,
        config: &serde_json::Value,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let plugin = self.plugin_of(kind, name)?;
        let Some(validate) = plugin.module.validate() else {
            return Ok(None);
        };
        let filled = call(
            plugin,
            kind,
            name,
            config,
            "checking the config of",
            validate,
        )?;
        match filled {
            ROption::RNone => Ok(None),
            ROption::RSome(text) => serde_json::from_str(&text).map(Some).with_context(|| {
                format!(
                    "{} operation '{name}' returned an invalid config",
                    kind.as_str()
                )
            }),
        }
    }

    fn plugin_of(&self, kind: OperationKind, name: &str) -> anyhow::Result<&LoadedPlugin> {
        self.provider(kind, name)
            .ok_or_else(|| self.missing(kind, name))
    }

    /// The error for an operation no loaded plugin provides, with what is available.
    fn missing(&self, kind: OperationKind, name: &str) -> anyhow::Error {
        let available = self.names(kind);
        let mut msg = format!(
            "no {} operation named '{name}' in the loaded plugins",
            kind.as_str()
        );
        if available.is_empty() {
            msg.push_str(&format!(
                "; no plugin provides any {} operation",
                kind.as_str()
            ));
        } else {
            msg.push_str(&format!("; available: {}", available.join(", ")));
        }
        if !self.errors.is_empty() {
            msg.push_str(&format!(
                " ({} plugin file(s) failed to load, see warnings)",
                self.errors.len()
            ));
        }
        anyhow!(msg)
    }

    /// Builds operation (`kind`, `name`) from its config (a JSON object).
    pub fn create(
        &self,
        kind: OperationKind,
        name: &str,
        config: &serde_json::Value,
    ) -> anyhow::Result<Operation> {
        let plugin = self.plugin_of(kind, name)?;
        let op = call(
            plugin,
            kind,
            name,
            config,
            "creating",
            plugin.module.create(),
        )?;
        let op = op.into_enum().map_err(|_| {
            anyhow!(
                "plugin {} returned operation '{name}' as a kind this host does not know (built \
                 against a newer SDK?)",
                plugin.path.display()
            )
        })?;
        if op.kind() != kind {
            return Err(anyhow!(
                "plugin {} returned a {} operation when asked for {} operation '{name}'",
                plugin.path.display(),
                op.kind().as_str(),
                kind.as_str()
            ));
        }
        Ok(op)
    }
}

/// Calls one of `plugin`'s entry points for operation (`kind`, `name`) with `config`; an error
/// names the config key it is about, the operation and the plugin file (`doing` says what the
/// call was: "creating", "checking the config of").
fn call<T>(
    plugin: &LoadedPlugin,
    kind: OperationKind,
    name: &str,
    config: &serde_json::Value,
    doing: &str,
    entry: extern "C" fn(RStr<'_>, RStr<'_>, RStr<'_>) -> RResult<T, RString>,
) -> anyhow::Result<T> {
    let config_text = serde_json::to_string(config)?;
    entry(
        RStr::from_str(kind.as_str()),
        RStr::from_str(name),
        RStr::from_str(&config_text),
    )
    .into_result()
    .map_err(|e| anyhow!("{}", name_config_key(&e, config)))
    .with_context(|| {
        format!(
            "{doing} {} operation '{name}' (plugin {})",
            kind.as_str(),
            plugin.path.display()
        )
    })
}

/// A plugin's serde_json error points at "line 1 column N" of the JSON config the host sent,
/// which the user never saw: name the config key whose value holds that column instead.
fn name_config_key(err: &str, config: &serde_json::Value) -> String {
    let Some(obj) = config.as_object() else {
        return err.to_string();
    };
    let Some(col) = err
        .rsplit_once("at line 1 column ")
        .and_then(|(_, c)| c.trim().parse::<usize>().ok())
    else {
        return err.to_string();
    };
    // serde_json::to_string of an object, rebuilt piecewise to know each value's byte range.
    let mut pos = 1; // "{"
    for (k, v) in obj {
        let key = serde_json::to_string(k).unwrap_or_default();
        let value = serde_json::to_string(v).unwrap_or_default();
        let start = pos + key.len() + 1; // "key":
        let end = start + value.len();
        if col > pos && col <= end + 1 {
            let head = err
                .rsplit_once(" at line 1 column ")
                .map_or(err, |(h, _)| h);
            return format!("{head} (config key '{k}')");
        }
        pos = end + 1; // ","
    }
    err.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_columns_become_config_keys() {
        let config = serde_json::json!({"labels": ["a"], "max": "x", "z": 1});
        let text = serde_json::to_string(&config).unwrap();
        let err =
            serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(&text)
                .map(|_| ())
                .and_then(|_| {
                    #[derive(serde::Deserialize, Debug)]
                    #[allow(dead_code)]
                    struct C {
                        labels: Vec<String>,
                        max: usize,
                        z: u8,
                    }
                    serde_json::from_str::<C>(&text).map(|_| ())
                })
                .unwrap_err()
                .to_string();
        assert_eq!(
            super::name_config_key(&err, &config),
            "invalid type: string \"x\", expected usize (config key 'max')"
        );
        assert_eq!(super::name_config_key("other", &config), "other");
    }
}
