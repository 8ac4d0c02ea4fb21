//! End to end on a tiny random BERT (seconds): `medkit run` trains, checkpoints, annotates with
//! the best checkpoint; `medkit annotate` on that checkpoint reproduces the pipeline's output; the
//! same seed gives the same losses; existing checkpoints are not overwritten silently.

use medkit_tests::*;
use std::path::Path;

fn pipeline(dir: &Path, output_dir: &Path, overwrite: bool) -> String {
    let r = root();
    let text = format!(
        r#"
[corpus]
train = "{data}/train.jsonl"
validation = "{data}/validation.jsonl"

[train.trainable]
operation = "hf-entity-matcher"
model_name_or_path = "{model}"
labels = ["problem", "treatment", "test"]
tagging_scheme = "iob2"
tokenizer_max_length = 64

[train.trainer]
output_dir = "{out}"
overwrite_output_dir = {overwrite}
learning_rate = 1e-3
nb_training_epochs = 3
batch_size = 4
seed = 0

[train.metrics]
operation = "seqeval"
tagging_scheme = "iob2"

[[train.callbacks]]
operation = "default-printer"

[[train.callbacks]]
operation = "history-jsonl"
output_dir = "{out}"

[annotate]
input = "validation"
output = "{out}/annotated.jsonl"
batch_size = 3
drop_existing_entities = true

[annotate.matcher]
operation = "hf-entity-matcher"
model = "@best"

[[evaluate]]
reference = "validation"
predicted = "@annotate"
scheme = "iob2"
output = "{out}/metrics.json"
"#,
        data = r.join("tests/data/e2e").display(),
        model = r
            .join("plugins/hf-matcher/tests/fixtures/tiny_bert")
            .display(),
        out = output_dir.display(),
    );
    let p = dir.join("pipeline.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn losses(out: &Path) -> Vec<f64> {
    let h: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("history.json")).unwrap()).unwrap();
    h.as_array()
        .unwrap()
        .iter()
        .map(|e| e["train"]["loss"].as_f64().unwrap())
        .collect()
}

#[test]
fn train_checkpoint_annotate_and_reproduce() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = pipeline(dir.path(), &out, false);
    let o = medkit(&["run", &cfg]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Training is completed"), "{t}");

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert!(m["macro_f1-score"].is_number() && m["support"] == 12, "{m}");
    assert!(t.contains("evaluate: "), "{t}");

    let l = losses(&out);
    assert_eq!(l.len(), 3);
    assert!(l[2] < l[0], "train loss should decrease: {l:?}");
    let hist_jsonl = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert_eq!(hist_jsonl.lines().count(), 3);

    let best = t
        .lines()
        .find_map(|l| l.strip_prefix("train: best checkpoint "))
        .expect("best checkpoint printed")
        .trim()
        .to_string();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "trainer_state.json",
        "trainer_config.json",
        "metrics.json",
    ] {
        assert!(Path::new(&best).join(f).is_file(), "{best}/{f}");
    }

    // The matcher rebuilt from the checkpoint gives the pipeline's annotations again.
    let again = dir.path().join("again.jsonl");
    let o = medkit(&[
        "annotate",
        "--model",
        &best,
        "--input",
        root()
            .join("tests/data/e2e/validation.jsonl")
            .to_str()
            .unwrap(),
        "--output",
        again.to_str().unwrap(),
        "--batch-size",
        "1",
        "--drop-existing-entities",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let strip_uids = |s: String| -> Vec<serde_json::Value> {
        s.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if let Some(anns) = v.get_mut("anns").and_then(|a| a.as_array_mut()) {
                    for a in anns {
                        a.as_object_mut().unwrap().remove("uid");
                        if let Some(attrs) = a.get_mut("attrs").and_then(|x| x.as_array_mut()) {
                            for at in attrs {
                                at.as_object_mut().unwrap().remove("uid");
                            }
                        }
                    }
                }
                v
            })
            .collect()
    };
    let a = strip_uids(std::fs::read_to_string(out.join("annotated.jsonl")).unwrap());
    let b = strip_uids(std::fs::read_to_string(&again).unwrap());
    assert_eq!(a.len(), 9, "header + 8 documents");
    assert_eq!(a, b, "batch 3 in the pipeline vs batch 1 from the CLI");

    // Same seed, same losses.
    let out2 = dir.path().join("run2");
    let cfg2 = pipeline(dir.path(), &out2, false);
    let o = medkit(&["run", &cfg2]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(losses(&out2), l);

    // Existing checkpoints: no silent overwrite.
    let o = medkit(&["run", &cfg2]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("already holds"), "{t}");
}

#[test]
fn metrics_and_callbacks_swap_to_a_third_party_plugin_by_editing_toml() {
    // The template plugin, built outside the workspace; the host binary is not rebuilt.
    let lib = build_external_plugin(
        &root().join("examples/template-plugin"),
        "medkit_plugin_template",
    );
    let plugins = plugin_dir_with(&[lib]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let epochs = dir.path().join("epochs.txt");
    let base = std::fs::read_to_string(pipeline(dir.path(), &out, false)).unwrap();
    let swapped = base
        .replace(
            "[train.metrics]\noperation = \"seqeval\"\ntagging_scheme = \"iob2\"",
            "[train.metrics]\noperation = \"token-accuracy\"",
        )
        .replace(
            "[[train.callbacks]]\noperation = \"history-jsonl\"",
            &format!("[[train.callbacks]]\noperation = \"epoch-file\"\npath = \"{}\"\n\n[[train.callbacks]]\noperation = \"history-jsonl\"", epochs.display()),
        );
    let text_cfg = format!(
        "[plugins]\ndirs = [\"{}\"]\n{swapped}",
        plugins.path().display()
    );
    let cfg = dir.path().join("swapped.toml");
    std::fs::write(&cfg, text_cfg).unwrap();
    let o = medkit(&["run", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let h: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("history.json")).unwrap()).unwrap();
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
