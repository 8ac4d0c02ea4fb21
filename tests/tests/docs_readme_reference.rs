//! README's pipeline TOML block is the reference of every key: each key `medkit check` prints for a
//! pipeline with every stage (defaults filled in, by the host and by each plugin's `validate`)
//! must be listed there, under its section, so a key added without its documentation fails here.

use medkit_tests::*;
use std::collections::BTreeSet;

/// A pipeline with every stage and optional section, on the tiny model.
fn every_stage(dir: &std::path::Path) -> std::path::PathBuf {
    let validation = root().join("tests/data/e2e/validation.jsonl");
    TinyPipeline {
        plugin_dirs: vec![dir.to_path_buf()],
        corpus_keys: format!("test = \"{}\"\nmax_documents = 10", validation.display()),
        train_keys: "on_error = \"skip\"\nentity_text_mismatch = \"error\"".into(),
        tokenizer_max_length: Some(32),
        trainable_keys: "window_stride = 4\nseed = 1".into(),
        trainer_keys: "log_step_interval = 5\nearly_stopping_patience = 2\nmax_grad_norm = 1.0\n\
                       plateau_mode = \"min\""
            .into(),
        rest: r#"[train.optimizer]

[[train.callbacks]]
operation = "default-printer"
log_step_interval = 5
progress_bar = false
[[train.callbacks]]
operation = "history-jsonl"
[[train.callbacks]]
operation = "plot"
metrics = ["loss"]

[annotate]
input = "test"
output = "annotated.jsonl"
segments = "sentence"
[annotate.matcher]
operation = "hf-entity-matcher"
model = "@best"
tokenizer_max_length = 32
stride = 4
[annotate.segmentation]
operation = "sentence-tokenizer"

[[evaluate]]
name = "test"
reference = "test"
predicted = "@annotate"
tokenizer = "@model"
output = "metrics.json"
tagging_operation = "bilou"

[report]
enabled = true
run_dir = "out"
reference = "test"
predicted = "@annotate"
output = "report.html"
"#
        .into(),
        ..TinyPipeline::default()
    }
    .write(&dir.join("pipeline.toml"))
}

/// (section, key) of every value in a resolved pipeline; array-of-tables elements share their
/// section; a user's map (labels_remapping) is one key.
fn keys_of(table: &toml::Table, section: &str, out: &mut BTreeSet<(String, String)>) {
    for (key, value) in table {
        let path = if section.is_empty() {
            key.clone()
        } else {
            format!("{section}.{key}")
        };
        match value {
            toml::Value::Table(t) if key != "labels_remapping" => keys_of(t, &path, out),
            toml::Value::Array(items)
                if !items.is_empty() && items.iter().all(toml::Value::is_table) =>
            {
                for t in items.iter().filter_map(toml::Value::as_table) {
                    keys_of(t, &path, out);
                }
            }
            _ => {
                out.insert((section.to_string(), key.clone()));
            }
        }
    }
}

/// (section, key) of every line `key = …` or `# key = …` of README's pipeline TOML block.
fn readme_keys() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let from = readme
        .find("## Pipelines (TOML)")
        .expect("README has its pipeline section");
    let block = &readme[from..];
    let start = block.find("```toml\n").expect("a TOML block") + 8;
    let end = start + block[start..].find("```").unwrap();
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in block[start..end].lines() {
        let line = line.strip_prefix("# ").unwrap_or(line);
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.trim_start_matches('[');
            if let Some(close) = name.find(']') {
                section = name[..close].to_string();
                continue;
            }
        }
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            keys.insert((section.clone(), key.to_string()));
        }
    }
    keys
}

#[test]
fn readme_lists_every_key_medkit_check_resolves() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = every_stage(tmp.path());
    let out = medkit(&["check", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let resolved: toml::Table = toml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let mut resolved_keys = BTreeSet::new();
    keys_of(&resolved, "", &mut resolved_keys);
    // the pipeline above reaches every section
    for section in [
        "plugins",
        "corpus",
        "train",
        "train.trainable",
        "train.trainer",
        "train.optimizer",
        "train.metrics",
        "train.callbacks",
        "annotate",
        "annotate.matcher",
        "annotate.segmentation",
        "evaluate",
        "evaluate.metrics",
        "report",
    ] {
        assert!(
            resolved_keys.iter().any(|(s, _)| s == section),
            "medkit check printed no [{section}]"
        );
    }
    let documented = readme_keys();
    let missing: Vec<String> = resolved_keys
        .difference(&documented)
        .map(|(s, k)| format!("[{s}] {k}"))
        .collect();
    assert!(
        missing.is_empty(),
        "README's pipeline TOML block does not list: {missing:?}"
    );
}

#[test]
fn the_reference_parser_sees_sections_and_commented_keys() {
    let keys = readme_keys();
    for (s, k) in [
        ("train.trainer", "max_grad_norm"),
        ("train.optimizer", "no_decay"),
        ("train.trainable", "long_documents"),
        ("annotate", "log_document_interval"),
        ("annotate.matcher", "bf16"),
    ] {
        assert!(keys.contains(&(s.into(), k.into())), "[{s}] {k}");
    }
    assert!(!keys.contains(&("train.trainer".into(), "no_decay".into())));
}
