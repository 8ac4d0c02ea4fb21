//! NER and segmentation operations called from Python: medkit segments in (as their `to_dict`
//! JSON) or plain texts, medkit entities / segments out (as their `to_dict` JSON), the GIL
//! released meanwhile.

use crate::errors::{guarded, MedkitError};
use crate::registry::create;
use anyhow::anyhow;
use medkit_corpus::medkit_json::{entity_to_json, segment_from_json, segment_to_json};
use medkit_sdk::{
    NerOperationBox, Operation, OperationKind, Segment, SegmentationOperationBox, TextDocument,
};
use pyo3::prelude::*;
use std::sync::Mutex;

#[pyclass(module = "medkit_rs._native")]
pub struct Ner {
    op: Mutex<NerOperationBox>,
}

impl Ner {
    fn run_segments(&self, py: Python<'_>, segments: Vec<Segment>) -> PyResult<Vec<Vec<String>>> {
        let n = segments.len();
        py.detach(|| {
            guarded(|| {
                let mut op = self.op.lock().map_err(|_| {
                    anyhow!("the operation failed in another thread earlier; create a new one")
                })?;
                let found = op
                    .run_batch(segments.into())
                    .into_result()
                    .map_err(|e| anyhow!("{e}"))?;
                if found.len() != n {
                    return Err(anyhow!(
                        "the NER operation returned {} result lists for {n} segments",
                        found.len()
                    ));
                }
                found
                    .into_iter()
                    .map(|entities| {
                        entities
                            .iter()
                            .map(|e| entity_to_json(e).map_err(anyhow::Error::from))
                            .collect()
                    })
                    .collect()
            })
        })
    }
}

#[pymethods]
impl Ner {
    /// Builds NER operation `name` from its JSON config (loads the model).
    #[new]
    fn new(py: Python<'_>, name: &str, config_json: &str) -> PyResult<Self> {
        match py.detach(|| create(OperationKind::Ner, name, config_json))? {
            Operation::Ner(op) => Ok(Ner { op: Mutex::new(op) }),
            _ => Err(MedkitError::new_err(format!(
                "operation '{name}' is not a NER operation"
            ))),
        }
    }

    /// Per segment (medkit `Segment.to_dict()` as JSON text), its entities as
    /// `Entity.to_dict()` JSON text, with document spans.
    fn run(&self, py: Python<'_>, segments: Vec<String>) -> PyResult<Vec<Vec<String>>> {
        let segments = segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                segment_from_json(s)
                    .map_err(|e| MedkitError::new_err(format!("segments[{i}]: {e}")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        self.run_segments(py, segments)
    }

    /// Per text, its entities as `Entity.to_dict()` JSON text (spans in the text).
    fn run_texts(&self, py: Python<'_>, texts: Vec<String>) -> PyResult<Vec<Vec<String>>> {
        self.run_segments(py, raw_segments(&texts))
    }
}

/// The raw segment of each text (medkit's `TextDocument(text).raw_segment`).
fn raw_segments(texts: &[String]) -> Vec<Segment> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| TextDocument::new(&format!("text-{i}"), t).raw_segment())
        .collect()
}

/// A segmentation operation (e.g. `sentence-tokenizer`).
#[pyclass(module = "medkit_rs._native")]
pub struct Segmentation {
    op: Mutex<SegmentationOperationBox>,
}

#[pymethods]
impl Segmentation {
    #[new]
    fn new(py: Python<'_>, name: &str, config_json: &str) -> PyResult<Self> {
        match py.detach(|| create(OperationKind::Segmentation, name, config_json))? {
            Operation::Segmentation(op) => Ok(Segmentation { op: Mutex::new(op) }),
            _ => Err(MedkitError::new_err(format!(
                "operation '{name}' is not a segmentation operation"
            ))),
        }
    }

    /// Per text, the segments it makes (`Segment.to_dict()` JSON text, spans in the text).
    fn run_texts(&self, py: Python<'_>, texts: Vec<String>) -> PyResult<Vec<Vec<String>>> {
        let n = texts.len();
        py.detach(|| {
            guarded(|| {
                let mut op = self.op.lock().map_err(|_| {
                    anyhow!("the operation failed in another thread earlier; create a new one")
                })?;
                let found = op
                    .run_batch(raw_segments(&texts).into())
                    .into_result()
                    .map_err(|e| anyhow!("{e}"))?;
                if found.len() != n {
                    return Err(anyhow!(
                        "the segmentation operation returned {} result lists for {n} texts",
                        found.len()
                    ));
                }
                found
                    .iter()
                    .map(|segs| {
                        segs.iter()
                            .map(|s| segment_to_json(s).map_err(anyhow::Error::from))
                            .collect()
                    })
                    .collect()
            })
        })
    }
}
