//! Pipeline files: errors name the file and the key path (operation sections: the plugin and the
//! operation's key, wrong types included), `--set` overrides, unknown operations, the shipped
//! configs; relative paths resolve against the pipeline file's folder whatever the working
//! directory.

use medkit_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn run(args: &[&str]) -> (bool, String) {
    let out = medkit(args);
    (out.status.success(), text(&out))
}

const MINIMAL: &str = r#"
[corpus]
train = "train.jsonl"
validation = "train.jsonl"

[train.trainable]
operation = "hf-entity-matcher"
model_name_or_path = "model"
labels = ["x"]

[train.trainer]
output_dir = "out"
"#;

#[test]
fn unknown_keys_are_errors_naming_the_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "p.toml",
        &format!("{MINIMAL}\nlearnin_rate = 1\n"),
    );
    let (ok, t) = run(&["run", &cfg]);
    assert!(!ok);
    assert!(
        t.contains("train.trainer.learnin_rate") || t.contains("learnin_rate"),
        "{t}"
    );
    assert!(t.contains("p.toml"), "{t}");
    let cfg = write(dir.path(), "q.toml", "[trian]\nx = 1\n");
    let (ok, t) = run(&["run", &cfg]);
    assert!(!ok && t.contains("unknown field `trian`"), "{t}");
}

#[test]
fn wrong_types_and_bad_toml_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "p.toml",
        &MINIMAL.replace(
            "output_dir = \"out\"",
            "output_dir = \"out\"\nbatch_size = \"four\"",
        ),
    );
    let (ok, t) = run(&["run", &cfg]);
    assert!(!ok && t.contains("train.trainer.batch_size"), "{t}");
    let cfg = write(dir.path(), "bad.toml", "[corpus\n");
    let (ok, t) = run(&["run", &cfg]);
    assert!(
        !ok && t.contains("bad.toml") && t.contains("invalid TOML"),
        "{t}"
    );
    let (ok, t) = run(&["run", "/nonexistent/p.toml"]);
    assert!(
        !ok && t.contains("reading pipeline /nonexistent/p.toml"),
        "{t}"
    );
}

#[test]
fn missing_required_values_and_missing_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "p.toml",
        &MINIMAL.replace("output_dir = \"out\"", ""),
    );
    let (ok, t) = run(&["run", &cfg]);
    assert!(!ok && t.contains("output_dir"), "{t}");
    // Relative corpus paths resolve against the pipeline file's folder.
    let cfg = write(dir.path(), "q.toml", MINIMAL);
    let (ok, t) = run(&["run", &cfg]);
    let expected = dir.path().join("train.jsonl");
    assert!(
        !ok && t.contains(&format!(
            "corpus.train: no such file {}",
            expected.display()
        )),
        "{t}"
    );
    let (ok, t) = run(&["run", &cfg, "--set", "nokey"]);
    assert!(!ok && t.contains("expected KEY=VALUE"), "{t}");
}

#[test]
fn set_overrides_apply_before_checking() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "p.toml", MINIMAL);
    let (ok, t) = run(&["run", &cfg, "--set", "train.trainer.bogus=3"]);
    assert!(!ok && t.contains("train.trainer.bogus"), "{t}");
    let (ok, t) = run(&["run", &cfg, "--set", "corpus.train=\"elsewhere.jsonl\""]);
    assert!(!ok && t.contains("elsewhere.jsonl"), "{t}");
}

#[test]
fn unknown_operation_lists_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    write_jsonl(&dir.path().join("train.jsonl"), &[] as &[&str]);
    let cfg = write(
        dir.path(),
        "p.toml",
        &MINIMAL.replace(
            "operation = \"hf-entity-matcher\"",
            "operation = \"no-such-op\"",
        ),
    );
    let (ok, t) = run(&["run", &cfg]);
    assert!(!ok, "{t}");
    assert!(t.contains("pipeline key 'train.trainable'"), "{t}");
    assert!(
        t.contains("no trainable operation named 'no-such-op'")
            && t.contains("available: hf-entity-matcher"),
        "{t}"
    );
}

#[test]
fn a_pipeline_without_stages_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "p.toml", "[corpus]\n");
    let (ok, t) = run(&["run", &cfg]);
    assert!(!ok && t.contains("no stage to run"), "{t}");
}

#[test]
fn shipped_configs_parse() {
    // Each file in configs/ is a valid pipeline for the schema (they run in their own tests).
    for entry in std::fs::read_dir(root().join("configs")).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let r: Result<medkit_host::pipeline::config::PipelineConfig, _> =
            serde_path_to_error::deserialize(toml::Value::Table(table));
        assert!(
            r.is_ok(),
            "{}: {:?}",
            p.display(),
            r.err().map(|e| e.to_string())
        );
    }
}

#[test]
fn evaluate_accepts_one_table_or_an_array_and_names_bad_keys() {
    use medkit_host::pipeline::config::PipelineConfig;
    let parse = |text: &str| -> Result<PipelineConfig, String> {
        let table: toml::Table = toml::from_str(text).unwrap();
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| e.to_string())
    };
    let one = parse("[evaluate]\nreference = \"test\"\npredicted = \"p.jsonl\"\n").unwrap();
    assert_eq!(one.evaluate.len(), 1);
    let two = parse("[[evaluate]]\nreference = \"a\"\npredicted = \"b\"\n[[evaluate]]\nreference = \"c\"\npredicted = \"d\"\n").unwrap();
    assert_eq!(two.evaluate.len(), 2);
    let err = parse("[[evaluate]]\nreference = \"a\"\n").err().unwrap();
    assert!(
        err.contains("evaluate") && err.contains("predicted"),
        "{err}"
    );
}

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
