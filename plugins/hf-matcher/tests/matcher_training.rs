//! Train/eval steps of the trainable on a tiny random BERT: the loss decreases, eval is
//! deterministic, a saved model reproduces the eval predictions, a saved state resumes exactly,
//! and a seed reproduces a run. The optimizer settings (configure_optimizer's JSON,
//! medkit_sdk::OptimizerConfig) change training, bad ones are errors naming the key, a state
//! keeps them for resume, and a state written before they existed resumes as medkit's optimizer.

use medkit_plugin_hf::collate::{argmax_ids, pad};
use medkit_plugin_hf::testing::{document, temp_dir, write_tiny_bert};
use medkit_plugin_hf::trainable::{HfEntityMatcherTrainable, STATE_FILE};
use medkit_sdk::{Features, StepOutput, Trainable};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Mutex;

/// torch's RNG is global: tests that seed it run one at a time.
static RNG: Mutex<()> = Mutex::new(());

fn trainable(model: &Path, seed: u64) -> HfEntityMatcherTrainable {
    let config = json!({
        "model_name_or_path": model,
        "labels": ["problem", "treatment"],
        "tagging_scheme": "iob2",
        "seed": seed,
    });
    HfEntityMatcherTrainable::from_json(&config.to_string()).expect("trainable")
}

fn dataset(t: &mut HfEntityMatcherTrainable) -> Vec<Features> {
    let docs = [
        document(
            "a",
            "Le patient présente une fièvre et un œdème aux jambes.",
            &[("problem", "fièvre"), ("problem", "œdème aux jambes")],
        ),
        document(
            "b",
            "Elle est sous paracétamol depuis trois jours.",
            &[("treatment", "paracétamol")],
        ),
        document(
            "c",
            "Il a une toux et une douleur aux jambes.",
            &[("problem", "toux"), ("problem", "douleur aux jambes")],
        ),
        document(
            "d",
            "La patiente est sous traitement par paracétamol.",
            &[("treatment", "paracétamol")],
        ),
    ];
    docs.into_iter()
        .flat_map(|d| t.preprocess(d).unwrap())
        .collect()
}

fn train_steps(t: &mut HfEntityMatcherTrainable, data: &[Features], n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let out = t.train_step(data.to_vec(), 1.0).unwrap();
            t.optimizer_step().unwrap();
            out.loss
        })
        .collect()
}

#[test]
fn loss_decreases_and_eval_is_deterministic() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("train-loss");
    write_tiny_bert(&dir, 0).unwrap();
    let mut t = trainable(&dir, 3);
    let data = dataset(&mut t);
    t.configure_optimizer(5e-3, "{}").unwrap();
    let before = t.eval_step(data.clone()).unwrap();
    assert_eq!(
        before,
        t.eval_step(data.clone()).unwrap(),
        "eval must be deterministic"
    );
    // References are the non-ignored labels, one list per example.
    let expected: Vec<Vec<i64>> = data
        .iter()
        .map(|f| f.labels.iter().copied().filter(|&l| l != -100).collect())
        .collect();
    let refs: Vec<Vec<i64>> = before.references.iter().map(|r| r.to_vec()).collect();
    assert_eq!(refs, expected);

    let losses = train_steps(&mut t, &data, 20);
    assert!(losses.iter().all(|l| l.is_finite()));
    let after = t.eval_step(data.clone()).unwrap();
    // Dropout makes the exact curve depend on the RNG stream: over seeds 1-6 the eval loss ends
    // at 0.36-0.57 of its start (libtorch's dropout kernel or ours alike).
    assert!(
        after.loss < 0.65 * before.loss,
        "eval loss {} → {} (train losses {losses:?})",
        before.loss,
        after.loss
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn saved_model_reproduces_eval_predictions() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("train-save");
    write_tiny_bert(&dir.join("base"), 0).unwrap();
    let mut t = trainable(&dir.join("base"), 5);
    let data = dataset(&mut t);
    t.configure_optimizer(5e-3, "{}").unwrap();
    train_steps(&mut t, &data, 5);
    let out: StepOutput = t.eval_step(data.clone()).unwrap();
    t.save(dir.join("saved").to_str().unwrap()).unwrap();

    let mut reloaded = trainable(&dir.join("saved"), 99);
    assert_eq!(reloaded.id_to_label(), t.id_to_label());
    let again = reloaded.eval_step(data).unwrap();
    assert_eq!(again.predictions, out.predictions);
    assert!(
        (again.loss - out.loss).abs() < 1e-6,
        "{} vs {}",
        again.loss,
        out.loss
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn resume_from_saved_state_gives_identical_next_steps() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("train-resume");
    write_tiny_bert(&dir.join("base"), 0).unwrap();
    let mut a = trainable(&dir.join("base"), 7);
    let data = dataset(&mut a);
    a.set_seed(11).unwrap();
    a.configure_optimizer(5e-3, "{}").unwrap();
    train_steps(&mut a, &data, 3);
    let ckpt = dir.join("ckpt");
    a.save(ckpt.to_str().unwrap()).unwrap();
    a.save_state(ckpt.to_str().unwrap()).unwrap();
    let next_a = train_steps(&mut a, &data, 2);

    // Built as the interrupted run was (from the pretrained model, another head seed): resume
    // replaces the weights, the optimizer and RNG state by the checkpoint's.
    let mut b = trainable(&dir.join("base"), 0);
    b.configure_optimizer(1.0, "{}").unwrap(); // the saved hyper-parameters win
    b.resume(ckpt.to_str().unwrap()).unwrap();
    let next_b = train_steps(&mut b, &data, 2);
    assert_eq!(next_a, next_b);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn same_seed_same_run() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("train-seed");
    write_tiny_bert(&dir, 0).unwrap();
    let run = |seed| {
        let mut t = trainable(&dir, seed);
        let data = dataset(&mut t);
        t.set_seed(seed).unwrap();
        t.configure_optimizer(5e-3, "{}").unwrap();
        train_steps(&mut t, &data, 3)
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sub_batches_give_the_padded_batch_loss_and_predictions() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("train-subbatch");
    write_tiny_bert(&dir, 0).unwrap();
    let mut t = trainable(&dir, 3);
    let data = dataset(&mut t);
    let out = t.eval_step(data.clone()).unwrap();
    // The same batch as one padded tensor, as transformers computes it.
    let padded = pad(&data, 0).unwrap();
    let x = padded.to_tensors(tch::Device::Cpu);
    let (loss, ids) = tch::no_grad(|| {
        let logits = t.model().forward_t(&x.input_ids, &x.attention_mask, false);
        let loss = logits.view([-1, 5]).cross_entropy_loss::<tch::Tensor>(
            &x.labels.view([-1]),
            None,
            tch::Reduction::Mean,
            -100,
            0.0,
        );
        (f64::try_from(&loss).unwrap(), argmax_ids(&logits).unwrap())
    });
    assert!((out.loss - loss).abs() < 1e-5, "{} vs {loss}", out.loss);
    let (_, preds) = padded.split_outputs(&ids);
    let got: Vec<Vec<i64>> = out.predictions.iter().map(|p| p.to_vec()).collect();
    assert_eq!(got, preds);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn non_finite_loss_is_an_error_naming_the_step() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("train-nan");
    write_tiny_bert(&dir, 0).unwrap();
    let mut t = trainable(&dir, 3);
    let data = dataset(&mut t);
    t.configure_optimizer(1e38, "{}").unwrap();
    train_steps(&mut t, &data, 1);
    let err = (0..3)
        .find_map(|_| t.train_step(data.clone(), 1.0).err())
        .expect("an error");
    assert!(
        err.contains("training step") && err.contains("non-finite loss"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

const SETTINGS: &str = r#"{"weight_decay": 0.1, "no_decay": ["bias", "LayerNorm.weight"],
    "betas": [0.8, 0.95], "eps": 1e-6, "max_grad_norm": 0.5}"#;

/// Three steps with `settings`, a checkpoint, then two more steps (their losses returned).
fn run_and_checkpoint(base: &Path, ckpt: &Path, settings: &str) -> Vec<f64> {
    let mut a = trainable(base, 7);
    let data = dataset(&mut a);
    a.set_seed(11).unwrap();
    a.configure_optimizer(5e-3, settings).unwrap();
    train_steps(&mut a, &data, 3);
    a.save(ckpt.to_str().unwrap()).unwrap();
    a.save_state(ckpt.to_str().unwrap()).unwrap();
    train_steps(&mut a, &data, 2)
}

/// Resumes from `ckpt` (configured with `{}` first, or not at all) and runs two steps.
fn resume_and_run(base: &Path, ckpt: &Path, configure_first: bool) -> Vec<f64> {
    let mut b = trainable(base, 0);
    let data = dataset(&mut b);
    if configure_first {
        b.configure_optimizer(1.0, "{}").unwrap();
    }
    b.resume(ckpt.to_str().unwrap()).unwrap();
    train_steps(&mut b, &data, 2)
}

#[test]
fn settings_change_training_and_resume_restores_them() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("optim-resume");
    let base = dir.join("base");
    write_tiny_bert(&base, 0).unwrap();
    let (ckpt, plain) = (dir.join("ckpt"), dir.join("plain"));
    let next = run_and_checkpoint(&base, &ckpt, SETTINGS);
    let next_medkit = run_and_checkpoint(&base, &plain, "{}");
    assert_ne!(next, next_medkit, "the settings did not change training");

    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join(STATE_FILE)).unwrap()).unwrap();
    let saved = &state["optimizer"]["config"];
    assert_eq!(saved["no_decay"], json!(["bias", "LayerNorm.weight"]));
    assert_eq!(saved["max_grad_norm"], json!(0.5));
    assert_eq!(
        (saved["beta1"].clone(), saved["eps"].clone()),
        (json!(0.8), json!(1e-6))
    );
    // The saved settings win over those configured before resume, and apply without them.
    assert_eq!(resume_and_run(&base, &ckpt, true), next);
    assert_eq!(resume_and_run(&base, &ckpt, false), next);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_state_saved_before_the_settings_existed_resumes_as_medkit() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("optim-old-state");
    let base = dir.join("base");
    write_tiny_bert(&base, 0).unwrap();
    let ckpt = dir.join("ckpt");
    let next = run_and_checkpoint(&base, &ckpt, "{}");
    // The layout of trainable_state.json before no_decay / max_grad_norm.
    let path = ckpt.join(STATE_FILE);
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let config = state["optimizer"]["config"].as_object_mut().unwrap();
    config.remove("no_decay");
    config.remove("max_grad_norm");
    let keys: Vec<&String> = config.keys().collect();
    assert_eq!(keys, ["lr", "beta1", "beta2", "eps", "weight_decay"]);
    std::fs::write(&path, state.to_string()).unwrap();
    assert_eq!(resume_and_run(&base, &ckpt, true), next);
    assert_eq!(resume_and_run(&base, &ckpt, false), next);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_settings_are_errors_naming_the_key() {
    let dir = temp_dir("optim-bad");
    write_tiny_bert(&dir, 0).unwrap();
    let mut t = trainable(&dir, 0);
    for (json, expected) in [
        (r#"{"betas": [0.9, 1.5]}"#, "betas must each be in [0, 1)"),
        (r#"{"eps": -1}"#, "eps must be > 0"),
        (r#"{"weight_decay": -0.01}"#, "weight_decay must be >= 0"),
        (r#"{"max_grad_norm": 0}"#, "max_grad_norm must be > 0"),
        (r#"{"no_decay": "bias"}"#, "'no_decay'"),
        (r#"{"lr": 0.1}"#, "unknown field `lr`"),
        ("not json", "optimizer config"),
    ] {
        let err = t.configure_optimizer(1e-3, json).unwrap_err();
        assert!(err.contains(expected), "{json}: {err}");
    }
    t.configure_optimizer(1e-3, SETTINGS).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
