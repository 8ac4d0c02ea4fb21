//! `medkit_rs._native`: the host library seen from Python. The public API (medkit's names) is the
//! Python package around it (`python/python/medkit_rs`); this module only moves plain data —
//! JSON text of medkit dicts, configs — between Python and the host, and releases the GIL for
//! every long call.

mod callback;
mod errors;
mod logging;
mod matcher;
mod registry;
mod training;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::init();
    m.add("MedkitError", m.py().get_type::<errors::MedkitError>())?;
    m.add_function(wrap_pyfunction!(registry::init, m)?)?;
    m.add_function(wrap_pyfunction!(registry::load_plugins, m)?)?;
    m.add_function(wrap_pyfunction!(registry::operations, m)?)?;
    m.add_function(wrap_pyfunction!(registry::validate, m)?)?;
    m.add_function(wrap_pyfunction!(registry::run_pipeline, m)?)?;
    m.add_function(wrap_pyfunction!(training::train, m)?)?;
    m.add_function(wrap_pyfunction!(training::trainer_config_defaults, m)?)?;
    m.add_class::<matcher::Ner>()?;
    m.add_class::<matcher::Segmentation>()?;
    m.add_class::<training::Trainable>()?;
    Ok(())
}
