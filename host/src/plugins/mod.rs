//! Plugin loading: search path, one library at a time, checks, and the operation registry.

mod loader;
mod logging;
mod registry;

pub use loader::{search_dirs, LoadError, LoadedPlugin};
pub use logging::init_logging;
pub use registry::PluginSet;
