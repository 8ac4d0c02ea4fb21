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

/// `[train.optimizer]` printed with its defaults (without the table: its medkit equivalent,
/// `no_decay = []`); bad keys and values, and `max_grad_norm`, fail naming their key.
#[test]
fn the_optimizer_table_is_resolved_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = pipeline(tmp.path(), "iob2", "");
    let cfg = cfg.to_str().unwrap();
    let resolved = |sets: &[&str]| {
        let mut args = vec!["check", cfg];
        for s in sets {
            args.extend(["--set", s]);
        }
        let out = medkit_ok(&args);
        let t: toml::Table = toml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
        t["train"].clone()
    };
    let plain = resolved(&[]);
    let o = &plain["optimizer"];
    assert_eq!(o["no_decay"].as_array().map(Vec::len), Some(0), "{o}");
    assert_eq!(o["weight_decay"].as_float(), Some(0.01));
    assert!(plain["trainer"].get("max_grad_norm").is_none());
    let train = resolved(&[
        "train.optimizer.eps=1e-6",
        "train.trainer.max_grad_norm=1.0",
    ]);
    let o = &train["optimizer"];
    let no_decay: Vec<&str> = o["no_decay"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(no_decay, ["bias", "LayerNorm.weight"]);
    assert_eq!(o["eps"].as_float(), Some(1e-6));
    assert_eq!(o["betas"].as_array().unwrap().len(), 2);
    assert_eq!(train["trainer"]["max_grad_norm"].as_float(), Some(1.0));
    for (set, expected) in [
        (
            "train.optimizer.weight_decy=0.1",
            "train.optimizer.weight_decy",
        ),
        (
            "train.optimizer.betas=[0.9, 1.0]",
            "train.optimizer.betas must",
        ),
        ("train.optimizer.eps=0.0", "train.optimizer.eps must be > 0"),
        (
            "train.optimizer.weight_decay=-1.0",
            "train.optimizer.weight_decay must",
        ),
        (
            "train.optimizer.no_decay='bias'",
            "train.optimizer.no_decay",
        ),
        (
            "train.trainer.max_grad_norm=0",
            "train.trainer.max_grad_norm",
        ),
    ] {
        for cmd in ["check", "run"] {
            let out = medkit(&[cmd, cfg, "--set", set]);
            let t = text(&out);
            assert!(
                !out.status.success() && t.contains(expected),
                "{cmd} {set}: {t}"
            );
        }
    }
    assert!(
        !tmp.path().join("out").exists(),
        "run trained before failing"
    );
}
