//! `provenance.json` in each checkpoint: what produced it — the resolved pipeline config (hub
//! tokens masked), the versions (medkit-rs, each loaded plugin, the trainable's runtime from
//! the SDK's `runtime.json`) and a SHA-256 of each data file. The pipeline gives the run's record
//! to the trainer (`Trainer::provenance`); the checkpointer writes it inside each checkpoint's
//! temporary directory, so it appears atomically with the checkpoint.

use crate::plugins::PluginSet;
use anyhow::Context as _;
use medkit_corpus::io;
use serde_json::{json, Value};
use std::path::Path;

/// The record's name in a checkpoint directory.
pub const PROVENANCE_NAME: &str = "provenance.json";

/// Writes `checkpoint/provenance.json`: the run's `record`, with the trainable's `runtime.json`
/// (written by its `save`) under `versions.runtime`.
pub fn write(record: &Value, checkpoint: &Path) -> anyhow::Result<()> {
    let mut record = record.clone();
    let runtime = medkit_sdk::read_runtime(checkpoint).map_err(anyhow::Error::msg)?;
    record["versions"]["runtime"] = serde_json::to_value(runtime.unwrap_or_default())?;
    io::write_json(&checkpoint.join(PROVENANCE_NAME), &record)
        .with_context(|| format!("writing {PROVENANCE_NAME}"))
}

/// Replaces the string value of every key that names a secret (`…auth_token`, `token`,
/// `api_key`, `password`…; not `pad_token`) with `***`: plugins mask their hub tokens in their
/// `validate`; this also covers a plugin that has none.
pub fn mask_secrets(v: &mut Value) {
    const SECRET: [&str; 8] = [
        "auth_token",
        "access_token",
        "api_token",
        "hub_token",
        "api_key",
        "apikey",
        "password",
        "secret",
    ];
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let k = k.to_ascii_lowercase();
                let secret = k == "token" || SECRET.iter().any(|s| k.ends_with(s));
                if secret && v.is_string() {
                    *v = Value::from("***");
                } else {
                    mask_secrets(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

/// SHA-256 of the file at `path`, in lowercase hex (streamed: corpora can be large).
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("hashing {}", path.display()))?;
    sha256_hex(file).with_context(|| format!("hashing {}", path.display()))
}

/// SHA-256 of what `data` reads, in lowercase hex.
pub fn sha256_hex(mut data: impl std::io::Read) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    std::io::copy(&mut data, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The `versions` of a record: medkit-rs, the SDK, and each loaded plugin (name, version, SDK
/// version, file); the checkpointer adds the trainable's runtime.
pub fn versions(plugins: &PluginSet) -> Value {
    let plugins: Vec<Value> = plugins
        .plugins
        .iter()
        .map(|p| {
            json!({
                "name": p.info.name.as_str(),
                "version": p.info.version.as_str(),
                "sdk_version": p.info.sdk_version.as_str(),
                "file": p.path,
            })
        })
        .collect();
    json!({
        "medkit_rs": env!("CARGO_PKG_VERSION"),
        "sdk": medkit_sdk::SDK_VERSION,
        "plugins": plugins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_other_keys_kept() {
        let mut v = json!({"train": {"trainable": {"my_auth_token": "hf_x", "max_length": 64,
            "path": "m"}}, "evaluate": [{"tokenizer": "t.json", "token": "y", "pad_token": "[PAD]"}]});
        mask_secrets(&mut v);
        assert_eq!(v["train"]["trainable"]["my_auth_token"], "***");
        assert_eq!(v["train"]["trainable"]["max_length"], 64);
        assert_eq!(v["evaluate"][0]["tokenizer"], "t.json");
        assert_eq!(v["evaluate"][0]["token"], "***");
        assert_eq!(v["evaluate"][0]["pad_token"], "[PAD]");
    }

    #[test]
    fn sha256_of_a_known_text() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("données.jsonl");
        std::fs::write(&p, "abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let e = format!("{:#}", sha256_file(&tmp.path().join("absent")).unwrap_err());
        assert!(e.contains("hashing") && e.contains("absent"), "{e}");
    }

    #[test]
    fn the_record_gets_the_trainables_runtime_merged() {
        let tmp = tempfile::tempdir().unwrap();
        let ckpt = tmp.path().join("ckpt");
        std::fs::create_dir(&ckpt).unwrap();
        medkit_sdk::write_runtime(ckpt.to_str().unwrap(), &[("libtorch", "2.11.0")]).unwrap();
        write(&json!({"versions": {"medkit_rs": "0.2.0"}}), &ckpt).unwrap();
        let text = std::fs::read_to_string(ckpt.join(PROVENANCE_NAME)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["versions"]["runtime"]["libtorch"], "2.11.0");
        assert_eq!(v["versions"]["medkit_rs"], "0.2.0");
    }
}
