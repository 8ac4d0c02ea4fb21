//! The one error type of the encoder side (config, weights, tokenizer, hub, device).
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is missing{hint}")]
    MissingFile { path: PathBuf, hint: String },
    #[error("invalid JSON in {path}: {msg}")]
    Json { path: PathBuf, msg: String },
    #[error("{path}: key `{key}`: {msg}")]
    ConfigKey {
        path: PathBuf,
        key: String,
        msg: String,
    },
    #[error("{path}: unsupported model_type `{model_type}` (supported: bert, roberta, camembert, xlm-roberta, distilbert)")]
    UnknownModelType { path: PathBuf, model_type: String },
    #[error("weights {path}: {msg}")]
    Weights { path: PathBuf, msg: String },
    #[error("tensor `{name}` not found in the weights of {path}")]
    MissingTensor { name: String, path: PathBuf },
    #[error("tensor `{name}` in {path}: shape {found:?}, the model expects {expected:?}")]
    ShapeMismatch {
        name: String,
        path: PathBuf,
        expected: Vec<i64>,
        found: Vec<i64>,
    },
    #[error("tokenizer {path}: {msg}")]
    Tokenizer { path: PathBuf, msg: String },
    #[error("device: {0}")]
    Device(String),
    #[error("hub: {0}")]
    Hub(String),
    #[error("labels: {0}")]
    Labels(String),
    #[error("libtorch error while {context}: {msg}")]
    Torch { context: String, msg: String },
}

impl ModelError {
    pub(crate) fn torch(context: impl Into<String>, e: impl std::fmt::Display) -> Self {
        ModelError::Torch {
            context: context.into(),
            msg: e.to_string(),
        }
    }
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            return ModelError::MissingFile {
                path,
                hint: String::new(),
            };
        }
        ModelError::Io { path, source }
    }
}
