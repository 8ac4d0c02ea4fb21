//! `medkit evaluate`: predicted entities against reference documents (medkit's SeqEvalEvaluator).

use crate::context::Context;
use crate::evaluator::{evaluate_documents, parse_labels_remapping, EvaluateOptions};
use crate::plugins::{search_dirs, PluginSet};
use anyhow::Context as _;
use medkit_corpus::medkit_json::read_documents;
use medkit_sdk::TextDocument;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// medkit JSONL documents with the reference entities.
    #[arg(long)]
    reference: PathBuf,
    /// medkit JSONL documents with the predicted entities (matched by document uid).
    #[arg(long)]
    predicted: PathBuf,
    /// Tagging scheme (medkit: bilou is scored in seqeval's strict mode, iob2 in default mode).
    #[arg(long, default_value = "bilou", value_parser = ["iob2", "bilou"])]
    scheme: String,
    #[arg(long, default_value = "macro", value_parser = ["micro", "macro", "weighted"])]
    average: String,
    /// Also report the metrics of each label.
    #[arg(long)]
    by_label: bool,
    /// HuggingFace tokenizer.json: one tag per token instead of one per character.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Labels renamed before scoring, e.g. `disease=Disease,chem=Chemical`.
    #[arg(long)]
    labels_remapping: Option<String>,
}

fn read_all(path: &Path) -> anyhow::Result<Vec<TextDocument>> {
    read_documents(path)?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let options = EvaluateOptions {
        scheme: args.scheme,
        average: args.average,
        by_label: args.by_label,
        tokenizer: args.tokenizer,
        labels_remapping: match &args.labels_remapping {
            Some(text) => parse_labels_remapping(text)?,
            None => Default::default(),
        },
        ..EvaluateOptions::default()
    };
    let reference = read_all(&args.reference)?;
    let predicted = read_all(&args.predicted)?;
    let plugins = PluginSet::load(&search_dirs(&ctx.plugin_dirs, &[]));
    let metrics = evaluate_documents(&plugins, &reference, &predicted, &options)?;
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(())
}
