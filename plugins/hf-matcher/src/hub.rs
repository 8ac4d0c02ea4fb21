//! Model location: a local directory, or a Hugging Face Hub name resolved through the HF cache
//! layout (`models--org--name/refs/<rev>` → `snapshots/<commit>`), downloading when online.
//! The auth token (argument or HF_TOKEN) is only handed to hf-hub: never logged nor written.
use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Repo, RepoType};

pub use crate::model::ModelError;
use crate::weights::{PYTORCH_BIN, PYTORCH_BIN_INDEX, SAFETENSORS, SAFETENSORS_INDEX};

const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
];

/// HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("HF_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("hub");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    home.join(".cache").join("huggingface").join("hub")
}

pub fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
        .unwrap_or(false)
}

fn has_weights(dir: &Path) -> bool {
    [
        SAFETENSORS,
        SAFETENSORS_INDEX,
        PYTORCH_BIN,
        PYTORCH_BIN_INDEX,
    ]
    .iter()
    .any(|f| dir.join(f).is_file())
}

/// The cached snapshot of `repo_id` at `revision` holding config.json and weights, if any.
pub fn cached_snapshot(cache: &Path, repo_id: &str, revision: &str) -> Option<PathBuf> {
    let repo = cache.join(format!("models--{}", repo_id.replace('/', "--")));
    let commit = match std::fs::read_to_string(repo.join("refs").join(revision)) {
        Ok(c) => c.trim().to_string(),
        // A commit hash has no ref file.
        Err(_) => revision.to_string(),
    };
    let snap = repo.join("snapshots").join(commit);
    (snap.join("config.json").is_file() && has_weights(&snap)).then_some(snap)
}

fn looks_like_path(s: &str) -> bool {
    s.starts_with('/')
        || s.starts_with('.')
        || s.starts_with('~')
        || s.matches('/').count() > 1
        || s.is_empty()
}

/// A local dir, or a hub name resolved through the cache (`cache`, else `cache_dir()`),
/// downloaded when online.
pub fn resolve_model(
    name_or_path: &str,
    revision: Option<&str>,
    auth_token: Option<&str>,
    cache: Option<&Path>,
) -> Result<PathBuf, ModelError> {
    let local = Path::new(name_or_path);
    if local.is_dir() {
        if !local.join("config.json").is_file() {
            return Err(ModelError::MissingFile {
                path: local.join("config.json"),
                hint: " (not an HF model directory)".into(),
            });
        }
        return Ok(local.to_path_buf());
    }
    if looks_like_path(name_or_path) || local.exists() {
        return Err(ModelError::Hub(format!(
            "`{name_or_path}` is neither a model directory nor a hub model name"
        )));
    }
    let revision = revision.unwrap_or("main");
    let cache = cache.map_or_else(cache_dir, Path::to_path_buf);
    if let Some(snap) = cached_snapshot(&cache, name_or_path, revision) {
        log::debug!(
            "{name_or_path}@{revision}: using the cached snapshot {}",
            snap.display()
        );
        return Ok(snap);
    }
    if offline() {
        return Err(ModelError::Hub(format!(
            "`{name_or_path}` (revision {revision}) is not in the HF cache {} and HF_HUB_OFFLINE is set",
            cache.display()
        )));
    }
    download(name_or_path, revision, auth_token, cache)
}

fn download(
    repo_id: &str,
    revision: &str,
    auth_token: Option<&str>,
    cache: PathBuf,
) -> Result<PathBuf, ModelError> {
    let token = auth_token
        .map(String::from)
        .or_else(|| std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()));
    let mut builder = ApiBuilder::new().with_cache_dir(cache).with_progress(false);
    if token.is_some() {
        builder = builder.with_token(token);
    }
    if let Ok(endpoint) = std::env::var("HF_ENDPOINT") {
        builder = builder.with_endpoint(endpoint);
    }
    let api = builder
        .build()
        .map_err(|e| ModelError::Hub(format!("cannot start the hub client: {e}")))?;
    let repo = api.repo(Repo::with_revision(
        repo_id.to_string(),
        RepoType::Model,
        revision.to_string(),
    ));
    let fail = |file: &str, e: hf_hub::api::sync::ApiError| {
        ModelError::Hub(format!(
            "cannot download {file} of `{repo_id}` (revision {revision}): {e}"
        ))
    };
    log::info!("downloading `{repo_id}` (revision {revision}) from the hub");
    let config = repo
        .get("config.json")
        .map_err(|e| fail("config.json", e))?;
    for f in TOKENIZER_FILES {
        if let Err(e) = repo.get(f) {
            log::debug!("{repo_id}: no {f} ({e})");
        }
    }
    // Same preference order as weights::load_dir; the first format present wins.
    if repo.get(SAFETENSORS).is_err() {
        if let Ok(index) = repo.get(SAFETENSORS_INDEX) {
            for shard in shard_names(&index)? {
                repo.get(&shard).map_err(|e| fail(&shard, e))?;
            }
        } else if repo.get(PYTORCH_BIN).is_err() {
            let index = repo.get(PYTORCH_BIN_INDEX).map_err(|e| {
                let all = format!(
                    "{SAFETENSORS}, {SAFETENSORS_INDEX}, {PYTORCH_BIN} or {PYTORCH_BIN_INDEX}"
                );
                fail(&all, e)
            })?;
            for shard in shard_names(&index)? {
                repo.get(&shard).map_err(|e| fail(&shard, e))?;
            }
        }
    }
    Ok(config.parent().expect("a file has a parent").to_path_buf())
}

fn shard_names(index: &Path) -> Result<Vec<String>, ModelError> {
    let text = std::fs::read_to_string(index).map_err(|e| ModelError::io(index, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| ModelError::Json {
        path: index.into(),
        msg: e.to_string(),
    })?;
    let mut names: Vec<String> = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .map(|m| {
            m.values()
                .filter_map(|f| f.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    Ok(names)
}
