//! `medkit check` resolves and validates a whole pipeline without running it (each operation's
//! config through its plugin's `validate`, no model loaded) and prints it with every default
//! filled in; `medkit run` makes the same check first, so a typo in the last stage fails before
//! any training.

use medkit_tests::*;
use std::path::{Path, PathBuf};

fn pipeline(dir: &Path, evaluate_scheme: &str, trainable_extra: &str) -> PathBuf {
    let data = root().join("tests/data/e2e");
    let text = format!(
        r#"[corpus]
train = "{train}"
validation = "{validation}"

[train.trainable]
operation = "hf-entity-matcher"
model_name_or_path = "{model}"
labels = ["problem", "treatment"]
tagging_scheme = "iob2"
{trainable_extra}

[train.trainer]
output_dir = "out"
nb_training_epochs = 1
seed = 3

[train.metrics]
operation = "seqeval"
tagging_scheme = "iob2"

[annotate]
input = "validation"
output = "annotated.jsonl"
[annotate.matcher]
operation = "hf-entity-matcher"
model = "@best"

[[evaluate]]
reference = "validation"
predicted = "@annotate"
scheme = "{evaluate_scheme}"
"#,
        train = data.join("train.jsonl").display(),
        validation = data.join("validation.jsonl").display(),
        model = tiny_bert().display(),
    );
    let p = dir.join("pipeline.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn check_prints_the_pipeline_resolved_with_its_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = pipeline(tmp.path(), "iob2", "hf_auth_token = \"hf_secret_token\"");
    let out = medkit(&["check", cfg.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let resolved: toml::Table = toml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let train = &resolved["train"];
    // the trainer's defaults, the output_dir resolved against the pipeline's folder
    assert_eq!(train["trainer"]["plateau_threshold"].as_float(), Some(1e-4));
    assert_eq!(
        train["trainer"]["output_dir"].as_str(),
        Some(tmp.path().join("out").to_str().unwrap())
    );
    // the trainable's own defaults (from its plugin), the trainer's seed passed to it, the
    // token never shown
    assert_eq!(train["trainable"]["tag_subtokens"].as_bool(), Some(false));
    assert_eq!(train["trainable"]["seed"].as_integer(), Some(3));
    assert_eq!(train["trainable"]["hf_auth_token"].as_str(), Some("***"));
    assert!(!t.contains("hf_secret_token"), "{t}");
    // the default callback, the metrics computer's defaults, the matcher's and the evaluator's
    assert_eq!(
        train["callbacks"][0]["operation"].as_str(),
        Some("default-printer")
    );
    assert_eq!(
        train["metrics"][0]["return_metrics_by_label"].as_bool(),
        Some(true)
    );
    assert_eq!(
        resolved["annotate"]["matcher"]["aggregation_strategy"].as_str(),
        Some("max")
    );
    assert_eq!(
        resolved["evaluate"][0]["metrics"]["tagging_scheme"].as_str(),
        Some("iob2")
    );
    // nothing ran
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn a_typo_in_the_last_stage_fails_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = pipeline(tmp.path(), "biluo", "");
    for cmd in ["check", "run"] {
        let out = medkit(&[cmd, cfg.to_str().unwrap()]);
        let t = text(&out);
        assert!(!out.status.success(), "{t}");
        assert!(
            t.contains("evaluate[0]") && t.contains("'biluo'"),
            "{cmd}: {t}"
        );
    }
    assert!(
        !tmp.path().join("out").exists(),
        "run trained before failing"
    );
}

#[test]
fn an_operation_config_error_names_its_pipeline_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = pipeline(tmp.path(), "iob2", "tag_subtoken = true");
    let out = medkit(&["check", cfg.to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("train.trainable") && t.contains("tag_subtoken"),
        "{t}"
    );
    // a checkpoint reference without a [train] stage
    let text_cfg = std::fs::read_to_string(&cfg).unwrap();
    let start = text_cfg.find("[train.trainable]").unwrap();
    let end = text_cfg.find("[annotate]").unwrap();
    std::fs::write(&cfg, format!("{}{}", &text_cfg[..start], &text_cfg[end..])).unwrap();
    let out = medkit(&["check", cfg.to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("annotate.matcher.model = '@best'"), "{t}");
}
