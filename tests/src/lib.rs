//! Helpers for the workspace integration tests in `tests/tests/`.

mod cli;
mod corpus;
mod interop;
mod pipeline;
mod workspace;

pub use cli::*;
pub use corpus::*;
pub use interop::*;
pub use pipeline::*;
pub use workspace::*;
