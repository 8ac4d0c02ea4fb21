//! Train/eval steps of the trainable on a tiny random BERT: the loss decreases, eval is
//! deterministic, a saved model reproduces the eval predictions, a saved state resumes exactly,
//! and a seed reproduces a run.

use medkit_plugin_hf::collate::{argmax_ids, pad};
use medkit_plugin_hf::testing::{document, temp_dir, write_tiny_bert};
use medkit_plugin_hf::trainable::HfEntityMatcherTrainable;
use medkit_sdk::{Features, StepOutput, Trainable};
use serde_json::json;
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
