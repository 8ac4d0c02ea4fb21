//! `medkit annotate`, and the one table where the host names plugin keys: the CLI flags (and
//! legacy pipeline keys) that are shorthands for an operation's own config keys.

use crate::context::Context;
use crate::plugins::{search_dirs, PluginSet};
use crate::trainer::manifest::{self, Reference};
use anyhow::{bail, Context as _};
use medkit_sdk::{Operation, OperationKind};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The operations the CLI uses when none is named, and the config keys its flags stand for.
/// Everything else reaches an operation through its own config (`--op KEY=VALUE`, pipeline
/// sections). A test checks that no other file of the host names these keys.
pub mod shorthands {
    /// `medkit annotate`'s default NER operation.
    pub const NER_OPERATION: &str = "hf-entity-matcher";
    /// `medkit annotate` flag → the NER operation's config key.
    pub const NER_MODEL: &str = "model";
    pub const NER_AGGREGATION: &str = "aggregation_strategy";
    pub const NER_BATCH_SIZE: &str = "batch_size";
    pub const NER_DEVICE: &str = "device";
    pub const NER_BF16: &str = "bf16";
    pub const NER_STREAMS: &str = "streams";
    pub const NER_QUANTIZE: &str = "quantize";
    /// The default metrics operation of `medkit evaluate`, `[[evaluate]]` and `medkit seqeval`.
    pub const METRICS_OPERATION: &str = "seqeval";
    /// `--scheme` / `scheme`, `--average` / `average`, `--by-label` / `by_label` → its keys.
    pub const METRICS_SCHEME: &str = "tagging_scheme";
    pub const METRICS_AVERAGE: &str = "average";
    pub const METRICS_BY_LABEL: &str = "return_metrics_by_label";
    /// `medkit seqeval`: the metrics operation's report mode and its keys.
    pub const REPORT: &str = "report";
    pub const REPORT_SCHEME: &str = "scheme";
    pub const REPORT_MODE: &str = "mode";
    pub const REPORT_ZERO_DIVISION: &str = "zero_division";
}

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint directory or hub name; `OUTPUT_DIR@best` / `OUTPUT_DIR@last` (or
    /// `OUTPUT_DIR/@best`): the checkpoint a training run's `checkpoints.json` names.
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
    #[arg(long, default_value = shorthands::NER_OPERATION)]
    pub operation: String,
    /// A config key of the NER operation, KEY=VALUE (VALUE as TOML, else a string), e.g.
    /// `--op stride=64`; repeatable. The flags above are shorthands for some of these keys;
    /// an --op of the same key wins.
    #[arg(long = "op", value_name = "KEY=VALUE")]
    pub op: Vec<String>,
    /// Annotate only the first N documents.
    #[arg(long)]
    pub max_documents: Option<usize>,
    /// Remove the input documents' entities before annotating (output = predictions only).
    #[arg(long)]
    pub drop_existing_entities: bool,
    /// Documents between progress log lines when stderr is not a terminal (on a terminal, a
    /// progress bar); a line also comes after 30 s without one.
    #[arg(long, default_value_t = crate::annotate::DEFAULT_LOG_DOCUMENT_INTERVAL,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub log_document_interval: usize,
    /// bf16 autocast for the model (faster on GPUs and CPUs with AVX-512 BF16; scores differ
    /// slightly from fp32). Passed to the operation as `bf16 = true`.
    #[arg(long)]
    pub bf16: bool,
    /// CPU: forward passes run side by side, one thread each (default: as many as libtorch's
    /// threads for batch sizes below 8; 1 = one multi-threaded pass at a time). Passed to the
    /// operation as `streams`.
    #[arg(long)]
    pub streams: Option<usize>,
    /// Quantized inference, e.g. `int8` (CPU: dynamic int8 linear layers, faster on CPUs with
    /// AMX-INT8 or AVX-512 VNNI; scores differ slightly from fp32). Passed to the operation as
    /// `quantize`.
    #[arg(long, value_name = "MODE")]
    pub quantize: Option<String>,
    /// Run the NER operation on each segment of this label instead of the whole text (entity
    /// spans stay document offsets; the segments' attributes named in the operation's
    /// `attrs_to_copy` are copied onto their entities). Segments already in the input are used;
    /// with --segmentation, documents without any get them from that operation. `RAW_TEXT`:
    /// the whole text (the default).
    #[arg(long, value_name = "LABEL")]
    pub segments: Option<String>,
    /// Segmentation operation (e.g. `sentence-tokenizer`) run on documents that have no segment
    /// of the --segments label; its segments are kept in the output. Needs --segments.
    #[arg(long, value_name = "OPERATION", requires = "segments")]
    pub segmentation: Option<String>,
    /// A config key of the segmentation operation, KEY=VALUE (VALUE as TOML, else a string),
    /// e.g. `--segmentation-opt 'punct_chars=["?", "!"]'`; repeatable.
    #[arg(long, value_name = "KEY=VALUE", requires = "segmentation")]
    pub segmentation_opt: Vec<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let plugins = PluginSet::load(&search_dirs(&ctx.plugin_dirs, &[]));
    let config = ner_config(&args)?;
    let Operation::Ner(mut ner) = plugins.create(OperationKind::Ner, &args.operation, &config)?
    else {
        unreachable!("the registry returns the kind asked for")
    };
    let mut segments = crate::annotate::Segments {
        label: args.segments.clone(),
        segmentation: None,
    };
    if let Some(name) = &args.segmentation {
        let mut table = toml::Table::new();
        for spec in &args.segmentation_opt {
            crate::pipeline::load::apply_key_value(&mut table, spec, "--segmentation-opt")?;
        }
        let config = serde_json::to_value(&table)?;
        let Operation::Segmentation(op) =
            plugins.create(OperationKind::Segmentation, name, &config)?
        else {
            unreachable!("the registry returns the kind asked for")
        };
        segments.segmentation = Some(op);
    }
    let options = crate::annotate::AnnotateOptions {
        batch_size: crate::annotate::call_size(args.batch_size),
        max_documents: args.max_documents,
        drop_existing: args.drop_existing_entities,
        log_document_interval: args.log_document_interval,
    };
    let stats = crate::annotate::annotate_file(
        &mut ner,
        &args.input,
        &args.output,
        &options,
        &mut segments,
    )
    .with_context(|| format!("annotating {}", args.input.display()))?;
    crate::annotate::warn_without_segments(&stats, &segments);
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

/// `--model`: a checkpoint reference (`runs/ner@best`) resolved through the run's
/// `checkpoints.json`; anything else as given.
fn model_dir(model: &str) -> anyhow::Result<String> {
    let Some(r) = Reference::parse(model).context("--model")? else {
        return Ok(model.to_string());
    };
    let Some(dir) = r.output_dir else {
        bail!("--model {model}: name the training run's output_dir, e.g. --model runs/ner{model}");
    };
    let p =
        manifest::resolve(Path::new(dir), r.which).with_context(|| format!("--model {model}"))?;
    log::info!("--model {model}: {}", p.display());
    Ok(p.display().to_string())
}

/// The NER operation's config: the shorthand flags, then every `--op KEY=VALUE` (which wins).
fn ner_config(args: &Args) -> anyhow::Result<Value> {
    use shorthands::*;
    let mut config = Map::new();
    config.insert(NER_MODEL.into(), model_dir(&args.model)?.into());
    config.insert(NER_AGGREGATION.into(), args.aggregation.clone().into());
    config.insert(NER_BATCH_SIZE.into(), args.batch_size.into());
    config.insert(NER_DEVICE.into(), args.device.clone().into());
    if let Some(n) = args.streams {
        config.insert(NER_STREAMS.into(), n.into());
    }
    if let Some(q) = &args.quantize {
        config.insert(NER_QUANTIZE.into(), q.clone().into());
    }
    if args.bf16 {
        // Only when asked: an operation without the key may reject unknown ones.
        config.insert(NER_BF16.into(), true.into());
    }
    let mut table = toml::Table::new();
    for spec in &args.op {
        crate::pipeline::load::apply_key_value(&mut table, spec, "--op")?;
    }
    if let Value::Object(ops) = serde_json::to_value(&table)? {
        config.extend(ops);
    }
    Ok(Value::Object(config))
}
