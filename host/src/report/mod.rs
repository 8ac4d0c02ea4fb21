//! `medkit report`: one self-contained HTML page (inline CSS, JS and SVG; nothing fetched) with a
//! run's training curves, per-label scores, the entity-level label confusion, a document viewer
//! of gold vs predicted entities, and the run's config, versions and timings.
//!
//! `run_dir` reads what training left, `data` compares reference and predicted documents
//! (`compare` pairs the entities of one document), `sections`, `svg` and `html` write the page;
//! `assets/` holds its stylesheet and script.

pub mod compare;
pub mod data;
mod html;
pub mod run_dir;
mod sections;
mod svg;

pub use compare::Kind;
pub use data::Comparison;
pub use run_dir::TrainingRun;

use crate::plugins::PluginSet;
use anyhow::Context as _;
use medkit_sdk::TextDocument;
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;

/// Everything a report shows; each part is optional.
#[derive(Default)]
pub struct Report {
    pub title: String,
    pub run: TrainingRun,
    pub comparison: Option<Comparison>,
    /// Metrics of the pipeline's evaluate stages: (name, metrics object).
    pub evaluations: Vec<(String, Value)>,
    /// The resolved pipeline file (TOML, `--set` overrides applied).
    pub config_text: Option<String>,
    /// (what, version), e.g. the host's and each plugin's.
    pub versions: Vec<(String, String)>,
    /// (what, where), e.g. the reference and predicted files.
    pub sources: Vec<(String, String)>,
}

impl Report {
    /// Compares `predicted` with `reference` (documents matched by uid, reference order).
    pub fn compare(
        &mut self,
        reference: &[TextDocument],
        predicted: &[TextDocument],
    ) -> anyhow::Result<()> {
        let pairs = data::pair_by_uid(reference, predicted)?;
        self.comparison = Some(data::build(&pairs));
        Ok(())
    }

    pub fn render(&self) -> String {
        html::page(self)
    }

    /// Renders the page and writes it atomically (temporary sibling, fsync, rename); its size.
    pub fn write(&self, path: &Path) -> anyhow::Result<usize> {
        let page = self.render();
        let dir = medkit_corpus::io::parent_or_dot(path);
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        medkit_corpus::io::temp_beside(path)
            .and_then(|mut tmp| {
                tmp.write_all(page.as_bytes())?;
                medkit_corpus::io::persist(tmp, path)
            })
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(page.len())
    }
}

/// The host's version and each loaded plugin's.
pub fn versions(plugins: &PluginSet) -> Vec<(String, String)> {
    let mut v = vec![(
        "medkit-rs".to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    )];
    for p in &plugins.plugins {
        let file = p
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        v.push((
            format!("plugin {}", p.info.name),
            format!("{} ({file})", p.info.version),
        ));
    }
    v
}

#[cfg(test)]
mod tests;
