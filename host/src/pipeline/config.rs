//! The pipeline file's schema. Unknown keys are errors naming their key path; operation sections
//! (`operation = "name"` + the operation's own keys) are passed to the plugin, which checks them.

use crate::trainer::{OptimizerSection, TrainerConfig};
use medkit_corpus::checks::{DataPolicies, OverlapPolicy, TextMismatchPolicy};
use medkit_corpus::OnError;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    #[serde(default)]
    pub plugins: PluginsSection,
    pub corpus: Option<CorpusSection>,
    pub train: Option<TrainSection>,
    pub annotate: Option<AnnotateSection>,
    /// `[evaluate]` (one) or `[[evaluate]]` (several).
    #[serde(default, deserialize_with = "one_or_many")]
    pub evaluate: Vec<EvaluateSection>,
    /// `[report]`: the HTML report; written by default when there is an evaluate stage.
    pub report: Option<ReportSection>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PluginsSection {
    /// Extra plugin directories (relative to the pipeline file).
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
}

/// medkit JSONL files; splits are referred to elsewhere by name (`"train"`, `"validation"`, `"test"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusSection {
    pub train: Option<PathBuf>,
    pub validation: Option<PathBuf>,
    pub test: Option<PathBuf>,
    /// Keep only the first N documents of each split (quick runs).
    pub max_documents: Option<usize>,
}

/// An operation by name plus its config keys.
#[derive(Debug, Deserialize, Clone)]
pub struct OperationSection {
    pub operation: String,
    #[serde(flatten)]
    pub config: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// The trainable operation (e.g. `hf-entity-matcher`) and its config.
    pub trainable: OperationSection,
    pub trainer: TrainerConfig,
    /// AdamW's weight decay (and its `no_decay` names), betas, eps; absent: Python medkit's
    /// optimizer (see `trainer::optimizer`).
    pub optimizer: Option<OptimizerSection>,
    /// Metrics computers: `[train.metrics]` (one) or `[[train.metrics]]` (several, their names
    /// prefixed with the operation's where they collide); none = loss only.
    #[serde(default, deserialize_with = "one_or_many")]
    pub metrics: Vec<OperationSection>,
    /// Trainer callbacks, in order; default: the callbacks plugins register as default (the
    /// progress printer).
    pub callbacks: Option<Vec<OperationSection>>,
    /// Train split name (default "train") and eval split name (default "validation").
    #[serde(default = "defaults::train")]
    pub train_split: String,
    #[serde(default = "defaults::validation")]
    pub eval_split: String,
    /// The general policy for training annotations that cannot be built, as `medkit convert
    /// --on-error`: a span outside the text or reversed, spans whose length is not the entity
    /// text's, a relation pointing at one of those; and, unless `entity_text_mismatch` is given,
    /// an entity whose text is not what its spans cover. "error" (default: stop, naming
    /// file:line and the annotation) or "skip" (warn, drop, count). A line that is not a
    /// document stays an error. Overlaps have their own key, `overlapping_entities`.
    #[serde(default)]
    pub on_error: OnError,
    /// An entity whose text is not what its spans cover: "error" or "skip" (warn, drop, count).
    /// See `medkit_corpus::checks`. Default: `on_error`'s value; when both are given and disagree, this
    /// specific key wins for this case (e.g. `on_error = "skip"` with
    /// `entity_text_mismatch = "error"` skips spans outside the text but stops at a mismatch).
    #[serde(default)]
    pub entity_text_mismatch: Option<TextMismatchPolicy>,
    /// Overlapping entities: "error" (default) or "keep-longest" (warn, drop the others, count).
    #[serde(default)]
    pub overlapping_entities: OverlapPolicy,
}

impl TrainSection {
    /// The checks' policies, `entity_text_mismatch` defaulting to `on_error`.
    pub fn data_policies(&self) -> DataPolicies {
        let general = match self.on_error {
            OnError::Error => TextMismatchPolicy::Error,
            OnError::Skip => TextMismatchPolicy::Skip,
        };
        DataPolicies {
            text_mismatch: self.entity_text_mismatch.unwrap_or(general),
            overlaps: self.overlapping_entities,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnotateSection {
    /// A split name or a medkit JSONL path.
    pub input: String,
    /// Output medkit JSONL path.
    pub output: PathBuf,
    /// Documents per call to the NER operation.
    #[serde(default = "defaults::batch")]
    pub batch_size: usize,
    /// Remove the input documents' entities first, so the output holds predictions only.
    #[serde(default)]
    pub drop_existing_entities: bool,
    /// Documents between progress log lines when stderr is not a terminal (on a terminal, a
    /// progress bar); a line also comes after 30 s without one.
    #[serde(default = "defaults::log_document_interval")]
    pub log_document_interval: usize,
    /// The NER operation; its `model` may be `"@best"` / `"@last"` (checkpoints of [train]).
    pub matcher: OperationSection,
    /// Run the matcher on each segment of this label (e.g. `"sentence"`) instead of the whole
    /// text; `"RAW_TEXT"` (medkit's raw segment label) = the whole text (default).
    pub segments: Option<String>,
    /// Segmentation operation (e.g. `sentence-tokenizer`) making the `segments` of documents
    /// that have none; its segments are kept in the output.
    pub segmentation: Option<OperationSection>,
}

#[derive(Debug, Deserialize)]
// Unknown keys land in `options`, whose own type refuses them by name.
pub struct EvaluateSection {
    /// Section title in the output (default: "<predicted> vs <reference>").
    pub name: Option<String>,
    /// Split name or path of the reference documents.
    pub reference: String,
    /// `"@annotate"` (the annotate stage's output), a split name or a path.
    pub predicted: String,
    /// Where to write the metrics as JSON.
    pub output: Option<PathBuf>,
    /// tokenizer.json, or `"@model"` (the annotate model's), to score tokens instead of characters.
    pub tokenizer: Option<String>,
    /// scheme, average, by_label, labels_remapping, tagging_operation, metrics_operation.
    #[serde(flatten)]
    pub options: toml::Table,
}

/// The HTML report (`medkit report`), written after the evaluate stages.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    /// `false`: no report. Default: true.
    pub enabled: Option<bool>,
    /// The HTML file (default: `report.html` in the run directory, else beside the first
    /// evaluate stage's `output`).
    pub output: Option<PathBuf>,
    /// The training run directory (default: the [train] stage's `output_dir`).
    pub run_dir: Option<PathBuf>,
    /// Reference documents: a split name or a path (default: the first evaluate stage's).
    pub reference: Option<String>,
    /// Predicted documents: `"@annotate"`, a split name or a path (default: the first evaluate
    /// stage's).
    pub predicted: Option<String>,
}

fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let value = toml::Value::deserialize(d)?;
    let items = match value {
        toml::Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_path_to_error::deserialize(v)
                .map_err(|e| D::Error::custom(format!("[{i}].{}: {}", e.path(), e.inner())))
        })
        .collect()
}

mod defaults {
    pub fn train() -> String {
        "train".into()
    }
    pub fn validation() -> String {
        "validation".into()
    }
    pub fn batch() -> usize {
        16
    }
    pub fn log_document_interval() -> usize {
        crate::annotate::DEFAULT_LOG_DOCUMENT_INTERVAL
    }
}
