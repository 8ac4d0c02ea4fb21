//! Segmentation operations: `sentence-tokenizer`, medkit's `SentenceTokenizer`.

mod sentence;

pub use sentence::{SentenceTokenizer, SentenceTokenizerConfig};

medkit_sdk::register_operation! {
    kind: segmentation,
    name: "sentence-tokenizer",
    description: "Sentences by end punctuation and newlines (medkit's SentenceTokenizer)",
    config_example: r#"output_label = "sentence"
punct_chars = [".", ";", "?", "!"]
keep_punct = false
split_on_newlines = true
attrs_to_copy = []"#,
    validate: SentenceTokenizer::validate,
    create: SentenceTokenizer::from_config,
}

medkit_sdk::export_plugin!();
