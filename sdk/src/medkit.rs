//! medkit's identifiers and class names, so plugins write what Python medkit reads back.

use crate::data::Attribute;

/// `_class_name` of a plain medkit attribute (`medkit.core.attribute.Attribute`).
pub const ATTRIBUTE_CLASS: &str = "medkit.core.attribute.Attribute";

/// A new annotation or document uid: a random (version 4) uuid string (medkit makes uuid1
/// strings; any uuid string reads back).
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Attribute {
    /// A plain medkit attribute with a new uid; `value_json` is JSON text (`"0.93"`, `"\"x\""`).
    pub fn new(label: &str, value_json: String, metadata_json: String) -> Self {
        Attribute {
            uid: new_uid().into(),
            label: label.into(),
            value: value_json.into(),
            metadata: metadata_json.into(),
            class_name: ATTRIBUTE_CLASS.into(),
            extra: "{}".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uids_are_uuid4_strings() {
        let a = super::new_uid();
        let b = super::new_uid();
        assert_ne!(a, b);
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(a.len(), 36);
    }
}
