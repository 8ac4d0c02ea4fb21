//! Issue 7, config faults: messages name the file and key path (operation sections: the plugin and
//! the key, wrong types included); relative paths resolve against the pipeline file's folder
//! whatever the working directory.

use medkit_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder with the pipeline `p.toml`, `data/` and `model/` (copies), so that relative paths
/// are tested.
fn project(extra_trainable: &str, extra_trainer: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::create_dir_all(d.join("model")).unwrap();
    for f in ["train.jsonl", "validation.jsonl"] {
        std::fs::copy(test_data("e2e").join(f), d.join("data").join(f)).unwrap();
    }
    for e in std::fs::read_dir(tiny_bert()).unwrap().flatten() {
        std::fs::copy(e.path(), d.join("model").join(e.file_name())).unwrap();
    }
    TinyPipeline {
        train: PathBuf::from("data/train.jsonl"),
        validation: PathBuf::from("data/validation.jsonl"),
        model: "model".into(),
        tokenizer_max_length: None,
        trainable_keys: extra_trainable.into(),
        learning_rate: None,
        trainer_keys: extra_trainer.into(),
        metrics: String::new(),
        ..TinyPipeline::default()
    }
    .write(&d.join("p.toml"));
    tmp
}

fn run_in(cwd: &Path, cfg: &Path) -> (bool, String) {
    let o = Command::new(medkit_bin())
        .args(["run", cfg.to_str().unwrap()])
        .current_dir(cwd)
        .env_remove("MEDKIT_PLUGIN_PATH")
        .output()
        .unwrap();
    (o.status.success(), text(&o))
}

#[test]
fn config_errors_name_the_file_key_and_plugin() {
    let elsewhere = tempfile::tempdir().unwrap();
    // Host sections: file and key path.
    let p = project("", "learnin_rate = 1");
    let (ok, t) = run_in(elsewhere.path(), &p.path().join("p.toml"));
    assert!(
        !ok && t.contains("p.toml: at key 'train.trainer.learnin_rate': unknown field"),
        "{t}"
    );
    let p = project("", "learning_rate = \"fast\"");
    let (ok, t) = run_in(elsewhere.path(), &p.path().join("p.toml"));
    assert!(
        !ok && t.contains("p.toml") && t.contains("train.trainer.learning_rate"),
        "{t}"
    );
    // Operation sections: the key path, the plugin file and the operation's key.
    let p = project("colour = 1", "");
    let (ok, t) = run_in(elsewhere.path(), &p.path().join("p.toml"));
    assert!(
        !ok && t.contains("pipeline key 'train.trainable'")
            && t.contains("libmedkit_plugin_hf")
            && t.contains("unknown field `colour`"),
        "{t}"
    );
    let p = project("tokenizer_max_length = \"long\"", "");
    let (ok, t) = run_in(elsewhere.path(), &p.path().join("p.toml"));
    assert!(
        !ok && t.contains("pipeline key 'train.trainable'")
            && t.contains("(config key 'tokenizer_max_length')")
            && !t.contains("column"),
        "{t}"
    );
    // Missing required value of an operation.
    let p = project("", "");
    let cfg = p.path().join("p.toml");
    let text_cfg = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("tagging_scheme = \"iob2\"\n", "");
    std::fs::write(&cfg, text_cfg).unwrap();
    let (ok, t) = run_in(elsewhere.path(), &cfg);
    assert!(!ok && t.contains("tagging_scheme"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn relative_paths_resolve_against_the_pipeline_folder() {
    let p = project("", "");
    let elsewhere = tempfile::tempdir().unwrap();
    let (ok, t) = run_in(elsewhere.path(), &p.path().join("p.toml"));
    assert!(ok, "{t}");
    assert!(p.path().join("out/history.json").is_file(), "{t}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}
