//! A Python object with (some of) medkit's `TrainerCallback` methods as a trainer callback: the
//! host's events, in medkit's method signatures, called with the GIL held.

use medkit_host::trainer::fit::to_map;
use medkit_sdk::{EpochMetrics, OpResult, Phase, TrainerCallback};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::json;

pub struct PyCallback(pub Py<PyAny>);

impl PyCallback {
    fn call(
        &self,
        method: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
    ) -> OpResult<()> {
        Python::attach(|py| {
            let obj = self.0.bind(py);
            if !obj.hasattr(method)? {
                return Ok(());
            }
            obj.call_method1(method, args(py)?)?;
            Ok(())
        })
        .map_err(|e: PyErr| format!("Python callback {method}: {e}"))
    }
}

/// JSON text as Python objects (`json.loads`).
fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

impl TrainerCallback for PyCallback {
    fn on_train_begin(&mut self, config_json: &str) -> OpResult<()> {
        self.call("on_train_begin", |py| {
            PyTuple::new(py, [json_loads(py, config_json)?])
        })
    }
    fn on_train_end(&mut self) -> OpResult<()> {
        self.call("on_train_end", |py| Ok(PyTuple::empty(py)))
    }
    fn on_epoch_begin(&mut self, epoch: u32) -> OpResult<()> {
        self.call("on_epoch_begin", |py| PyTuple::new(py, [epoch]))
    }
    fn on_epoch_end(
        &mut self,
        metrics: &EpochMetrics,
        epoch: u32,
        duration_s: f64,
    ) -> OpResult<()> {
        let m = json!({"train": to_map(&metrics.train), "eval": to_map(&metrics.eval)});
        Python::attach(|py| {
            let obj = self.0.bind(py);
            if !obj.hasattr("on_epoch_end")? {
                return Ok(());
            }
            // medkit 0.17 calls on_epoch_end(metrics=..., epoch=..., epoch_duration=...)
            let kwargs = PyDict::new(py);
            kwargs.set_item("metrics", json_loads(py, &m.to_string())?)?;
            kwargs.set_item("epoch", epoch)?;
            kwargs.set_item("epoch_duration", duration_s)?;
            obj.call_method("on_epoch_end", (), Some(&kwargs))?;
            Ok(())
        })
        .map_err(|e: PyErr| format!("Python callback on_epoch_end: {e}"))
    }
    fn on_step_begin(&mut self, step: u64, nb_batches: u64, phase: Phase) -> OpResult<()> {
        self.call("on_step_begin", |py| {
            (step, nb_batches, phase.as_str()).into_pyobject(py)
        })
    }
    fn on_step_end(
        &mut self,
        step: u64,
        nb_batches: u64,
        phase: Phase,
        _loss: f64,
    ) -> OpResult<()> {
        self.call("on_step_end", |py| {
            (step, nb_batches, phase.as_str()).into_pyobject(py)
        })
    }
    fn on_save(&mut self, checkpoint_dir: &str) -> OpResult<()> {
        self.call("on_save", |py| PyTuple::new(py, [checkpoint_dir]))
    }
}
