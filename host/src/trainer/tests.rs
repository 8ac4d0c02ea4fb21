//! Trainer loop tests with an in-process fake trainable (no plugin, no libtorch).

use super::*;
use medkit_sdk::{
    Features, Metric, MetricsComputer, OpResult, Operation, Phase, StepOutput, TextDocument,
    Trainable, TrainerCallback,
};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Log {
    events: Vec<String>,
    batches: Vec<Vec<i64>>,
    optimizer_steps: usize,
    lrs: Vec<f64>,
    /// configure_optimizer's JSON, per call.
    optimizer_json: Vec<String>,
}

/// Loss = 1/(1+optimizer steps) (or per-epoch scripted values); records what it is asked.
struct Fake {
    log: Arc<Mutex<Log>>,
    eval_losses: Vec<f64>,
    epoch: usize,
    nan_at_step: Option<usize>,
    train_steps: usize,
    /// Raised after this many train steps (simulates SIGINT).
    interrupt_at: Option<(usize, Arc<std::sync::atomic::AtomicBool>)>,
    /// The "model": the optimizer step count, saved and restored with the state.
    opt_steps: usize,
}

impl Trainable for Fake {
    fn id_to_label(&self) -> Vec<String> {
        vec!["O".into(), "B-x".into(), "I-x".into()]
    }
    fn device(&self) -> String {
        "cpu".into()
    }
    fn set_seed(&mut self, _seed: u64) -> OpResult<()> {
        Ok(())
    }
    fn preprocess(&mut self, document: TextDocument) -> OpResult<Vec<Features>> {
        let id: i64 = document.uid.parse().map_err(|_| "bad uid")?;
        if document.text.contains(';') {
            // Windows: one example per part, labelled 10 × id + part (two tokens each).
            let parts = document.text.split(';').count() as i64;
            return Ok((0..parts)
                .map(|k| Features {
                    input_ids: vec![id, k].into(),
                    labels: vec![10 * id + k; 2].into(),
                })
                .collect());
        }
        Ok(vec![Features {
            input_ids: vec![id; 1 + (id as usize % 3)].into(),
            labels: vec![1; 1 + (id as usize % 3)].into(),
        }])
    }
    fn configure_optimizer(&mut self, lr: f64, config: &str) -> OpResult<()> {
        let mut log = self.log.lock().unwrap();
        log.lrs.push(lr);
        log.optimizer_json.push(config.to_string());
        Ok(())
    }
    fn set_learning_rate(&mut self, lr: f64) -> OpResult<()> {
        self.log.lock().unwrap().lrs.push(lr);
        Ok(())
    }
    fn train_step(&mut self, batch: Vec<Features>, _scale: f64) -> OpResult<StepOutput> {
        self.train_steps += 1;
        if let Some((n, flag)) = &self.interrupt_at {
            if self.train_steps == *n {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let mut log = self.log.lock().unwrap();
        log.batches
            .push(batch.iter().map(|f| f.input_ids[0]).collect());
        let loss = if Some(self.train_steps) == self.nan_at_step {
            f64::NAN
        } else {
            1.0 / (1.0 + self.opt_steps as f64)
        };
        Ok(StepOutput {
            loss,
            references: batch.iter().map(|f| f.labels.clone()).collect(),
            predictions: batch.iter().map(|f| f.labels.clone()).collect(),
        })
    }
    fn eval_step(&mut self, batch: Vec<Features>) -> OpResult<StepOutput> {
        if batch[0].input_ids[0] == 0 {
            self.epoch += 1; // first eval batch of an epoch (eval is length-sorted; uid 0 first)
        }
        Ok(StepOutput {
            loss: self.eval_losses.get(self.epoch - 1).copied().unwrap_or(1.0),
            references: batch.iter().map(|f| f.labels.clone()).collect(),
            predictions: batch.iter().map(|f| f.labels.clone()).collect(),
        })
    }
    fn optimizer_step(&mut self) -> OpResult<()> {
        self.opt_steps += 1;
        self.log.lock().unwrap().optimizer_steps += 1;
        Ok(())
    }
    fn save(&mut self, dir: &str) -> OpResult<()> {
        std::fs::write(format!("{dir}/model.bin"), b"weights").map_err(|e| e.to_string())
    }
    fn save_state(&mut self, dir: &str) -> OpResult<()> {
        std::fs::write(format!("{dir}/optimizer.bin"), self.opt_steps.to_string())
            .map_err(|e| e.to_string())
    }
    fn resume(&mut self, dir: &str) -> OpResult<()> {
        let t =
            std::fs::read_to_string(format!("{dir}/optimizer.bin")).map_err(|e| e.to_string())?;
        self.opt_steps = t.parse().map_err(|_| "bad state")?;
        Ok(())
    }
}

struct Count(usize);
impl MetricsComputer for Count {
    fn set_labels(&mut self, labels: Vec<String>) -> OpResult<()> {
        assert_eq!(labels.len(), 3);
        Ok(())
    }
    fn prepare_batch(&mut self, r: Vec<Vec<i64>>, _p: Vec<Vec<i64>>) -> OpResult<()> {
        self.0 += r.len();
        Ok(())
    }
    fn compute(&mut self) -> OpResult<Vec<Metric>> {
        let n = std::mem::take(&mut self.0);
        Ok(vec![Metric::count("examples", n as f64)])
    }
    fn reset(&mut self) -> OpResult<()> {
        self.0 = 0;
        Ok(())
    }
}

/// Records the reference sequences it is handed, per phase (reset starts a new one).
struct Seen(Arc<Mutex<Vec<Vec<Vec<i64>>>>>);
impl MetricsComputer for Seen {
    fn set_labels(&mut self, _labels: Vec<String>) -> OpResult<()> {
        Ok(())
    }
    fn prepare_batch(&mut self, r: Vec<Vec<i64>>, _p: Vec<Vec<i64>>) -> OpResult<()> {
        let mut seen = self.0.lock().unwrap();
        seen.last_mut().expect("reset first").extend(r);
        Ok(())
    }
    fn compute(&mut self) -> OpResult<Vec<Metric>> {
        Ok(vec![])
    }
    fn reset(&mut self) -> OpResult<()> {
        self.0.lock().unwrap().push(Vec::new());
        Ok(())
    }
}

struct Recorder(Arc<Mutex<Log>>);
impl TrainerCallback for Recorder {
    fn on_epoch_end(&mut self, m: &medkit_sdk::EpochMetrics, epoch: u32, _d: f64) -> OpResult<()> {
        self.0.lock().unwrap().events.push(format!(
            "epoch_end {epoch} eval_loss={}",
            m.eval
                .iter()
                .find(|x| x.name.as_str() == "loss")
                .unwrap()
                .value
        ));
        Ok(())
    }
    fn on_step_end(&mut self, _s: u64, _n: u64, phase: Phase, _l: f64) -> OpResult<()> {
        if phase == Phase::Train {
            self.0.lock().unwrap().events.push("step".into());
        }
        Ok(())
    }
    fn on_save(&mut self, dir: &str) -> OpResult<()> {
        self.0.lock().unwrap().events.push(format!("save {dir}"));
        Err("callback failures do not stop training".into())
    }
}

fn docs(n: usize) -> Vec<TextDocument> {
    (0..n)
        .map(|i| TextDocument {
            uid: i.to_string().into(),
            text: "x".into(),
            metadata: "{}".into(),
            anns: Default::default(),
            attrs: Default::default(),
        })
        .collect()
}

fn trainer(dir: &std::path::Path, eval_losses: Vec<f64>, log: &Arc<Mutex<Log>>) -> Trainer {
    let fake = Fake {
        log: log.clone(),
        eval_losses,
        epoch: 0,
        nan_at_step: None,
        train_steps: 0,
        interrupt_at: None,
        opt_steps: 0,
    };
    let Operation::Trainable(trainable) = Operation::trainable(fake) else {
        unreachable!()
    };
    let Operation::Metrics(metrics) = Operation::metrics(Count(0)) else {
        unreachable!()
    };
    let Operation::Callback(cb) = Operation::callback(Recorder(log.clone())) else {
        unreachable!()
    };
    let config: TrainerConfig = toml::from_str(&format!(
        "output_dir = '{}'\nnb_training_epochs = 3\nbatch_size = 4\nseed = 7\ngradient_accumulation_steps = 2",
        dir.display()
    ))
    .unwrap();
    Trainer {
        config,
        optimizer: None,
        trainable,
        metrics: vec![("count".into(), metrics)],
        callbacks: Callbacks::new(vec![("recorder".into(), cb)]),
        interrupt: None,
        resume: None,
        provenance: None,
    }
}

#[test]
fn each_checkpoint_holds_the_runs_provenance_when_given() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![], &log);
    t.provenance = Some(serde_json::json!({"versions": {"medkit_rs": "x"}, "data": []}));
    t.train(docs(4), docs(2)).unwrap();
    let dirs = checkpoint::existing_checkpoints(tmp.path());
    assert!(!dirs.is_empty());
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join(super::provenance::PROVENANCE_NAME)).unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(record["versions"]["medkit_rs"], "x");
        // the fake trainable writes no runtime.json: an empty runtime, not a missing key
        assert_eq!(record["versions"]["runtime"], serde_json::json!({}));
    }
    // without a record, no file
    let tmp = tempfile::tempdir().unwrap();
    trainer(tmp.path(), vec![], &log)
        .train(docs(4), docs(2))
        .unwrap();
    for dir in checkpoint::existing_checkpoints(tmp.path()) {
        assert!(!dir.join(super::provenance::PROVENANCE_NAME).exists());
    }
}

#[test]
fn trains_evaluates_checkpoints_and_tracks_the_best() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    // Epoch 2 has the best eval loss: epoch 1's checkpoint is deleted when 2 beats it; 3 is kept
    // as the last.
    let mut t = trainer(tmp.path(), vec![0.5, 0.2, 0.4], &log);
    let out = t.train(docs(10), docs(5)).unwrap();
    assert_eq!(out.history.len(), 3);
    assert_eq!(out.history[0]["eval"]["examples"], 5.0);
    assert!(out.history[0]["train"]["loss"].as_f64().unwrap() > 0.0);
    let ckpts = checkpoint::existing_checkpoints(tmp.path());
    let names: Vec<String> = ckpts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into())
        .collect();
    assert_eq!(ckpts.len(), 2, "{names:?}");
    assert!(names[0].starts_with("checkpoint_002_") && names[1].starts_with("checkpoint_003_"));
    assert_eq!(out.best_checkpoint.as_ref().unwrap(), &ckpts[0]);
    assert_eq!(out.last_checkpoint.as_ref().unwrap(), &ckpts[1]);
    for f in [
        "model.bin",
        "optimizer.bin",
        "trainer_config.json",
        "trainer_state.json",
        "metrics.json",
    ] {
        assert!(ckpts[0].join(f).is_file(), "{f}");
    }
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("history.json")).unwrap())
            .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3);
    // 10 examples, batch 4 → 3 batches/epoch; accumulation 2 → 2 optimizer steps/epoch.
    let log = log.lock().unwrap();
    assert_eq!(log.optimizer_steps, 6);
    assert_eq!(log.events.iter().filter(|e| *e == "step").count(), 9);
    assert_eq!(
        log.events.iter().filter(|e| e.starts_with("save ")).count(),
        3
    );
    assert!(!tmp.path().read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".tmp")));
}

#[test]
fn same_seed_same_batches_and_epochs_differ() {
    let run = || {
        let tmp = tempfile::tempdir().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        trainer(tmp.path(), vec![], &log)
            .train(docs(10), docs(2))
            .unwrap();
        let b = log.lock().unwrap().batches.clone();
        b
    };
    let a = run();
    assert_eq!(a, run());
    assert_ne!(a[0..3], a[3..6], "each epoch reshuffles");
}

#[test]
fn refuses_existing_checkpoints_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("checkpoint_001_20260101T000000Z")).unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let err = trainer(tmp.path(), vec![], &log)
        .train(docs(4), docs(2))
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("already holds 1 checkpoint"),
        "{err}"
    );
    let mut t = trainer(tmp.path(), vec![], &log);
    t.config.overwrite_output_dir = true;
    t.train(docs(4), docs(2)).unwrap();
    // The previous run's checkpoint is gone: runs never mix.
    assert!(!tmp.path().join("checkpoint_001_20260101T000000Z").exists());
}

#[test]
fn a_wrong_checkpoint_metric_still_saves_the_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![], &log);
    t.config.checkpoint_metric = "overall_f1".into();
    t.config.nb_training_epochs = 1;
    let err = format!("{:#}", t.train(docs(4), docs(2)).err().unwrap());
    assert!(
        err.contains("checkpoint metric 'overall_f1' not found") && err.contains("examples"),
        "{err}"
    );
    assert_eq!(checkpoint::existing_checkpoints(tmp.path()).len(), 1);
}

#[test]
fn plateau_needs_its_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![], &log);
    t.config.lr_scheduler = config::LrSchedulerKind::Plateau;
    t.config.metric_to_track_lr = "f1".into();
    let err = format!("{:#}", t.train(docs(4), docs(2)).err().unwrap());
    assert!(
        err.contains("metric_to_track_lr") && err.contains("'f1' not found"),
        "{err}"
    );
}

#[test]
fn nan_loss_stops_and_names_the_step() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![], &log);
    let fake = Fake {
        log: log.clone(),
        eval_losses: vec![],
        epoch: 0,
        nan_at_step: Some(5),
        train_steps: 0,
        interrupt_at: None,
        opt_steps: 0,
    };
    let Operation::Trainable(b) = Operation::trainable(fake) else {
        unreachable!()
    };
    t.trainable = b;
    let err = t.train(docs(10), docs(2)).err().unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("non-finite training loss") && msg.contains("step 1 of epoch 2"),
        "{msg}"
    );
    // Epoch 1's checkpoint survives.
    assert_eq!(checkpoint::existing_checkpoints(tmp.path()).len(), 1);
}

#[test]
fn empty_corpora_and_bad_values_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let err = trainer(tmp.path(), vec![], &log)
        .train(docs(3), vec![])
        .err()
        .unwrap();
    assert!(err.to_string().contains("no evaluation example"), "{err}");
    let mut t = trainer(tmp.path(), vec![], &log);
    t.config.batch_size = 0;
    assert!(t
        .train(docs(3), docs(1))
        .err()
        .unwrap()
        .to_string()
        .contains("batch_size"));
    let bad: Result<TrainerConfig, _> = toml::from_str("output_dir = 'x'\nlearnin_rate = 1");
    assert!(bad.unwrap_err().to_string().contains("learnin_rate"));
}

#[test]
fn unwritable_output_dir_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let err = trainer(&file.join("out"), vec![], &log)
        .train(docs(3), docs(1))
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("creating output_dir"),
        "{err:#}"
    );
}

#[test]
fn interrupted_then_resumed_equals_uninterrupted() {
    use std::sync::atomic::AtomicBool;
    // Reference run.
    let ref_dir = tempfile::tempdir().unwrap();
    let ref_log = Arc::new(Mutex::new(Log::default()));
    let reference = trainer(ref_dir.path(), vec![], &ref_log)
        .train(docs(10), docs(3))
        .unwrap();

    // Interrupted during epoch 2 (4th train step: step 0 of epoch 2; it stops after step 1, the
    // next gradient-accumulation boundary).
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let flag = Arc::new(AtomicBool::new(false));
    let mut t = trainer(dir.path(), vec![], &log);
    let fake = Fake {
        log: log.clone(),
        eval_losses: vec![],
        epoch: 0,
        nan_at_step: None,
        train_steps: 0,
        interrupt_at: Some((4, flag.clone())),
        opt_steps: 0,
    };
    let Operation::Trainable(b) = Operation::trainable(fake) else {
        unreachable!()
    };
    t.trainable = b;
    t.interrupt = Some(flag);
    let err = t.train(docs(10), docs(3)).err().unwrap();
    assert!(
        err.to_string().contains("interrupted at epoch 2, step 2"),
        "{err}"
    );
    let ckpts = checkpoint::existing_checkpoints(dir.path());
    assert_eq!(ckpts.len(), 2, "epoch 1 + the interrupted one");
    let point = ResumePoint::latest(dir.path()).unwrap();
    assert!(!point.completed && point.epoch == 2 && point.next_step == 2);

    // Resume with a fresh trainable (as the pipeline does: weights from the checkpoint).
    let mut t = trainer(dir.path(), vec![], &log);
    t.resume = Some(point);
    let resumed = t.train(docs(10), docs(3)).unwrap();
    assert_eq!(resumed.history, reference.history);
    assert_eq!(log.lock().unwrap().batches, ref_log.lock().unwrap().batches);
    assert_eq!(
        log.lock().unwrap().optimizer_steps,
        ref_log.lock().unwrap().optimizer_steps
    );
    // The interrupted checkpoint is gone once later ones exist.
    let names: Vec<String> = checkpoint::existing_checkpoints(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ResumePoint::read(&dir.path().join(n)).unwrap().completed),
        "{names:?}"
    );
}

#[test]
fn early_stopping_ends_training_with_a_checkpoint_of_the_last_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    // eval loss (the checkpoint metric, minimised): best at epoch 2, then two worse epochs
    let mut t = trainer(tmp.path(), vec![1.0, 0.5, 0.6, 0.7, 0.1, 0.1], &log);
    t.config.nb_training_epochs = 6;
    t.config.checkpoint_period = 0; // only the last: early stopping must still save one
    t.config.early_stopping_patience = Some(2);
    let out = t.train(docs(10), docs(5)).unwrap();
    assert_eq!(out.history.len(), 4, "stopped after epoch 4");
    let last = out.last_checkpoint.unwrap();
    let name = last.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("checkpoint_004_"), "{name}");
    assert_eq!(ResumePoint::read(&last).unwrap().epoch, 4);
    // without it, all six epochs run
    let tmp = tempfile::tempdir().unwrap();
    let mut t = trainer(tmp.path(), vec![1.0, 0.5, 0.6, 0.7, 0.1, 0.1], &log);
    t.config.nb_training_epochs = 6;
    assert_eq!(t.train(docs(10), docs(5)).unwrap().history.len(), 6);
}

#[test]
fn the_manifest_names_the_best_and_the_last_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![0.5, 0.2, 0.4], &log);
    let out = t.train(docs(10), docs(5)).unwrap();
    let path = tmp.path().join(super::checkpointer::MANIFEST_NAME);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(m["checkpoint_metric"], "loss");
    assert_eq!(m["minimize"], true);
    assert_eq!(
        m["best"]["dir"].as_str().map(std::path::PathBuf::from),
        out.best_checkpoint
    );
    assert_eq!(m["best"]["epoch"], 2);
    assert_eq!(m["best"]["eval"]["loss"], 0.2);
    assert_eq!(
        m["last"]["dir"].as_str().map(std::path::PathBuf::from),
        out.last_checkpoint
    );
    assert_eq!(m["last"]["epoch"], 3);
    assert_eq!(m["last"]["optimizer_steps"], 6);
    // overwriting the run's output_dir starts a new manifest
    let mut t = trainer(tmp.path(), vec![0.1], &log);
    t.config.overwrite_output_dir = true;
    t.config.nb_training_epochs = 1;
    t.train(docs(10), docs(5)).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        (m["best"]["epoch"].clone(), m["last"]["epoch"].clone()),
        (1.into(), 1.into())
    );
}

#[test]
fn configure_optimizer_gets_the_optimizer_settings() {
    use medkit_sdk::OptimizerConfig;
    let sent = |t: &mut Trainer, log: &Arc<Mutex<Log>>| {
        t.train(docs(4), docs(2)).unwrap();
        let json = log.lock().unwrap().optimizer_json.pop().unwrap();
        let dir = checkpoint::existing_checkpoints(&t.config.output_dir)
            .pop()
            .unwrap();
        let recorded: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(checkpoint::CONFIG_NAME)).unwrap(),
        )
        .unwrap();
        let settings = OptimizerConfig::from_json(&json).unwrap();
        assert_eq!(
            recorded["optimizer"],
            serde_json::to_value(&settings).unwrap()
        );
        (json, settings)
    };
    // Without [train.optimizer] nor max_grad_norm: medkit's optimizer, as "{}" means it.
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let (json, settings) = sent(&mut trainer(tmp.path(), vec![], &log), &log);
    assert_eq!(settings, OptimizerConfig::from_json("{}").unwrap());
    assert_eq!(
        json,
        r#"{"weight_decay":0.01,"no_decay":[],"betas":[0.9,0.999],"eps":1e-8}"#
    );
    // With the table (its defaults filled in) and clipping.
    let tmp = tempfile::tempdir().unwrap();
    let mut t = trainer(tmp.path(), vec![], &log);
    t.optimizer = Some(toml::from_str("betas = [0.8, 0.95]\neps = 1e-6").unwrap());
    t.config.max_grad_norm = Some(1.0);
    let (_, settings) = sent(&mut t, &log);
    assert_eq!(
        settings,
        OptimizerConfig {
            weight_decay: 0.01,
            no_decay: vec!["bias".into(), "LayerNorm.weight".into()],
            betas: [0.8, 0.95],
            eps: 1e-6,
            max_grad_norm: Some(1.0),
        }
    );
}

#[test]
fn bad_optimizer_settings_stop_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![], &log);
    t.config.max_grad_norm = Some(0.0);
    let err = format!("{:#}", t.train(docs(4), docs(2)).err().unwrap());
    assert!(err.contains("trainer.max_grad_norm must be > 0"), "{err}");
    let mut t = trainer(tmp.path(), vec![], &log);
    t.optimizer = Some(toml::from_str("betas = [0.9, 1.0]").unwrap());
    let err = format!("{:#}", t.train(docs(4), docs(2)).err().unwrap());
    assert!(
        err.contains("optimizer.betas must each be in [0, 1)"),
        "{err}"
    );
    assert!(log.lock().unwrap().optimizer_json.is_empty());
    assert!(checkpoint::existing_checkpoints(tmp.path()).is_empty());
}

/// Documents 0..n; those listed in `windowed` have three parts (three examples each).
fn docs_with_windows(n: usize, windowed: &[usize]) -> Vec<TextDocument> {
    let mut d = docs(n);
    for &i in windowed {
        d[i].text = "a;b;c".into();
    }
    d
}

#[test]
fn a_document_in_several_examples_reaches_the_metrics_as_one_sequence() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut t = trainer(tmp.path(), vec![], &log);
    let Operation::Metrics(m) = Operation::metrics(Seen(seen.clone())) else {
        unreachable!()
    };
    t.metrics.push(("seen".into(), m));
    t.config.nb_training_epochs = 1;
    t.config.do_metrics_in_training = true;
    // train: 6 documents, 2 of them in 3 examples (10 examples, shuffled); eval: 4 documents, one
    // in 3 examples, across two batches of 4
    let out = t
        .train(docs_with_windows(6, &[1, 4]), docs_with_windows(4, &[2]))
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one train phase, one eval phase");
    let (train, eval) = (&seen[0], &seen[1]);
    // eval keeps the corpus order; the windowed document is one sequence, its parts in order
    assert_eq!(eval.len(), 4);
    assert_eq!(eval[2], [20, 20, 21, 21, 22, 22]);
    assert_eq!(out.history[0]["eval"]["examples"], 4.0);
    // train: shuffled, but each document whole and in order
    assert_eq!(train.len(), 6);
    for (doc, parts) in [(1, [10, 10, 11, 11, 12, 12]), (4, [40, 40, 41, 41, 42, 42])] {
        assert!(
            train.iter().any(|s| s == &parts),
            "document {doc} not whole: {train:?}"
        );
    }
    assert!(!train.iter().any(|s| s.len() == 2), "{train:?}");
    assert_eq!(out.history[0]["train"]["examples"], 6.0);
    // the trainer config counts documents and examples
    let ckpt = out.last_checkpoint.unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("trainer_config.json")).unwrap())
            .unwrap();
    assert_eq!(
        (
            &config["nb_train_documents"],
            &config["nb_train_examples"],
            &config["nb_eval_documents"],
            &config["nb_eval_examples"]
        ),
        (&6.into(), &10.into(), &4.into(), &6.into())
    );
}
mod train_metrics;
