//! `sentence-tokenizer`: medkit's `SentenceTokenizer` as a segmentation operation.

use medkit_sdk::spans::extract;
use medkit_sdk::{new_uid, parse_config, OpResult, Segment, SegmentationOperation};
use medkit_segmentation::SentenceRules;
use serde::Deserialize;

/// medkit's `SentenceTokenizer` arguments (minus `uid`), with medkit's defaults.
#[derive(Deserialize, serde::Serialize, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct SentenceTokenizerConfig {
    pub output_label: String,
    pub punct_chars: Vec<String>,
    pub keep_punct: bool,
    pub split_on_newlines: bool,
    /// Labels of the input segment's attributes copied onto each sentence.
    pub attrs_to_copy: Vec<String>,
}

impl Default for SentenceTokenizerConfig {
    fn default() -> Self {
        let rules = SentenceRules::default();
        SentenceTokenizerConfig {
            output_label: "sentence".into(),
            punct_chars: rules.punct_chars.iter().map(|c| c.to_string()).collect(),
            keep_punct: rules.keep_punct,
            split_on_newlines: rules.split_on_newlines,
            attrs_to_copy: Vec::new(),
        }
    }
}

pub struct SentenceTokenizer {
    label: String,
    rules: SentenceRules,
    attrs_to_copy: Vec<String>,
}

impl SentenceTokenizer {
    /// The config checked as `from_config` does, returned with its defaults filled in.
    pub fn validate(config_json: &str) -> Result<String, String> {
        Self::from_config(config_json)?;
        medkit_sdk::filled_config::<SentenceTokenizerConfig>(config_json).map(|(_, s)| s)
    }

    pub fn from_config(config_json: &str) -> Result<Self, String> {
        let c: SentenceTokenizerConfig = parse_config(config_json)?;
        let rules = SentenceRules::new(&c.punct_chars, c.keep_punct, c.split_on_newlines)
            .map_err(|e| format!("config key 'punct_chars': {e}"))?;
        if c.output_label.is_empty() {
            return Err("config key 'output_label': empty".into());
        }
        Ok(SentenceTokenizer {
            label: c.output_label,
            rules,
            attrs_to_copy: c.attrs_to_copy,
        })
    }

    /// The sentences of one segment: document spans (through the segment's spans), copied
    /// attributes with new uids, as medkit's `_build_sentence`.
    pub fn sentences(&self, segment: &Segment) -> OpResult<Vec<Segment>> {
        let spans = segment.spans.to_vec();
        self.rules
            .sentence_ranges(&segment.text)
            .into_iter()
            .map(|(s, e)| {
                let (text, spans) = extract(&segment.text, &spans, &[(s as u64, e as u64)])
                    .map_err(|e| format!("segment '{}': {e}", segment.uid))?;
                Ok(Segment {
                    uid: new_uid().into(),
                    label: self.label.as_str().into(),
                    spans: spans.into(),
                    text: text.into(),
                    attrs: segment.copied_attrs(&self.attrs_to_copy).into(),
                    metadata: "{}".into(),
                })
            })
            .collect()
    }
}

impl SegmentationOperation for SentenceTokenizer {
    fn run_batch(&mut self, segments: Vec<Segment>) -> OpResult<Vec<Vec<Segment>>> {
        segments.iter().map(|s| self.sentences(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medkit_sdk::{AnySpan, Attribute, Span};

    fn seg(text: &str, spans: Vec<AnySpan>, attrs: Vec<Attribute>) -> Segment {
        Segment {
            uid: "s".into(),
            label: "section".into(),
            spans: spans.into(),
            text: text.into(),
            attrs: attrs.into(),
            metadata: "{}".into(),
        }
    }

    fn chars(t: &str, s: u64, e: u64) -> String {
        t.chars().skip(s as usize).take((e - s) as usize).collect()
    }

    #[test]
    fn sentences_of_a_segment_have_document_spans_and_copied_attributes() {
        let doc = "Motif : fièvre. Antécédents : hépatite aiguë ; traitée!\nFin";
        // the segment is the document from character 8 on
        let n = doc.chars().count() as u64;
        let text = chars(doc, 8, n);
        let section = Attribute::new("section", "\"antécédents\"".into(), "{}".into());
        let other = Attribute::new("other", "1".into(), "{}".into());
        let s = seg(
            &text,
            vec![AnySpan::Span(Span::new(8, n))],
            vec![section.clone(), other],
        );
        let mut op = SentenceTokenizer::from_config(
            r#"{"output_label": "phrase", "keep_punct": true, "attrs_to_copy": ["section"]}"#,
        )
        .unwrap();
        let out = op.run_batch(vec![s]).unwrap().remove(0);
        let texts: Vec<&str> = out.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "fièvre.",
                "Antécédents : hépatite aiguë ;",
                "traitée!",
                "Fin"
            ]
        );
        for sentence in &out {
            assert_eq!(sentence.label.as_str(), "phrase");
            let AnySpan::Span(sp) = sentence.spans[0] else {
                panic!("plain span expected")
            };
            assert_eq!(chars(doc, sp.start, sp.end), sentence.text.as_str());
            assert_eq!(sentence.attrs.len(), 1);
            assert_eq!(sentence.attrs[0].label.as_str(), "section");
            assert_eq!(sentence.attrs[0].value, section.value);
            assert_ne!(sentence.attrs[0].uid, section.uid, "a copy has a new uid");
        }
        assert_ne!(out[0].uid, out[1].uid);
    }

    #[test]
    fn defaults_are_medkits() {
        let mut op = SentenceTokenizer::from_config("{}").unwrap();
        let t = "Fièvre . Toux!";
        let s = seg(t, vec![AnySpan::Span(Span::new(0, 14))], vec![]);
        let out = op.run_batch(vec![s]).unwrap().remove(0);
        let texts: Vec<&str> = out.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["Fièvre ", "Toux"]);
        assert!(out.iter().all(|s| s.label.as_str() == "sentence"));
    }

    #[test]
    fn bad_config_and_bad_segments_are_errors() {
        let e = SentenceTokenizer::from_config(r#"{"punct_char": ["."]}"#)
            .err()
            .unwrap();
        assert!(e.contains("unknown field `punct_char`"), "{e}");
        let e = SentenceTokenizer::from_config(r#"{"punct_chars": []}"#)
            .err()
            .unwrap();
        assert!(e.contains("punct_chars"), "{e}");
        let e = SentenceTokenizer::from_config(r#"{"keep_punct": "yes"}"#)
            .err()
            .unwrap();
        assert!(e.contains("keep_punct"), "{e}");
        let mut op = SentenceTokenizer::from_config("").unwrap();
        let s = seg("abc", vec![AnySpan::Span(Span::new(0, 5))], vec![]);
        let e = op.run_batch(vec![s]).unwrap_err();
        assert!(e.contains("3 characters but its spans cover 5"), "{e}");
        assert!(e.starts_with("segment 's'"), "{e}");
    }
}
