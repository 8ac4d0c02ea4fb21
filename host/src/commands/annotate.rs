use super::Context;
use crate::plugins::{search_dirs, PluginSet};
use anyhow::Context as _;
use medkit_sdk::{Operation, OperationKind};
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint directory or hub name.
    #[arg(long)]
    pub model: String,
    /// medkit JSONL documents to annotate.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the annotated documents (medkit JSONL): whole lines go to OUTPUT.partial,
    /// renamed onto OUTPUT at the end (a killed run leaves OUTPUT as it was).
    #[arg(long)]
    pub output: PathBuf,
    /// none | simple | first | average | max (transformers' aggregation strategies).
    #[arg(long, default_value = "max")]
    pub aggregation: String,
    /// Documents per call to the model.
    #[arg(long, default_value_t = 1)]
    pub batch_size: usize,
    /// cpu | cuda | cuda:N
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// The NER operation to use.
    #[arg(long, default_value = "hf-entity-matcher")]
    pub operation: String,
    /// Annotate only the first N documents.
    #[arg(long)]
    pub max_documents: Option<usize>,
    /// Remove the input documents' entities before annotating (output = predictions only).
    #[arg(long)]
    pub drop_existing_entities: bool,
    /// bf16 autocast for the model (faster on GPUs and CPUs with AVX-512 BF16; scores differ
    /// slightly from fp32). Passed to the operation as `bf16 = true`.
    #[arg(long)]
    pub bf16: bool,
    /// CPU: forward passes run side by side, one thread each (default: as many as libtorch's
    /// threads for batch sizes below 8; 1 = one multi-threaded pass at a time). Passed to the
    /// operation as `streams`.
    #[arg(long)]
    pub streams: Option<usize>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let plugins = PluginSet::load(&search_dirs(&ctx.plugin_dirs, &[]));
    let mut config = json!({
        "model": args.model,
        "aggregation_strategy": args.aggregation,
        "batch_size": args.batch_size,
        "device": args.device,
    });
    if let Some(n) = args.streams {
        config["streams"] = n.into();
    }
    if args.bf16 {
        // Only when asked: an operation without the key may reject unknown ones.
        config["bf16"] = true.into();
    }
    let Operation::Ner(mut ner) = plugins.create(OperationKind::Ner, &args.operation, &config)?
    else {
        unreachable!("the registry returns the kind asked for")
    };
    let stats = crate::annotate::annotate_file(
        &mut ner,
        &args.input,
        &args.output,
        crate::annotate::call_size(args.batch_size),
        args.max_documents,
        args.drop_existing_entities,
    )
    .with_context(|| format!("annotating {}", args.input.display()))?;
    log::info!(
        "Annotated {} documents ({} entities) in {:.1}s ({:.1} docs/s) -> {}",
        stats.documents,
        stats.entities,
        stats.seconds,
        stats.documents as f64 / stats.seconds.max(1e-9),
        args.output.display()
    );
    Ok(())
}
