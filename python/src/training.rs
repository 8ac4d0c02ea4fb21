//! The host's Trainer called from Python: a trainable operation, medkit documents (as their
//! `to_dict` JSON), plugin metrics computers and callbacks, and Python callbacks with medkit's
//! `TrainerCallback` methods. Training runs on a thread of its own while the calling thread,
//! without the GIL, waits and watches for Ctrl-C (Python's signal handlers run there).

use crate::callback::PyCallback;
use crate::errors::{guarded, to_py, MedkitError};
use crate::registry::{accepts_seed, create, defaults, interrupted, versions};
use abi_stable::std_types::RResult;
use anyhow::Context as _;
use medkit_corpus::medkit_json::document_from_json_line;
use medkit_host::trainer::provenance::{mask_secrets, sha256_hex};
use medkit_host::trainer::TrainOutcome;
use medkit_host::trainer::{Callbacks, OptimizerSection, ResumePoint, Trainer, TrainerConfig};
use medkit_sdk::{MetricsComputerBox, Operation, OperationKind, TextDocument, TrainableBox};
use pyo3::prelude::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KIND: OperationKind = OperationKind::Trainable;

/// A trainable operation (e.g. `hf-entity-matcher`'s, medkit's `make_trainable`).
#[pyclass(module = "medkit_rs._native")]
pub struct Trainable {
    name: String,
    config: Value,
    /// None only while a `train` call holds it.
    op: Mutex<Option<TrainableBox>>,
    trained: AtomicBool,
}

fn build(name: &str, config: &Value) -> PyResult<TrainableBox> {
    match create(KIND, name, &config.to_string())? {
        Operation::Trainable(op) => Ok(op),
        _ => Err(MedkitError::new_err(format!(
            "operation '{name}' is not a trainable operation"
        ))),
    }
}

impl Trainable {
    fn with_op<T>(
        &self,
        f: impl FnOnce(&mut TrainableBox) -> RResult<T, abi_stable::std_types::RString>,
    ) -> PyResult<T> {
        let mut guard = self.op.lock().map_err(|_| {
            MedkitError::new_err("the trainable failed in another thread earlier; make a new one")
        })?;
        let op = guard
            .as_mut()
            .ok_or_else(|| MedkitError::new_err("the trainable is being trained"))?;
        f(op)
            .into_result()
            .map_err(|e| MedkitError::new_err(e.to_string()))
    }
}

#[pymethods]
impl Trainable {
    /// Builds trainable operation `name` from its JSON config (loads the model).
    #[new]
    fn new(py: Python<'_>, name: &str, config_json: &str) -> PyResult<Self> {
        let config: Value = serde_json::from_str(config_json)
            .map_err(|e| MedkitError::new_err(format!("config: {e}")))?;
        let op = py.detach(|| build(name, &config))?;
        Ok(Trainable {
            name: name.to_string(),
            config,
            op: Mutex::new(Some(op)),
            trained: AtomicBool::new(false),
        })
    }

    /// Tag names by id (medkit's `id_to_label`).
    fn id_to_label(&self) -> PyResult<Vec<String>> {
        let labels = self.with_op(|op| op.id_to_label())?;
        Ok(labels.into_iter().map(|l| l.into_string()).collect())
    }

    fn device(&self) -> PyResult<String> {
        Ok(self.with_op(|op| op.device())?.into_string())
    }

    /// Writes the model as a loadable directory (HF layout).
    fn save(&self, py: Python<'_>, dir: &str) -> PyResult<()> {
        py.detach(|| self.with_op(|op| op.save(dir.into())))
    }

    /// Whether a `train` call has updated the weights.
    #[getter]
    fn trained(&self) -> bool {
        self.trained.load(Ordering::Relaxed)
    }
}

fn documents(what: &str, lines: &[String]) -> anyhow::Result<Vec<TextDocument>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| document_from_json_line(l).with_context(|| format!("{what}[{i}]")))
        .collect()
}

fn operations(
    kind: OperationKind,
    specs: &[(String, String)],
) -> PyResult<Vec<(String, Operation)>> {
    specs
        .iter()
        .map(|(name, config)| Ok((name.clone(), create(kind, name, config)?)))
        .collect()
}

/// What produced a run from Python, written into each checkpoint as `provenance.json` (as a
/// pipeline's record: config with secrets masked, versions, and a hash of each data set, here the
/// documents as the trainer received them).
fn provenance(
    trainable: &Trainable,
    config: &TrainerConfig,
    optimizer: Option<&OptimizerSection>,
    ops: [(&str, &[(String, String)]); 2],
    data: [(&str, &[String]); 2],
) -> Value {
    let described = |specs: &[(String, String)]| -> Vec<Value> {
        specs
            .iter()
            .map(|(name, c)| {
                let mut v: Value = serde_json::from_str(c).unwrap_or(Value::Null);
                if let Some(m) = v.as_object_mut() {
                    m.insert("operation".into(), json!(name));
                }
                v
            })
            .collect()
    };
    let mut trainable_config = trainable.config.clone();
    if let Some(m) = trainable_config.as_object_mut() {
        m.insert("operation".into(), json!(trainable.name));
    }
    let mut resolved = json!({
        "trainer": config,
        "trainable": trainable_config,
        "optimizer": optimizer,
        ops[0].0: described(ops[0].1),
        ops[1].0: described(ops[1].1),
    });
    mask_secrets(&mut resolved);
    let hashed = |lines: &[String]| {
        json!({
            "documents": lines.len(),
            "sha256": sha256_hex(lines.join("\n").as_bytes()).ok(),
        })
    };
    json!({
        "python": true,
        "versions": versions(),
        "data": {data[0].0: hashed(data[0].1), data[1].0: hashed(data[1].1)},
        "config": resolved,
    })
}

fn metrics_computers(specs: &[(String, String)]) -> PyResult<Vec<(String, MetricsComputerBox)>> {
    operations(OperationKind::Metrics, specs)?
        .into_iter()
        .map(|(n, op)| match op {
            Operation::Metrics(m) => Ok((n, m)),
            _ => Err(MedkitError::new_err(format!(
                "'{n}' is not a metrics computer"
            ))),
        })
        .collect()
}

/// The callback operations of `specs`, then the Python callbacks; none at all: the plugins'
/// default ones (the progress printer), as medkit's Trainer without `callback`.
fn callback_list(
    mut specs: Vec<(String, String)>,
    python_callbacks: Vec<Py<PyAny>>,
) -> PyResult<Callbacks> {
    if specs.is_empty() && python_callbacks.is_empty() {
        specs = defaults(OperationKind::Callback)
            .into_iter()
            .map(|n| (n, "{}".to_string()))
            .collect();
    }
    let mut items = Vec::new();
    for (n, op) in operations(OperationKind::Callback, &specs)? {
        match op {
            Operation::Callback(c) => items.push((n, c)),
            _ => return Err(MedkitError::new_err(format!("'{n}' is not a callback"))),
        }
    }
    for (i, obj) in python_callbacks.into_iter().enumerate() {
        if let Operation::Callback(c) = Operation::callback(PyCallback(obj)) {
            items.push((format!("python-callback-{i}"), c));
        }
    }
    Ok(Callbacks::new(items))
}

/// As `medkit run`: the trainer's seed also seeds a new head, so an untrained operation built
/// without a seed is rebuilt with it (same seed, same run as the CLI).
fn seed_new_head(py: Python<'_>, trainable: &Trainable, seed: u64) -> PyResult<()> {
    let seed_unset = trainable.config.get("seed").is_none_or(Value::is_null);
    if trainable.trained() || !seed_unset || !accepts_seed(KIND, &trainable.name) {
        return Ok(());
    }
    let mut seeded = trainable.config.clone();
    seeded["seed"] = json!(seed);
    let op = py.detach(|| build(&trainable.name, &seeded))?;
    *trainable
        .op
        .lock()
        .map_err(|_| MedkitError::new_err("trainable unusable"))? = Some(op);
    Ok(())
}

/// Runs the trainer on a thread of its own; this thread waits without the GIL and runs Python's
/// signal handlers every 20 ms: the first Ctrl-C raises `flag` (the trainer stops at the next
/// step boundary with a resumable checkpoint) and ends in a KeyboardInterrupt carrying the
/// trainer's message, which names that checkpoint.
fn fit_watching_signals(
    py: Python<'_>,
    trainer: &mut Trainer,
    train_docs: Vec<TextDocument>,
    eval_docs: Vec<TextDocument>,
    flag: &AtomicBool,
) -> PyResult<TrainOutcome> {
    let mut pending: Option<PyErr> = None;
    let joined = std::thread::scope(|s| {
        let handle = s.spawn(|| trainer.train(train_docs, eval_docs));
        while !handle.is_finished() {
            py.detach(|| std::thread::sleep(Duration::from_millis(20)));
            if let Err(e) = py.check_signals() {
                flag.store(true, Ordering::SeqCst);
                pending.get_or_insert(e);
            }
        }
        handle.join()
    });
    let outcome = match joined {
        Ok(r) => r.map_err(to_py),
        Err(payload) => Err(MedkitError::new_err(format!(
            "internal error (panic) in training: {}",
            medkit_sdk::panic_message(&*payload)
        ))),
    };
    match pending {
        Some(k) => {
            let msg = match &outcome {
                Err(e) => e.value(py).to_string(),
                Ok(_) => k.value(py).to_string(),
            };
            Err(pyo3::exceptions::PyKeyboardInterrupt::new_err(msg))
        }
        // a Ctrl-C after the last look
        None => interrupted(py, outcome),
    }
}

/// The TrainerConfig's fields with their defaults (JSON object text), `output_dir` excepted.
#[pyfunction]
pub fn trainer_config_defaults() -> PyResult<String> {
    let config: TrainerConfig = serde_json::from_value(json!({"output_dir": ""}))
        .map_err(|e| MedkitError::new_err(e.to_string()))?;
    let mut v = serde_json::to_value(config).map_err(|e| MedkitError::new_err(e.to_string()))?;
    if let Some(m) = v.as_object_mut() {
        m.remove("output_dir");
    }
    Ok(v.to_string())
}

/// Fine-tunes `trainable` as `medkit run`'s [train] stage does; returns
/// `{"history": [...], "best_checkpoint": ..., "last_checkpoint": ...}` as JSON text.
#[pyfunction]
#[pyo3(signature = (trainable, config_json, optimizer_json, metrics, callbacks, python_callbacks, train_docs, eval_docs, resume))]
#[allow(clippy::too_many_arguments)] // the Trainer's parts, given once by the Python wrapper
pub fn train(
    py: Python<'_>,
    trainable: &Trainable,
    config_json: &str,
    optimizer_json: Option<&str>,
    metrics: Vec<(String, String)>,
    callbacks: Vec<(String, String)>,
    python_callbacks: Vec<Py<PyAny>>,
    train_docs: Vec<String>,
    eval_docs: Vec<String>,
    resume: bool,
) -> PyResult<String> {
    let config: TrainerConfig = serde_json::from_str(config_json)
        .map_err(|e| MedkitError::new_err(format!("TrainerConfig: {e}")))?;
    let optimizer: Option<OptimizerSection> = optimizer_json
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| MedkitError::new_err(format!("optimizer: {e}")))?;
    let record = provenance(
        trainable,
        &config,
        optimizer.as_ref(),
        [("metrics", &metrics), ("callbacks", &callbacks)],
        [("train_data", &train_docs), ("eval_data", &eval_docs)],
    );
    let (train_docs, eval_docs) = py.detach(|| {
        guarded(|| {
            Ok((
                documents("train_data", &train_docs)?,
                documents("eval_data", &eval_docs)?,
            ))
        })
    })?;
    let metrics = metrics_computers(&metrics)?;
    let callbacks = callback_list(callbacks, python_callbacks)?;
    let resume = if resume {
        Some(ResumePoint::latest(&config.output_dir).ok_or_else(|| {
            MedkitError::new_err(format!(
                "resume: no checkpoint in {} to resume from",
                config.output_dir.display()
            ))
        })?)
    } else {
        None
    };

    if let Some(seed) = config.seed {
        seed_new_head(py, trainable, seed)?;
    }
    let op = trainable
        .op
        .lock()
        .map_err(|_| MedkitError::new_err("trainable unusable"))?
        .take()
        .ok_or_else(|| MedkitError::new_err("the trainable is already being trained"))?;

    crate::logging::refresh();
    let flag = Arc::new(AtomicBool::new(false));
    let mut trainer = Trainer {
        config,
        optimizer,
        trainable: op,
        metrics,
        callbacks,
        interrupt: Some(flag.clone()),
        resume,
        provenance: Some(record),
    };
    let outcome = fit_watching_signals(py, &mut trainer, train_docs, eval_docs, &flag);
    // the weights are back in the operation, trained or not
    trainable.trained.store(true, Ordering::Relaxed);
    *trainable.op.lock().unwrap_or_else(|p| p.into_inner()) = Some(trainer.trainable);
    let outcome = outcome?;
    let out = json!({
        "history": outcome.history,
        "timings": outcome.timings,
        "best_checkpoint": outcome.best_checkpoint,
        "last_checkpoint": outcome.last_checkpoint,
    });
    Ok(out.to_string())
}
