//! medkit-rs SDK: the only crate a plugin author depends on.
//!
//! - [`data`]: medkit's text model as ABI-stable plain data (character offsets, never bytes).
//! - [`ops`]: the operation interfaces a plugin implements (plain Rust traits) and their ABI twins.
//! - [`medkit`]: medkit's uids ([`new_uid`]) and class names, for files Python medkit reads back.
//! - [`config`]: [`parse_config`], an operation's JSON config into a serde struct.
//! - [`spans`]: medkit's `span_utils.extract` / `normalize_spans` (segment offsets -> document spans).
//! - [`plugin`]: registration (`register_operation!`), the root module (`export_plugin!`) and the
//!   log bridge.
//!
//! Only plain data crosses the ABI. Every ABI entry point catches panics and returns an error value.

pub mod config;
pub mod data;
mod guard;
pub mod medkit;
pub mod ops;
pub mod plugin;
pub mod spans;

pub use abi_stable;
pub use inventory;
pub use log;
/// For `#[derive(Deserialize)] #[serde(crate = "medkit_sdk::serde")]` config structs read with
/// [`parse_config`], so that a plugin needs no dependency but this crate.
pub use serde;
pub use serde_json;

pub use config::parse_config;
pub use data::*;
pub use medkit::{new_uid, ATTRIBUTE_CLASS};
pub use ops::*;
pub use plugin::*;

/// The SDK version a plugin was built against; the host refuses semver-incompatible ones.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
