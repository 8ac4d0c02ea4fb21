//! What every subcommand and the pipeline runner get from the global flags.

use std::path::PathBuf;

/// The global flags' settings.
pub struct Context {
    /// `--plugin-dir` values, in order.
    pub plugin_dirs: Vec<PathBuf>,
}
