//! medkit-rs SDK: the only crate a plugin author depends on.
//!
//! # Writing a plugin
//!
//! A plugin is a `cdylib` crate depending on this one. It implements one trait per operation:
//!
//! | kind (TOML `operation` lookup) | trait to implement |
//! | --- | --- |
//! | `ner` | [`NerOperation`]: segments in, entities out (medkit's NEROperation) |
//! | `segmentation` | [`SegmentationOperation`]: segments in, segments out (sentences, …) |
//! | `tagging-scheme` | [`TaggingScheme`]: entities ↔ token tags (IOB2, BILOU, …) |
//! | `metrics` | [`MetricsComputer`]: tag ids in, [`Metric`]s out (score, count or loss) |
//! | `callback` | [`TrainerCallback`]: the trainer's events |
//! | `trainable` | [`Trainable`]: a model the host's trainer fine-tunes |
//!
//! then registers each with [`register_operation!`] (its name, description, config example,
//! [`ConfigContract`] and constructor) and exports the plugin once with [`export_plugin!`].
//! `examples/template-plugin` is a complete plugin in one file.
//!
//! Helpers, so that no author rewrites them: [`parse_config`] (a config into a serde struct,
//! unknown keys refused with their path) and [`filled_config`] (the same, for `validate`), [`TextDocument::new`], [`Segment::new`],
//! [`TextDocument::remove_entities`] (with the relations pointing at them), [`new_uid`]
//! (medkit's uids), [`spans`] (medkit's `span_utils`: segment offsets → document spans),
//! [`Metric::new`] / [`Metric::count`] / [`Metric::loss`], [`panic_message`], [`derive_seed`]
//! (the run's per-step seeds), [`OptimizerConfig`] (what `Trainable::configure_optimizer`
//! receives: weight decay groups, betas, eps, gradient clipping), [`write_runtime`] (a
//! trainable's runtime versions, for the checkpoint's provenance).
//!
//! Spans are medkit's: character (code point) offsets, never bytes.
//!
//! # What crosses the ABI
//!
//! Only plain data ([`data`]): documents, spans, tags, ids, metrics, configs as JSON text;
//! tensors stay in the plugin that owns them. Every entry point catches panics and returns
//! them as errors. The ABI twins of the traits (`Abi<Trait>`, `<Trait>Box`), the root module
//! and the plugin description live in [`abi`], for hosts; an author never names them.

pub mod config;
pub mod data;
mod guard;
pub mod medkit;
#[doc(hidden)]
pub mod ops;
pub mod optimizer;
#[doc(hidden)]
pub mod plugin;
pub mod runtime;
pub mod seed;
pub mod spans;

pub use abi_stable;
pub use inventory;
pub use log;
/// For `#[derive(Deserialize)] #[serde(crate = "medkit_sdk::serde")]` config structs read with
/// [`parse_config`], so that a plugin needs no dependency but this crate.
pub use serde;
pub use serde_json;

pub use config::{filled_config, parse_config};
pub use data::*;
pub use guard::panic_message;
pub use medkit::{new_uid, ATTRIBUTE_CLASS};
pub use ops::{
    MetricsComputer, NerOperation, OpResult, OperationKind, SegmentationOperation, TaggingScheme,
    Trainable, TrainerCallback,
};
pub use optimizer::{OptimizerConfig, DEFAULT_NO_DECAY};
pub use plugin::ConfigContract;
pub use runtime::{read_runtime, write_runtime, RUNTIME_FILE};
pub use seed::derive_seed;

/// What crosses between host and plugin: the ABI twins of the operation traits, the operation
/// a plugin returns, the root module and the plugin's description. For hosts.
pub mod abi {
    pub use crate::ops::{
        AbiMetricsComputer, AbiMetricsComputer_TO, AbiNerOperation, AbiNerOperation_TO,
        AbiSegmentationOperation, AbiSegmentationOperation_TO, AbiTaggingScheme,
        AbiTaggingScheme_TO, AbiTrainable, AbiTrainable_TO, AbiTrainerCallback,
        AbiTrainerCallback_TO, MetricsComputerBox, NerOperationBox, Operation, Operation_NE,
        SegmentationOperationBox, TaggingSchemeBox, TrainableBox, TrainerCallbackBox,
    };
    pub use crate::plugin::{LogSink, OperationInfo, PluginInfo, PluginMod, PluginModRef};
}

// The same items at the crate root, where hosts and the macros name them; hidden from the
// author's docs.
#[doc(hidden)]
pub use ops::*;
#[doc(hidden)]
pub use plugin::*;

/// The SDK version a plugin was built against; the host refuses semver-incompatible ones.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
