//! End to end on a tiny random BERT (seconds): `medkit run` trains, checkpoints, annotates with
//! the best checkpoint; `medkit annotate` on that checkpoint reproduces the pipeline's output; the
//! same seed gives the same losses; existing checkpoints are not overwritten silently.

use medkit_tests::*;
use std::path::{Path, PathBuf};

/// Three epochs of the tiny BERT, its history also as JSONL, then the validation set annotated
/// with the best checkpoint and evaluated.
fn pipeline(dir: &Path, output_dir: &Path) -> PathBuf {
    let out = output_dir.display();
    TinyPipeline {
        output_dir: output_dir.to_path_buf(),
        epochs: 3,
        trainer_keys: "overwrite_output_dir = false".into(),
        rest: format!(
            r#"{PRINTER}
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
"#
        ),
        ..TinyPipeline::default()
    }
    .write(&dir.join("pipeline.toml"))
}

fn losses(out: &Path) -> Vec<f64> {
    history(out)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["train"]["loss"].as_f64().unwrap())
        .collect()
}

#[test]
fn train_checkpoint_annotate_and_reproduce() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = pipeline(dir.path(), &out);
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Training is completed"), "{t}");

    let m = read_json(&out.join("metrics.json"));
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
    let (best, validation) = (PathBuf::from(best), test_data("e2e/validation.jsonl"));
    let mut args = annotate_args(&best, &validation, &again);
    args.extend(["--batch-size", "1", "--drop-existing-entities"]);
    let o = medkit(&args);
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
    let cfg2 = pipeline(dir.path(), &out2);
    let o = run_pipeline(&cfg2, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(losses(&out2), l);

    // Existing checkpoints: no silent overwrite.
    let o = run_pipeline(&cfg2, &[]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("already holds"), "{t}");
}
