//! NER and segmentation operations called from Python: medkit segments in (as their `to_dict`
//! JSON) or plain texts, medkit entities / segments out (as their `to_dict` JSON), the GIL
//! released meanwhile.

use crate::errors::{guarded, MedkitError};
use crate::registry::create;
use abi_stable::std_types::{RResult, RString, RVec};
use anyhow::anyhow;
use medkit_corpus::medkit_json::{entity_to_json, segment_from_json, segment_to_json};
use medkit_corpus::CorpusError;
use medkit_sdk::{
    NerOperationBox, Operation, OperationKind, Segment, SegmentationOperationBox, TextDocument,
};
use pyo3::prelude::*;
use std::sync::Mutex;

#[pyclass(module = "medkit_rs._native")]
pub struct Ner {
    op: Mutex<NerOperationBox>,
}

/// Runs one batch call of an operation held in `op` without the GIL: `n` inputs must give `n`
/// result lists (`what`: "the NER operation … segments"), each annotation encoded as JSON text.
fn run_locked<Op: Send>(
    py: Python<'_>,
    op: &Mutex<Op>,
    n: usize,
    what: (&str, &str),
    call: impl FnOnce(&mut Op) -> RResult<RVec<RVec<Segment>>, RString> + Send,
    encode: fn(&Segment) -> Result<String, CorpusError>,
) -> PyResult<Vec<Vec<String>>> {
    py.detach(|| {
        guarded(|| {
            let mut op = op.lock().map_err(|_| {
                anyhow!("the operation failed in another thread earlier; create a new one")
            })?;
            let found = call(&mut op).into_result().map_err(|e| anyhow!("{e}"))?;
            if found.len() != n {
                return Err(anyhow!(
                    "the {} operation returned {} result lists for {n} {}",
                    what.0,
                    found.len(),
                    what.1
                ));
            }
            found
                .iter()
                .map(|anns| {
                    anns.iter()
                        .map(|a| encode(a).map_err(anyhow::Error::from))
                        .collect()
                })
                .collect()
        })
    })
}

impl Ner {
    fn run_segments(&self, py: Python<'_>, segments: Vec<Segment>) -> PyResult<Vec<Vec<String>>> {
        let n = segments.len();
        run_locked(
            py,
            &self.op,
            n,
            ("NER", "segments"),
            |op| op.run_batch(segments.into()),
            entity_to_json,
        )
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
        run_locked(
            py,
            &self.op,
            texts.len(),
            ("segmentation", "texts"),
            |op| op.run_batch(raw_segments(&texts).into()),
            segment_to_json,
        )
    }
}
