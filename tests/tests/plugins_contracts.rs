//! The host knows no plugin: what it must know of an operation travels in the SDK's contracts.
//! A third party's plugin (tests/fixtures/thirdparty-plugin, built against the SDK alone) with
//! its own model key trains, is interrupted and resumes exactly, its metrics beside seqeval's;
//! the template plugin's metrics and callback take seqeval's place by an edit of the pipeline
//! file; and no file of the host but the one shorthand table names an HF or seqeval key.

use medkit_tests::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn thirdparty_dir() -> tempfile::TempDir {
    plugin_dir_with(&[build_external_plugin(
        &root().join("tests/fixtures/thirdparty-plugin"),
        "medkit_plugin_thirdparty",
    )])
}

/// Tags: O, B-problem, I-problem, B-treatment, I-treatment; 64 character classes.
fn write_pretrained(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let w: Vec<f64> = (0..64 * 5).map(|i| ((i * 7) % 11) as f64 / 100.0).collect();
    std::fs::write(dir.join("weights.json"), serde_json::to_string(&w).unwrap()).unwrap();
}

fn pipeline(dir: &Path, name: &str, out: &str, plugins: &Path, extra: &str) -> PathBuf {
    let data = test_data("e2e");
    let text = format!(
        r#"[plugins]
dirs = ["{plugins}"]

[corpus]
train = "{train}"
validation = "{validation}"

[train.trainable]
operation = "char-tagger"
weights_from = "pretrained"
labels = ["problem", "treatment"]
{extra}

[train.trainer]
output_dir = "{out}"
nb_training_epochs = 3
batch_size = 4
learning_rate = 0.2
seed = 7
checkpoint_metric = "char-agreement.accuracy"
minimize_checkpoint_metric = false

[[train.metrics]]
operation = "seqeval"
tagging_scheme = "iob2"
average = "macro"

[[train.metrics]]
operation = "char-agreement"
"#,
        plugins = plugins.display(),
        train = data.join("train.jsonl").display(),
        validation = data.join("validation.jsonl").display(),
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `medkit run` from another working directory: relative paths must resolve against the
/// pipeline file's folder through the plugin's declared path key.
fn run(args: &[&Path]) -> Output {
    std::process::Command::new(medkit_bin())
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("MEDKIT_PLUGIN_PATH")
        .output()
        .expect("run medkit")
}

/// The weights of the epoch-3 checkpoint.
fn last_weights(out: &Path) -> Value {
    read_json(&epoch_checkpoint(out, 3).join("weights.json"))
}

#[test]
fn thirdparty_trainable_resumes_exactly_with_its_metrics_beside_seqeval() {
    build_workspace();
    let plugins = thirdparty_dir();
    let tmp = tempfile::tempdir().unwrap();
    write_pretrained(&tmp.path().join("pretrained"));
    let p = plugins.path();
    let reference = pipeline(tmp.path(), "reference.toml", "reference", p, "");
    let o = run(&[Path::new("run"), &reference]);
    assert!(o.status.success(), "{}", text(&o));
    let history = history(&tmp.path().join("reference"));
    let eval = history[2]["eval"].as_object().unwrap();
    // the trainer's loss is its own; colliding names carry their operation's name
    for key in [
        "loss",
        "char-agreement.loss",
        "seqeval.accuracy",
        "char-agreement.accuracy",
        "positions",
        "macro_f1-score",
        "support",
    ] {
        assert!(eval.contains_key(key), "no '{key}' in {eval:?}");
    }
    assert!(!eval.contains_key("accuracy"), "{eval:?}");
    assert_ne!(eval["loss"], eval["char-agreement.loss"]);

    // Interrupted after 3 steps (SIGTERM from inside the plugin), then resumed with the plain
    // config: same history and weights as the uninterrupted run.
    let interrupted = pipeline(
        tmp.path(),
        "interrupted.toml",
        "resumed",
        p,
        "interrupt_after_steps = 3",
    );
    let o = run(&[Path::new("run"), &interrupted]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("training interrupted at epoch 1, step 3"), "{t}");
    let resume = pipeline(tmp.path(), "resume.toml", "resumed", p, "");
    let o = run(&[Path::new("run"), &resume, Path::new("--resume")]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Resuming from"), "{t}");
    assert_eq!(read_json(&tmp.path().join("resumed/history.json")), history);
    let resumed = last_weights(&tmp.path().join("resumed"));
    assert_eq!(resumed, last_weights(&tmp.path().join("reference")));
    // and training changed them (a resume that loaded nothing would differ above; this one
    // guards against a run that never trained)
    assert_ne!(
        resumed,
        read_json(&tmp.path().join("pretrained/weights.json"))
    );
}

#[test]
fn a_metrics_operation_listed_twice_is_an_error_naming_its_key() {
    build_workspace();
    let plugins = thirdparty_dir();
    let tmp = tempfile::tempdir().unwrap();
    write_pretrained(&tmp.path().join("pretrained"));
    let cfg = pipeline(tmp.path(), "twice.toml", "out", plugins.path(), "");
    let mut text_cfg = std::fs::read_to_string(&cfg).unwrap();
    text_cfg.push_str("\n[[train.metrics]]\noperation = \"char-agreement\"\n");
    std::fs::write(&cfg, text_cfg).unwrap();
    let o = run(&[Path::new("run"), &cfg]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("train.metrics[2]") && t.contains("listed twice"),
        "{t}"
    );
}

#[test]
fn trainable_without_a_declared_seed_gets_none() {
    // char-tagger requires `seed`: the host passes the trainer's because the plugin declared
    // it accepts one (the reference run above would fail otherwise). Removing the trainer seed
    // leaves the key missing, and the plugin's error names it.
    build_workspace();
    let plugins = thirdparty_dir();
    let tmp = tempfile::tempdir().unwrap();
    write_pretrained(&tmp.path().join("pretrained"));
    let cfg = pipeline(tmp.path(), "noseed.toml", "out", plugins.path(), "");
    let t = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("seed = 7\n", "");
    std::fs::write(&cfg, t).unwrap();
    let o = run(&[Path::new("run"), &cfg]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("missing field `seed`"), "{t}");
}

#[test]
fn metrics_and_callbacks_swap_to_a_third_party_plugin_by_editing_toml() {
    // The template plugin, built outside the workspace; the host binary is not rebuilt.
    let plugins = plugin_dir_with(&[template_plugin()]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let epochs = dir.path().join("epochs.txt");
    let cfg = TinyPipeline {
        plugin_dirs: vec![plugins.path().to_path_buf()],
        output_dir: out.clone(),
        epochs: 3,
        metrics: "operation = \"token-accuracy\"".into(),
        rest: format!(
            "{PRINTER}\n[[train.callbacks]]\noperation = \"epoch-file\"\npath = \"{}\"\n\n\
             [[train.callbacks]]\noperation = \"history-jsonl\"\noutput_dir = \"{}\"\n",
            epochs.display(),
            out.display()
        ),
        ..TinyPipeline::default()
    }
    .write(&dir.path().join("swapped.toml"));
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let h = history(&out);
    let acc = h[2]["eval"]["token_accuracy"]
        .as_f64()
        .expect("token_accuracy in eval metrics");
    assert!((0.0..=1.0).contains(&acc));
    assert!(
        h[2]["eval"].get("overall_f1-score").is_none(),
        "seqeval was swapped out"
    );
    assert_eq!(std::fs::read_to_string(&epochs).unwrap().lines().count(), 3);
}

/// Identifiers of the HF matcher's and seqeval's configs and the names of plugin operations,
/// as string literals: only the shorthand table may hold them.
const PLUGIN_NAMES: [&str; 17] = [
    "\"hf-entity-matcher\"",
    "\"seqeval\"",
    "\"default-printer\"",
    "\"history-jsonl\"",
    "\"sentence-tokenizer\"",
    "\"model_name_or_path\"",
    "\"aggregation_strategy\"",
    "\"tagging_scheme\"",
    "\"return_metrics_by_label\"",
    "\"tag_subtokens\"",
    "\"tokenizer_max_length\"",
    "\"hf_auth_token\"",
    "\"attrs_to_copy\"",
    "\"bf16\"",
    "\"streams\"",
    "\"zero_division\"",
    "\"model\"",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn host_names_no_plugin_key_outside_the_shorthand_table() {
    let host = root().join("host/src");
    let table = host.join("commands/annotate.rs");
    let mut files = Vec::new();
    rust_files(&host, &mut files);
    assert!(files.len() > 20, "{files:?}");
    let mut found = Vec::new();
    for f in files.iter().filter(|f| **f != table) {
        for (i, line) in std::fs::read_to_string(f).unwrap().lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue; // comments may name them
            }
            for name in PLUGIN_NAMES {
                if code.contains(name) {
                    found.push(format!("{}:{}: {name}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "plugin keys named in the host:\n{}",
        found.join("\n")
    );
    // the table itself holds them (the test would pass vacuously after a rename)
    let t = std::fs::read_to_string(&table).unwrap();
    for name in [
        "\"hf-entity-matcher\"",
        "\"seqeval\"",
        "\"aggregation_strategy\"",
    ] {
        assert!(t.contains(name), "{name} not in {}", table.display());
    }
}
