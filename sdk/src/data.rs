//! medkit 0.17's text model as ABI-stable plain data.
//!
//! Offsets are character (Unicode code point) offsets into the document text, as in medkit.
//! Metadata and attribute values are JSON text, so any JSON value crosses the ABI unchanged.

use abi_stable::{
    std_types::{RString, RVec},
    StableAbi,
};

/// A contiguous character range `[start, end)` of the document text.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    pub fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// medkit's ModifiedSpan: text of `length` characters that replaced `replaced_spans` of the original.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct ModifiedSpan {
    pub length: u64,
    pub replaced_spans: RVec<Span>,
}

/// Either kind of medkit span.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub enum AnySpan {
    Span(Span),
    Modified(ModifiedSpan),
}

impl AnySpan {
    /// Its length in characters of the annotation's text (a ModifiedSpan's `length`).
    pub fn length(&self) -> u64 {
        match self {
            AnySpan::Span(s) => s.len(),
            AnySpan::Modified(m) => m.length,
        }
    }

    /// The original-text spans this span covers (medkit's `normalize_spans`).
    pub fn original_spans(&self) -> Vec<Span> {
        match self {
            AnySpan::Span(s) => vec![*s],
            AnySpan::Modified(m) => m.replaced_spans.to_vec(),
        }
    }
}

/// medkit's Attribute. `value` is JSON text (`null`, `true`, `"text"`, `0.93`, …).
/// `class_name` is medkit's `_class_name`; `extra` is a JSON object with the fields a subclass adds
/// (e.g. EntityNormAttribute's kb_name, kb_id), `{}` for a plain Attribute.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Attribute {
    pub uid: RString,
    pub label: RString,
    pub value: RString,
    pub metadata: RString,
    pub class_name: RString,
    pub extra: RString,
}

/// medkit's Segment (and Entity, which is a Segment): labelled spans of the document text.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Segment {
    pub uid: RString,
    pub label: RString,
    pub spans: RVec<AnySpan>,
    pub text: RString,
    pub attrs: RVec<Attribute>,
    /// JSON object text.
    pub metadata: RString,
}

/// medkit's Relation between two annotations, by uid.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Relation {
    pub uid: RString,
    pub label: RString,
    pub source_id: RString,
    pub target_id: RString,
    pub attrs: RVec<Attribute>,
    pub metadata: RString,
}

impl Segment {
    /// A segment or entity over `spans` of its document, with a new medkit uid, no attribute
    /// and empty metadata; `text` is what the spans cover.
    pub fn new(label: &str, text: &str, spans: Vec<Span>) -> Self {
        Segment {
            uid: crate::medkit::new_uid().into(),
            label: label.into(),
            spans: spans.into_iter().map(AnySpan::Span).collect(),
            text: text.into(),
            attrs: RVec::new(),
            metadata: "{}".into(),
        }
    }

    /// Copies of this segment's attributes whose label is in `labels` (label order, then
    /// attribute order), each with a new uid: medkit's `attrs_to_copy`.
    pub fn copied_attrs(&self, labels: &[String]) -> Vec<Attribute> {
        labels
            .iter()
            .flat_map(|l| self.attrs.iter().filter(move |a| a.label.as_str() == l))
            .map(|a| Attribute {
                uid: crate::medkit::new_uid().into(),
                ..a.clone()
            })
            .collect()
    }
}

/// An annotation of a text document.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum Annotation {
    Segment(Segment),
    Entity(Segment),
    Relation(Relation),
}

/// medkit's `TextDocument.RAW_LABEL`, the label of a document's raw segment (its whole text).
pub const RAW_SEGMENT_LABEL: &str = "RAW_TEXT";

/// medkit's TextDocument.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct TextDocument {
    pub uid: RString,
    pub text: RString,
    /// JSON object text.
    pub metadata: RString,
    pub anns: RVec<Annotation>,
    /// Document-level attributes.
    pub attrs: RVec<Attribute>,
}

impl TextDocument {
    /// A document without annotations, attributes or metadata.
    pub fn new(uid: &str, text: &str) -> Self {
        TextDocument {
            uid: uid.into(),
            text: text.into(),
            metadata: "{}".into(),
            anns: RVec::new(),
            attrs: RVec::new(),
        }
    }

    /// Removes the entities for which `drop` is true and the relations pointing at them (as
    /// medkit, a relation never outlives its source or target); returns how many entities went.
    pub fn remove_entities(&mut self, mut drop: impl FnMut(&Segment) -> bool) -> usize {
        let removed: std::collections::HashSet<RString> = self
            .entities()
            .filter(|e| drop(e))
            .map(|e| e.uid.clone())
            .collect();
        self.anns.retain(|a| match a {
            Annotation::Entity(e) => !removed.contains(&e.uid),
            Annotation::Relation(r) => {
                !removed.contains(&r.source_id) && !removed.contains(&r.target_id)
            }
            Annotation::Segment(_) => true,
        });
        removed.len()
    }

    /// The entities of the document, in order.
    pub fn entities(&self) -> impl Iterator<Item = &Segment> {
        self.anns.iter().filter_map(|a| match a {
            Annotation::Entity(e) => Some(e),
            _ => None,
        })
    }

    /// medkit's raw segment: the whole text, label [`RAW_SEGMENT_LABEL`], uid derived from the
    /// document's.
    pub fn raw_segment(&self) -> Segment {
        Segment {
            uid: format!("{}-raw", self.uid).into(),
            label: RAW_SEGMENT_LABEL.into(),
            spans: vec![AnySpan::Span(Span::new(
                0,
                self.text.chars().count() as u64,
            ))]
            .into(),
            text: self.text.clone(),
            attrs: RVec::new(),
            metadata: "{}".into(),
        }
    }
}

/// What a metric's value is, so that the host neither averages counts nor guesses from names.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A score (precision, F1, accuracy, …): higher is better, averaged across parts.
    Score,
    /// A count (support, number of entities, …): summed, never averaged.
    Count,
    /// A loss: lower is better.
    Loss,
}

/// One metric value, e.g. `overall_f1-score = 0.81`.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: RString,
    pub value: f64,
    pub kind: MetricKind,
}

impl Metric {
    /// A score (see [`MetricKind::Score`]).
    pub fn new(name: impl Into<RString>, value: f64) -> Self {
        Self::of_kind(name, value, MetricKind::Score)
    }
    /// A count (see [`MetricKind::Count`]).
    pub fn count(name: impl Into<RString>, value: f64) -> Self {
        Self::of_kind(name, value, MetricKind::Count)
    }
    /// A loss (see [`MetricKind::Loss`]).
    pub fn loss(name: impl Into<RString>, value: f64) -> Self {
        Self::of_kind(name, value, MetricKind::Loss)
    }
    pub fn of_kind(name: impl Into<RString>, value: f64, kind: MetricKind) -> Self {
        Self {
            name: name.into(),
            value,
            kind,
        }
    }
}

/// A labelled character range, as tagging schemes produce and consume.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct LabelledSpan {
    pub label: RString,
    pub start: u64,
    pub end: u64,
}

/// A token's character range; `None` for special tokens (`[CLS]`, `<s>`, …).
pub type TokenSpan = abi_stable::std_types::ROption<Span>;

/// The model input of one example: plain ids, padded and turned into tensors by the trainable.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct Features {
    pub input_ids: RVec<i64>,
    /// Aligned tag ids, -100 where the loss ignores the token (special tokens, non-first sub-tokens).
    pub labels: RVec<i64>,
}

/// What a train or eval step returns: the loss and, per example, the reference and predicted tag
/// ids at the positions the loss counts (the -100 positions are already dropped).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub struct StepOutput {
    pub loss: f64,
    pub references: RVec<RVec<i64>>,
    pub predictions: RVec<RVec<i64>>,
}

/// Which loop a step belongs to.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Train,
    Eval,
}

impl Phase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Train => "train",
            Phase::Eval => "eval",
        }
    }
}

/// Metrics of one epoch, as medkit's `{"train": {...}, "eval": {...}}`.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub struct EpochMetrics {
    pub train: RVec<Metric>,
    pub eval: RVec<Metric>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_entities_removes_their_relations() {
        let mut doc = TextDocument::new("d", "Fièvre et toux.");
        let fever = Segment::new("problem", "Fièvre", vec![Span::new(0, 6)]);
        let cough = Segment::new("problem", "toux", vec![Span::new(10, 14)]);
        let rel = |s: &Segment, t: &Segment| {
            Annotation::Relation(Relation {
                uid: crate::new_uid().into(),
                label: "with".into(),
                source_id: s.uid.clone(),
                target_id: t.uid.clone(),
                attrs: RVec::new(),
                metadata: "{}".into(),
            })
        };
        doc.anns = vec![
            rel(&fever, &cough),
            Annotation::Entity(fever.clone()),
            Annotation::Entity(cough.clone()),
            Annotation::Segment(doc.raw_segment()),
        ]
        .into();
        assert_eq!(doc.remove_entities(|e| e.text.as_str() == "toux"), 1);
        assert_eq!(doc.anns.len(), 2, "{:?}", doc.anns);
        assert_eq!(doc.entities().next().unwrap().uid, fever.uid);
        assert_eq!(doc.remove_entities(|_| true), 1);
        assert!(matches!(doc.anns[..], [Annotation::Segment(_)]));
    }
}
