//! `checkpoints.json`, the output_dir's manifest: which checkpoint is the best (by the
//! checkpoint metric) and which the last, each with its epoch, optimizer steps, eval metrics
//! and provenance file. Written atomically after each checkpoint; read by `@best` / `@last`.

use super::checkpoint;
use super::provenance::PROVENANCE_NAME;
use anyhow::{anyhow, bail, Context as _};
use medkit_corpus::io;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The manifest's name in the output_dir.
pub const MANIFEST_NAME: &str = "checkpoints.json";

/// Which checkpoint a `@best` / `@last` reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Best,
    Last,
}

impl Which {
    pub fn key(self) -> &'static str {
        match self {
            Which::Best => "best",
            Which::Last => "last",
        }
    }
}

/// A checkpoint reference: `@best`, `@last` (the pipeline's [train] stage), or
/// `OUTPUT_DIR@best` / `OUTPUT_DIR/@best` (the run in OUTPUT_DIR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    pub output_dir: Option<&'a str>,
    pub which: Which,
}

impl<'a> Reference<'a> {
    /// The reference `value` makes, if any: None when it has no `@`-suffix (a path or a hub
    /// name); an error for an unknown `@name`.
    pub fn parse(value: &'a str) -> anyhow::Result<Option<Self>> {
        let Some(at) = value.rfind('@') else {
            return Ok(None);
        };
        let (dir, name) = (&value[..at], &value[at + 1..]);
        // `user@host:path` or a hub revision are not references: only a bare `@name` after a
        // folder is.
        if name.contains('/') || (!dir.is_empty() && !name.starts_with(|c: char| c.is_alphabetic()))
        {
            return Ok(None);
        }
        let which = match name {
            "best" => Which::Best,
            "last" => Which::Last,
            _ if dir.is_empty() => {
                bail!("'{value}': unknown checkpoint reference (use @best or @last)")
            }
            _ => return Ok(None),
        };
        let dir = dir.trim_end_matches('/');
        Ok(Some(Reference {
            output_dir: (!dir.is_empty()).then_some(dir),
            which,
        }))
    }
}

/// One manifest entry: the checkpoint `dir` described from its own files.
fn entry(dir: &Path) -> Value {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .unwrap_or(Value::Null)
    };
    let state = read(checkpoint::STATE_NAME);
    let provenance = dir.join(PROVENANCE_NAME);
    serde_json::json!({
        "dir": dir,
        "epoch": state["epoch"],
        "optimizer_steps": state["optimizer_steps"],
        "eval": read(checkpoint::METRICS_NAME)["eval"],
        "provenance": provenance.is_file().then_some(provenance),
    })
}

/// Rewrites `output_dir/checkpoints.json` (atomically).
pub fn write(
    output_dir: &Path,
    (metric, minimize): (&str, bool),
    best: Option<&Path>,
    last: Option<&Path>,
) -> anyhow::Result<()> {
    let manifest = serde_json::json!({
        "checkpoint_metric": metric,
        "minimize": minimize,
        "best": best.map(entry),
        "last": last.map(entry),
    });
    io::write_json(&output_dir.join(MANIFEST_NAME), &manifest)?;
    Ok(())
}

/// The checkpoint directory `output_dir/checkpoints.json` names as `which`; errors name the
/// manifest (missing, not JSON, no such entry, a checkpoint deleted since).
pub fn resolve(output_dir: &Path, which: Which) -> anyhow::Result<PathBuf> {
    let path = output_dir.join(MANIFEST_NAME);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (written by a [train] stage into its output_dir)",
            path.display()
        )
    })?;
    let manifest: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a checkpoints manifest", path.display()))?;
    let key = which.key();
    let dir = manifest[key]["dir"].as_str().ok_or_else(|| {
        anyhow!(
            "{}: no '{key}' checkpoint recorded (key '{key}.dir')",
            path.display()
        )
    })?;
    // Written absolute; a manifest moved with its run folder still works through its name.
    let mut dir = PathBuf::from(dir);
    if !dir.is_dir() {
        if let Some(name) = dir.file_name().map(|n| output_dir.join(n)) {
            if name.is_dir() {
                dir = name;
            }
        }
    }
    if !dir.is_dir() {
        bail!(
            "{}: the {key} checkpoint {} no longer exists",
            path.display(),
            dir.display()
        );
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let r = |s| Reference::parse(s).unwrap();
        assert_eq!(
            r("@best"),
            Some(Reference {
                output_dir: None,
                which: Which::Best
            })
        );
        for s in ["runs/x@last", "runs/x/@last", "runs/x/@last"] {
            assert_eq!(
                r(s),
                Some(Reference {
                    output_dir: Some("runs/x"),
                    which: Which::Last
                }),
                "{s}"
            );
        }
        for s in [
            "camembert-base",
            "/models/épreuve",
            "me@host:models",
            "a@1.0",
        ] {
            assert_eq!(r(s), None, "{s}");
        }
        let e = Reference::parse("@bset").unwrap_err().to_string();
        assert!(e.contains("@bset") && e.contains("@best"), "{e}");
    }

    #[test]
    fn resolving_names_the_manifest_on_every_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("sortie-évaluée");
        std::fs::create_dir(&out).unwrap();
        let e = format!("{:#}", resolve(&out, Which::Best).unwrap_err());
        assert!(
            e.contains("checkpoints.json") && e.contains("sortie-évaluée"),
            "{e}"
        );
        std::fs::write(out.join(MANIFEST_NAME), "{not json").unwrap();
        let e = format!("{:#}", resolve(&out, Which::Best).unwrap_err());
        assert!(
            e.contains("checkpoints.json: not a checkpoints manifest"),
            "{e}"
        );
        let ckpt = out.join("checkpoint_002_x");
        std::fs::create_dir(&ckpt).unwrap();
        write(&out, ("loss", true), None, Some(&ckpt)).unwrap();
        let e = format!("{:#}", resolve(&out, Which::Best).unwrap_err());
        assert!(e.contains("no 'best' checkpoint"), "{e}");
        assert_eq!(resolve(&out, Which::Last).unwrap(), ckpt);
        // a run folder moved elsewhere: found by the checkpoint's name
        let moved = tmp.path().join("moved");
        std::fs::rename(&out, &moved).unwrap();
        assert_eq!(
            resolve(&moved, Which::Last).unwrap(),
            moved.join("checkpoint_002_x")
        );
        std::fs::remove_dir(moved.join("checkpoint_002_x")).unwrap();
        let e = format!("{:#}", resolve(&moved, Which::Last).unwrap_err());
        assert!(
            e.contains("checkpoints.json: the last checkpoint") && e.contains("no longer exists"),
            "{e}"
        );
    }
}
