//! `medkit seqeval`: seqeval's classification_report (output_dict=True) plus accuracy over
//! sequence pairs, computed by the `seqeval` metrics operation in report mode.

use crate::context::Context;
use crate::plugins::{search_dirs, PluginSet};
use abi_stable::std_types::{RString, RVec};
use anyhow::{anyhow, bail, Context as _};
use medkit_sdk::{Metric, Operation, OperationKind};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// JSONL file, one {"y_true": [tags...], "y_pred": [tags...]} per line.
    #[arg(long)]
    input: PathBuf,
    /// Tagging scheme of strict mode (seqeval auto-detects it when absent).
    #[arg(long, value_parser = ["iob1", "iob2", "ioe1", "ioe2", "iobes", "bilou"])]
    scheme: Option<String>,
    /// default: conlleval-compatible chunking (a tag seqeval does not know, e.g. BILOU's L-/U-, is
    /// read by its first character with a warning, as seqeval 1.2.2); strict: chunks must follow
    /// the scheme (an unknown tag is an error).
    #[arg(long, default_value = "default", value_parser = ["default", "strict"])]
    mode: String,
    /// Value of precision/recall/F1 when their denominator is zero.
    #[arg(long = "zero-division", default_value = "0", value_parser = ["0", "1"])]
    zero_division: String,
}

#[derive(Deserialize)]
struct Pair {
    y_true: Vec<String>,
    y_pred: Vec<String>,
}

/// Line number (1-based) and the pair on it; blank lines are skipped.
fn read_pairs(path: &std::path::Path) -> anyhow::Result<Vec<(usize, Pair)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let pair: Pair = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{n}: expected {{\"y_true\": [tags...], \"y_pred\": [tags...]}}",
                path.display()
            )
        })?;
        if pair.y_true.len() != pair.y_pred.len() {
            bail!(
                "{}:{n}: y_true has {} tags but y_pred has {}",
                path.display(),
                pair.y_true.len(),
                pair.y_pred.len()
            );
        }
        pairs.push((n, pair));
    }
    if pairs.is_empty() {
        // seqeval itself raises on an empty y_true
        bail!("{}: no {{\"y_true\", \"y_pred\"}} pair", path.display());
    }
    Ok(pairs)
}

/// Tag → id over every pair, in order of first appearance.
fn vocabulary(pairs: &[(usize, Pair)]) -> (Vec<String>, HashMap<String, i64>) {
    let mut labels = Vec::new();
    let mut ids = HashMap::new();
    for tag in pairs
        .iter()
        .flat_map(|(_, p)| p.y_true.iter().chain(&p.y_pred))
    {
        if !ids.contains_key(tag) {
            ids.insert(tag.clone(), labels.len() as i64);
            labels.push(tag.clone());
        }
    }
    (labels, ids)
}

/// Rebuilds seqeval's nested dict from `<row>/<field>` metrics (split on the last '/') and
/// `accuracy`. Supports are integers; NaN (macro average over no label) becomes null.
pub fn nest_report(metrics: &[Metric]) -> anyhow::Result<Value> {
    let mut out = Map::new();
    let mut accuracy = None;
    for m in metrics {
        let number = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
        if m.name.as_str() == "accuracy" {
            accuracy = Some(number(m.value));
            continue;
        }
        let (row, field) = m
            .name
            .rsplit_once('/')
            .ok_or_else(|| anyhow!("unexpected metric '{}' from the seqeval operation", m.name))?;
        let value = if field == "support" {
            json!(m.value as u64)
        } else {
            number(m.value)
        };
        out.entry(row.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .map(|o| o.insert(field.to_string(), value));
    }
    out.insert(
        "accuracy".into(),
        accuracy.ok_or_else(|| anyhow!("the seqeval operation returned no accuracy"))?,
    );
    Ok(Value::Object(out))
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if args.scheme.is_some() && args.mode == "default" {
        log::warn!("--scheme only applies to --mode strict; seqeval's default mode ignores it");
    }
    let pairs = read_pairs(&args.input)?;
    let (labels, ids) = vocabulary(&pairs);

    let plugins = PluginSet::load(&search_dirs(&ctx.plugin_dirs, &[]));
    use super::annotate::shorthands::*;
    let mut config = Map::new();
    config.insert(REPORT.into(), true.into());
    config.insert(REPORT_SCHEME.into(), json!(args.scheme));
    config.insert(REPORT_MODE.into(), args.mode.clone().into());
    config.insert(
        REPORT_ZERO_DIVISION.into(),
        args.zero_division.parse::<u8>()?.into(),
    );
    let config = Value::Object(config);
    let Operation::Metrics(mut op) =
        plugins.create(OperationKind::Metrics, METRICS_OPERATION, &config)?
    else {
        bail!("the registry returned another kind of operation for metrics '{METRICS_OPERATION}'");
    };
    let rlabels: RVec<RString> = labels.iter().map(|l| RString::from(l.as_str())).collect();
    op.set_labels(rlabels)
        .into_result()
        .map_err(|e| anyhow!("seqeval set_labels: {e}"))?;
    let encode = |tags: &[String]| -> RVec<i64> { tags.iter().map(|t| ids[t]).collect() };
    for (n, pair) in &pairs {
        let refs: RVec<RVec<i64>> = vec![encode(&pair.y_true)].into();
        let preds: RVec<RVec<i64>> = vec![encode(&pair.y_pred)].into();
        op.prepare_batch(refs, preds)
            .into_result()
            .map_err(|e| anyhow!("{}:{n}: {e}", args.input.display()))?;
    }
    let metrics = op
        .compute()
        .into_result()
        .map_err(|e| anyhow!("seqeval: {e}"))?;
    let report = nest_report(&metrics)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
