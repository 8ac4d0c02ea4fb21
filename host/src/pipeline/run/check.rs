//! `medkit check`, and the check `medkit run` makes before any work: every stage of a pipeline
//! resolved and validated — corpus files and splits, the trainer's values, each operation's own
//! config (its plugin's `validate`: no model is loaded), every `[[evaluate]]` — and the resolved
//! config with every default filled in (as spaCy's `fill-config`).

use super::{metrics_key, op_config, trainable_config, State};
use crate::evaluator::{metrics_config, EvaluateOptions};
use crate::pipeline::config::{OperationSection, PipelineConfig};
use crate::pipeline::load::resolve;
use crate::plugins::PluginSet;
use crate::trainer::optimizer::{self, OptimizerSection};
use crate::trainer::TrainOutcome;
use anyhow::{anyhow, bail, Context as _};
use medkit_sdk::OperationKind;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The resolved pipeline, and what could not be checked.
pub struct Checked {
    pub resolved: Value,
    /// Operations whose plugin has no `validate` (their config is checked when they are built).
    pub unchecked: Vec<String>,
}

/// Checks `config` (already parsed from `raw`, its keys known) against the loaded plugins. With
/// `skip_train`, the [train] stage will not run: `@best` / `@last` must resolve through its
/// output_dir's `checkpoints.json` now.
pub fn check(
    plugins: &PluginSet,
    config: &PipelineConfig,
    raw: &toml::Table,
    base: &Path,
    skip_train: bool,
) -> anyhow::Result<Checked> {
    let mut state = State::new(base.to_path_buf(), false);
    let mut resolved = serde_json::to_value(raw)?;
    let mut unchecked = Vec::new();
    if let Some(c) = &config.corpus {
        for (name, p) in [
            ("train", &c.train),
            ("validation", &c.validation),
            ("test", &c.test),
        ] {
            if let Some(p) = p {
                let p = resolve(base, p);
                if !p.is_file() {
                    bail!("corpus.{name}: no such file {}", p.display());
                }
                resolved["corpus"][name] = json!(p);
                state.splits.insert(name.to_string(), p);
            }
        }
    }
    if let Some(t) = &config.train {
        let mut trainer = t.trainer.clone();
        trainer.output_dir = resolve(base, &trainer.output_dir);
        trainer.validate().map_err(|e| anyhow!("train.{e}"))?;
        optimizer::checked_settings(t.optimizer.as_ref(), trainer.max_grad_norm)
            .map_err(|e| anyhow!("train.{e}"))?;
        state.train_output_dir = Some(trainer.output_dir.clone());
        let trainable = checked_config(
            plugins,
            &mut unchecked,
            (OperationKind::Trainable, "train.trainable", &t.trainable),
            trainable_config(plugins, &state, t)?,
        )?;
        let mut metrics = Vec::new();
        for (i, m) in t.metrics.iter().enumerate() {
            if t.metrics[..i].iter().any(|o| o.operation == m.operation) {
                bail!(
                    "pipeline key 'train.metrics[{i}]': operation '{}' is listed twice; its \
                     metrics would have the same names",
                    m.operation
                );
            }
            metrics.push(checked_op(
                plugins,
                &state,
                &mut unchecked,
                OperationKind::Metrics,
                &metrics_key(t, i),
                m,
            )?);
        }
        let callbacks: Vec<OperationSection> = match &t.callbacks {
            Some(c) => c.clone(),
            None => default_callbacks(plugins),
        };
        let mut filled_callbacks = Vec::new();
        for (i, c) in callbacks.iter().enumerate() {
            let key = format!("train.callbacks[{i}]");
            filled_callbacks.push(checked_op(
                plugins,
                &state,
                &mut unchecked,
                OperationKind::Callback,
                &key,
                c,
            )?);
        }
        for (key, split) in [
            ("train.train_split", &t.train_split),
            ("train.eval_split", &t.eval_split),
        ] {
            split_or_file(&state, key, split)?;
        }
        let train = &mut resolved["train"];
        train["trainer"] = serde_json::to_value(&trainer)?;
        // Without the table, its equivalent (medkit's optimizer): the output runs the same.
        let optimizer = t.optimizer.clone().unwrap_or_else(OptimizerSection::medkit);
        train["optimizer"] = serde_json::to_value(optimizer)?;
        train["trainable"] = trainable;
        train["metrics"] = Value::Array(metrics);
        train["callbacks"] = Value::Array(filled_callbacks);
        train["train_split"] = json!(t.train_split);
        train["eval_split"] = json!(t.eval_split);
        // What the annotate stage's `@best` / `@last` will name once the stage has run.
        if !skip_train {
            state.outcome = Some(TrainOutcome {
                history: Vec::new(),
                timings: Vec::new(),
                best_checkpoint: Some(PathBuf::from("@best")),
                last_checkpoint: Some(PathBuf::from("@last")),
            });
        }
    }
    if let Some(a) = &config.annotate {
        split_or_file(&state, "annotate.input", &a.input)?;
        if a.log_document_interval == 0 {
            bail!("pipeline key 'annotate.log_document_interval': must be at least 1");
        }
        let matcher = checked_op(
            plugins,
            &state,
            &mut unchecked,
            OperationKind::Ner,
            "annotate.matcher",
            &a.matcher,
        )?;
        let annotate = &mut resolved["annotate"];
        annotate["matcher"] = matcher;
        annotate["batch_size"] = json!(a.batch_size);
        annotate["log_document_interval"] = json!(a.log_document_interval);
        annotate["output"] = json!(resolve(base, &a.output));
        if let Some(s) = &a.segmentation {
            if a.segments.is_none() {
                bail!(
                    "pipeline key 'annotate.segmentation' needs 'annotate.segments' (the label \
                     of the segments to annotate, e.g. \"sentence\")"
                );
            }
            annotate["segmentation"] = checked_op(
                plugins,
                &state,
                &mut unchecked,
                OperationKind::Segmentation,
                "annotate.segmentation",
                s,
            )?;
        }
    }
    for (i, e) in config.evaluate.iter().enumerate() {
        let key = format!("evaluate[{i}]");
        let options: EvaluateOptions =
            serde_path_to_error::deserialize(toml::Value::Table(e.options.clone()))
                .map_err(|err| anyhow!("pipeline key '{key}.{}': {}", err.path(), err.inner()))?;
        split_or_file(&state, &format!("{key}.reference"), &e.reference)?;
        if e.predicted == "@annotate" {
            if config.annotate.is_none() {
                bail!("{key}.predicted = '@annotate' needs an [annotate] stage");
            }
        } else {
            split_or_file(&state, &format!("{key}.predicted"), &e.predicted)?;
        }
        if e.tokenizer.as_deref() == Some("@model") && config.annotate.is_none() {
            bail!("{key}.tokenizer = '@model' needs an [annotate] stage with a local model");
        }
        let tagging = options
            .tagging_operation
            .clone()
            .unwrap_or_else(|| options.scheme.clone());
        if plugins
            .provider(OperationKind::TaggingScheme, &tagging)
            .is_none()
        {
            bail!(
                "pipeline key '{key}': no tagging-scheme operation named '{tagging}' (available: {})",
                plugins.names(OperationKind::TaggingScheme).join(", ")
            );
        }
        let metrics = plugins
            .validate(
                OperationKind::Metrics,
                &options.metrics_operation,
                &metrics_config(&options),
            )
            .with_context(|| format!("pipeline key '{key}'"))?;
        if metrics.is_none() {
            unchecked.push(format!("{key}: metrics '{}'", options.metrics_operation));
        }
        let mut filled = serde_json::to_value(&options)?;
        if let Some(out) = &e.output {
            filled["output"] = json!(resolve(base, out));
        }
        filled["metrics"] = metrics.unwrap_or_else(|| metrics_config(&options));
        let entry = if resolved["evaluate"].is_array() {
            &mut resolved["evaluate"][i]
        } else {
            &mut resolved["evaluate"]
        };
        if let (Value::Object(entry), Value::Object(filled)) = (entry, filled) {
            entry.extend(filled);
        }
    }
    Ok(Checked {
        resolved: without_nulls(resolved),
        unchecked,
    })
}

/// The callbacks plugins register as default, as sections.
pub(super) fn default_callbacks(plugins: &PluginSet) -> Vec<OperationSection> {
    plugins
        .defaults(OperationKind::Callback)
        .into_iter()
        .map(|operation| OperationSection {
            operation,
            config: toml::Table::new(),
        })
        .collect()
}

/// An operation section validated by its plugin: `{"operation": …, <its config, filled>}`.
fn checked_op(
    plugins: &PluginSet,
    state: &State,
    unchecked: &mut Vec<String>,
    kind: OperationKind,
    key: &str,
    section: &OperationSection,
) -> anyhow::Result<Value> {
    let config = op_config(plugins, kind, state, key, section)?;
    checked_config(plugins, unchecked, (kind, key, section), config)
}

/// `config` (as the stage that builds the operation makes it) validated by its plugin.
fn checked_config(
    plugins: &PluginSet,
    unchecked: &mut Vec<String>,
    (kind, key, section): (OperationKind, &str, &OperationSection),
    config: Value,
) -> anyhow::Result<Value> {
    let filled = plugins
        .validate(kind, &section.operation, &config)
        .with_context(|| format!("pipeline key '{key}'"))?;
    if filled.is_none() {
        unchecked.push(format!("{key}: {} '{}'", kind.as_str(), section.operation));
    }
    let mut out = Map::new();
    out.insert("operation".into(), json!(section.operation));
    if let Some(Value::Object(c)) = filled.or(Some(config)) {
        out.extend(c);
    }
    Ok(Value::Object(out))
}

/// A split name of [corpus] or a file that exists.
fn split_or_file(state: &State, key: &str, value: &str) -> anyhow::Result<()> {
    if state.splits.contains_key(value) || resolve(&state.base, Path::new(value)).is_file() {
        return Ok(());
    }
    let splits: Vec<&str> = state.splits.keys().map(String::as_str).collect();
    bail!(
        "{key} = '{value}': neither a corpus split ({}) nor an existing file",
        splits.join(", ")
    )
}

/// TOML has no null: absent optional values are left out.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
