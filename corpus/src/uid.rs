//! New annotation/document uids: medkit's format, written once in the SDK.

pub use medkit_sdk::new_uid;
