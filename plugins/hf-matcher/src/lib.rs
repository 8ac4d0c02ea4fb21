//! HuggingFace entity matcher: token-classification encoders on libtorch (tch), tokenization with
//! `tokenizers`, the trainable side (fine-tuning through the host's Trainer) and the inference side
//! (medkit's HFEntityMatcher). Tensors never leave this crate.

// Encoders, weights, tokenizer, hub (issue: transformer encoders).
pub mod config;
pub mod device;
pub mod hub;
pub mod model;
pub mod tokenizer;
pub mod weights;

// Operations (issue: HF entity matcher).
pub mod aggregation;
pub mod collate;
pub mod inference;
pub mod ops;
mod register;
pub mod trainable;

medkit_sdk::export_plugin!();
