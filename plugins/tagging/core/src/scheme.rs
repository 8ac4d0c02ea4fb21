//! Tagging schemes: tag sets and the tags of one entity (medkit's `convert_labels_to_tags`,
//! `create_entity_tags`).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TaggingError {
    #[error("unknown tagging scheme '{0}' (expected iob2, bilou, iobes or io)")]
    UnknownScheme(String),
    #[error("tag '{0}' is not in the tag-to-id mapping")]
    UnknownTag(String),
    #[error("{tags} tags but {tokens} tokens")]
    LengthMismatch { tags: usize, tokens: usize },
    #[error("invalid config: {0}")]
    Config(String),
}

/// A tagging scheme. IOB2 and BILOU are medkit's; IOBES and IO are extras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Iob2,
    Bilou,
    Iobes,
    Io,
}

impl Scheme {
    pub fn from_name(name: &str) -> Result<Scheme, TaggingError> {
        match name.to_ascii_lowercase().as_str() {
            "iob2" | "bio" => Ok(Scheme::Iob2),
            "bilou" => Ok(Scheme::Bilou),
            "iobes" => Ok(Scheme::Iobes),
            "io" => Ok(Scheme::Io),
            _ => Err(TaggingError::UnknownScheme(name.to_string())),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Iob2 => "iob2",
            Scheme::Bilou => "bilou",
            Scheme::Iobes => "iobes",
            Scheme::Io => "io",
        }
    }

    /// Prefixes in medkit's order (B, I for iob2; B, I, L, U for bilou).
    pub fn prefixes(&self) -> &'static [&'static str] {
        match self {
            Scheme::Iob2 => &["B", "I"],
            Scheme::Bilou => &["B", "I", "L", "U"],
            Scheme::Iobes => &["B", "I", "E", "S"],
            Scheme::Io => &["I"],
        }
    }

    /// "O" first, then each label's prefixes in order (medkit's convert_labels_to_tags).
    /// A label given twice keeps its first ids, as the Python dict does.
    pub fn tags(&self, labels: &[String]) -> Vec<String> {
        let mut tags = vec!["O".to_string()];
        for label in labels {
            for prefix in self.prefixes() {
                let tag = format!("{prefix}-{label}");
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        tags
    }

    /// The tags of one entity covering `nb_tags` tokens (medkit's create_entity_tags).
    pub fn entity_tags(&self, nb_tags: usize, label: &str) -> Vec<String> {
        let (single, first, last) = match self {
            Scheme::Iob2 => ("B", "B", "I"),
            Scheme::Bilou => ("U", "B", "L"),
            Scheme::Iobes => ("S", "B", "E"),
            Scheme::Io => ("I", "I", "I"),
        };
        let mut tags = vec![format!("I-{label}"); nb_tags];
        match nb_tags {
            0 => {}
            1 => tags[0] = format!("{single}-{label}"),
            n => {
                tags[0] = format!("{first}-{label}");
                tags[n - 1] = format!("{last}-{label}");
            }
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn labels_to_tags_as_medkit() {
        // medkit docstring: convert_labels_to_tags(["test", "problem"], "iob2")
        assert_eq!(
            Scheme::Iob2.tags(&s(&["test", "problem"])),
            s(&["O", "B-test", "I-test", "B-problem", "I-problem"])
        );
        assert_eq!(
            Scheme::Bilou.tags(&s(&["corporation"])),
            s(&[
                "O",
                "B-corporation",
                "I-corporation",
                "L-corporation",
                "U-corporation"
            ])
        );
        assert_eq!(Scheme::Bilou.tags(&[]), s(&["O"]));
    }

    #[test]
    fn entity_tags_as_medkit() {
        // medkit docstring: create_entity_tags(3, "corporation", "bilou")
        assert_eq!(
            Scheme::Bilou.entity_tags(3, "corporation"),
            s(&["B-corporation", "I-corporation", "L-corporation"])
        );
        assert_eq!(Scheme::Bilou.entity_tags(1, "x"), s(&["U-x"]));
        assert_eq!(Scheme::Iob2.entity_tags(1, "x"), s(&["B-x"]));
        assert_eq!(Scheme::Iob2.entity_tags(2, "x"), s(&["B-x", "I-x"]));
        assert_eq!(Scheme::Iobes.entity_tags(3, "x"), s(&["B-x", "I-x", "E-x"]));
        assert_eq!(Scheme::Io.entity_tags(2, "x"), s(&["I-x", "I-x"]));
        assert!(Scheme::Iob2.entity_tags(0, "x").is_empty());
    }

    #[test]
    fn names_round_trip() {
        for s in [Scheme::Iob2, Scheme::Bilou, Scheme::Iobes, Scheme::Io] {
            assert_eq!(Scheme::from_name(s.name()), Ok(s));
        }
        assert!(Scheme::from_name("iob9").is_err());
    }
}
