//! The `iob2`, `bilou`, `iobes` and `io` tagging-scheme operations.

use medkit_sdk::abi_stable::std_types::ROption;
use medkit_sdk::{LabelledSpan, OpResult, TaggingScheme, TokenSpan};
use medkit_tagging::{entities_to_tags, tags_to_entities, Scheme, TaggingError};

/// A tagging scheme as an SDK operation. Its config takes no keys (unknown keys are rejected so
/// a typo does not pass silently).
pub struct SchemeOp(pub Scheme);

impl SchemeOp {
    pub fn from_config(scheme: Scheme, config_json: &str) -> Result<Self, String> {
        let value: serde_json::Value = if config_json.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_str(config_json)
                .map_err(|e| TaggingError::Config(e.to_string()).to_string())?
        };
        match value.as_object() {
            Some(obj) if obj.is_empty() => Ok(SchemeOp(scheme)),
            Some(obj) => Err(TaggingError::Config(format!(
                "the {} scheme takes no config keys, got: {}",
                scheme.name(),
                obj.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
            .to_string()),
            None => Err(TaggingError::Config("expected a JSON object".into()).to_string()),
        }
    }
}

fn token_offsets(tokens: &[TokenSpan]) -> Vec<Option<(usize, usize)>> {
    tokens
        .iter()
        .map(|t| match t {
            ROption::RSome(s) => Some((s.start as usize, s.end as usize)),
            ROption::RNone => None,
        })
        .collect()
}

impl TaggingScheme for SchemeOp {
    fn tags(&self, labels: Vec<String>) -> OpResult<Vec<String>> {
        Ok(self.0.tags(&labels))
    }

    fn entities_to_tags(
        &self,
        entities: Vec<LabelledSpan>,
        tokens: Vec<TokenSpan>,
    ) -> OpResult<Vec<String>> {
        let entities: Vec<_> = entities
            .into_iter()
            .map(|e| {
                let span = (e.start as usize, e.end as usize);
                (e.label.into_string(), vec![span])
            })
            .collect();
        Ok(entities_to_tags(self.0, &entities, &token_offsets(&tokens)))
    }

    fn tags_to_entities(
        &self,
        tags: Vec<String>,
        tokens: Vec<TokenSpan>,
    ) -> OpResult<Vec<LabelledSpan>> {
        if tags.len() != tokens.len() {
            let err = TaggingError::LengthMismatch {
                tags: tags.len(),
                tokens: tokens.len(),
            };
            return Err(err.to_string());
        }
        Ok(tags_to_entities(self.0, &tags, &token_offsets(&tokens))
            .into_iter()
            .map(|(label, start, end)| LabelledSpan {
                label: label.into(),
                start: start as u64,
                end: end as u64,
            })
            .collect())
    }
}

medkit_sdk::register_operation! {
    kind: tagging_scheme, name: "iob2",
    description: "IOB2 (BIO) tags, as medkit's hf_tokenization_utils",
    config_example: "",
    create: |c: &str| SchemeOp::from_config(Scheme::Iob2, c),
}
medkit_sdk::register_operation! {
    kind: tagging_scheme, name: "bilou",
    description: "BILOU tags, as medkit's hf_tokenization_utils",
    config_example: "",
    create: |c: &str| SchemeOp::from_config(Scheme::Bilou, c),
}
medkit_sdk::register_operation! {
    kind: tagging_scheme, name: "iobes",
    description: "IOBES tags (B, I, E, S)",
    config_example: "",
    create: |c: &str| SchemeOp::from_config(Scheme::Iobes, c),
}
medkit_sdk::register_operation! {
    kind: tagging_scheme, name: "io",
    description: "IO tags (I only; adjacent entities of one label merge)",
    config_example: "",
    create: |c: &str| SchemeOp::from_config(Scheme::Io, c),
}

#[cfg(test)]
mod tests {
    use super::*;
    use medkit_sdk::Span;

    #[test]
    fn op_converts_both_ways() {
        let op = SchemeOp::from_config(Scheme::Bilou, "{}").unwrap();
        let tokens = vec![
            ROption::RNone,
            ROption::RSome(Span::new(0, 3)),
            ROption::RSome(Span::new(3, 6)),
            ROption::RNone,
        ];
        let ents = vec![LabelledSpan {
            label: "c".into(),
            start: 0,
            end: 6,
        }];
        let tags = op.entities_to_tags(ents.clone(), tokens.clone()).unwrap();
        assert_eq!(tags, vec!["O", "B-c", "L-c", "O"]);
        assert_eq!(op.tags_to_entities(tags, tokens.clone()).unwrap(), ents);
        assert!(op.tags_to_entities(vec!["O".into()], tokens).is_err());
        assert_eq!(op.tags(vec!["c".into()]).unwrap().len(), 5);
    }

    #[test]
    fn bad_config_is_an_error() {
        assert!(SchemeOp::from_config(Scheme::Iob2, "").is_ok());
        assert!(SchemeOp::from_config(Scheme::Iob2, "{\"x\": 1}").is_err());
        assert!(SchemeOp::from_config(Scheme::Iob2, "[1]").is_err());
        assert!(SchemeOp::from_config(Scheme::Iob2, "{").is_err());
    }

    #[test]
    fn registered_under_their_names() {
        let names: Vec<_> = medkit_sdk::registrations(env!("CARGO_PKG_NAME"))
            .iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["bilou", "io", "iob2", "iobes"]);
    }
}
