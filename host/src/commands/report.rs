//! `medkit report`: one self-contained HTML page for a run directory, optionally with reference
//! and predicted documents compared entity by entity.

use crate::context::Context;
use crate::plugins::{search_dirs, PluginSet};
use crate::report::{run_dir, Report};
use anyhow::{bail, Context as _};
use medkit_corpus::medkit_json::read_documents;
use medkit_sdk::TextDocument;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// The trainer's output_dir (history.json, timings.json, checkpoints).
    pub run_dir: PathBuf,
    /// medkit JSONL documents with the reference (gold) entities.
    #[arg(long, requires = "predicted")]
    pub reference: Option<PathBuf>,
    /// medkit JSONL documents with the predicted entities (matched by document uid).
    #[arg(long, requires = "reference")]
    pub predicted: Option<PathBuf>,
    /// Where to write the page (default: RUN_DIR/report.html).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

fn read_all(path: &Path) -> anyhow::Result<Vec<TextDocument>> {
    read_documents(path)?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))
}

/// What `medkit report` and the pipeline's `[report]` stage print once the page is written.
pub fn summary_line(report: &Report, output: &Path, bytes: usize) -> String {
    let docs = match &report.comparison {
        Some(c) => format!(
            "{} documents, {} gold / {} predicted entities, {} labels, ",
            c.documents,
            c.gold_entities,
            c.predicted_entities,
            c.labels.len()
        ),
        None => String::new(),
    };
    format!(
        "report: {}{} epochs -> {} ({:.1} KiB)",
        docs,
        report.run.epochs.len(),
        output.display(),
        bytes as f64 / 1024.0
    )
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if !args.run_dir.is_dir() {
        bail!("{}: not a directory", args.run_dir.display());
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.run_dir.join("report.html"));
    let plugins = PluginSet::load(&search_dirs(&ctx.plugin_dirs, &[]));
    let mut report = Report {
        title: format!("medkit report — {}", args.run_dir.display()),
        run: run_dir::read(&args.run_dir),
        versions: crate::report::versions(&plugins),
        sources: vec![("run directory".into(), args.run_dir.display().to_string())],
        ..Default::default()
    };
    if let (Some(r), Some(p)) = (&args.reference, &args.predicted) {
        report.compare(&read_all(r)?, &read_all(p)?)?;
        report
            .sources
            .push(("reference".into(), r.display().to_string()));
        report
            .sources
            .push(("predicted".into(), p.display().to_string()));
    }
    let bytes = report.write(&output)?;
    println!("{}", summary_line(&report, &output, bytes));
    Ok(())
}
