//! medkit 0.17 JSONL text documents (`medkit.io.medkit_json.load_text_documents` /
//! `save_text_documents`): a header line, then one `TextDocument.to_dict()` per line, written by
//! `json.dumps(..., ensure_ascii=False)`. Reading then writing a medkit file gives it back byte for byte.

mod decode;
mod encode;
mod reader;
mod writer;

pub use decode::{document_from_json_line, segment_from_json};
pub use encode::{check_round_trip, document_to_json_line, entity_to_json, segment_to_json};
pub use reader::{read_documents, read_documents_with, DocumentReader};
pub use writer::{partial_path, write_documents, DocumentWriter, StreamingDocumentWriter};

/// The header line medkit writes (`build_header(ContentType.TEXT_DOCUMENT_LIST)`).
pub const HEADER: &str = r#"{"version": "0.2", "content_type": "text_document_list"}"#;

pub(crate) const DOC_CLASS: &str = "medkit.core.text.document.TextDocument";
pub(crate) const SEGMENT_CLASS: &str = "medkit.core.text.annotation.Segment";
pub(crate) const ENTITY_CLASS: &str = "medkit.core.text.annotation.Entity";
pub(crate) const RELATION_CLASS: &str = "medkit.core.text.annotation.Relation";
pub(crate) const SPAN_CLASS: &str = "medkit.core.text.span.Span";
pub(crate) const MODIFIED_SPAN_CLASS: &str = "medkit.core.text.span.ModifiedSpan";
pub use medkit_sdk::ATTRIBUTE_CLASS;

/// medkit's Attribute subclasses: which of `label` / `value` their `to_dict` writes, and the label
/// they carry when it does not (their class constant).
pub(crate) struct AttrShape {
    pub class: &'static str,
    pub has_label: bool,
    pub has_value: bool,
    pub fixed_label: &'static str,
}

pub(crate) const KNOWN_ATTRS: &[AttrShape] = &[
    AttrShape {
        class: "medkit.core.text.entity_norm_attribute.EntityNormAttribute",
        has_label: true,
        has_value: false,
        fixed_label: "NORMALIZATION",
    },
    AttrShape {
        class: "medkit.core.text.umls_norm_attribute.UMLSNormAttribute",
        has_label: false,
        has_value: false,
        fixed_label: "NORMALIZATION",
    },
    AttrShape {
        class: "medkit.text.ner.adicap_norm_attribute.ADICAPNormAttribute",
        has_label: false,
        has_value: false,
        fixed_label: "NORMALIZATION",
    },
    AttrShape {
        class: "medkit.text.ner.tnm_attribute.TNMAttribute",
        has_label: false,
        has_value: false,
        fixed_label: "TNM",
    },
    AttrShape {
        class: "medkit.text.preprocessing.duplicate_finder.DuplicationAttribute",
        has_label: false,
        has_value: true,
        fixed_label: "is_duplicate",
    },
    AttrShape {
        class: "medkit.text.ner.date_attribute.DateAttribute",
        has_label: true,
        has_value: false,
        fixed_label: "",
    },
    AttrShape {
        class: "medkit.text.ner.date_attribute.DurationAttribute",
        has_label: true,
        has_value: false,
        fixed_label: "",
    },
    AttrShape {
        class: "medkit.text.ner.date_attribute.RelativeDateAttribute",
        has_label: true,
        has_value: false,
        fixed_label: "",
    },
];

pub(crate) fn attr_shape(class: &str) -> Option<&'static AttrShape> {
    KNOWN_ATTRS.iter().find(|s| s.class == class)
}
