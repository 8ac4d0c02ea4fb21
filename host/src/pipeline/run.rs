//! Runs the stages a pipeline file declares.

use super::config::{
    AnnotateSection, EvaluateSection, OperationSection, PipelineConfig, TrainSection,
};
use super::load::{load_with_table, resolve};
use crate::context::Context;
use crate::plugins::{search_dirs, PluginSet};
use crate::trainer::manifest::{self, Reference, Which};
use crate::trainer::{Callbacks, ResumePoint, TrainOutcome, Trainer};
use anyhow::{anyhow, bail, Context as _};
use medkit_corpus::checks::{check_documents, DataPolicies, Origin};
use medkit_corpus::medkit_json::{read_documents, read_documents_with};
use medkit_corpus::{InvalidAnnotations, OnError};
use medkit_sdk::{Operation, OperationKind, TextDocument};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

mod check;
mod provenance_record;
mod report_stage;

pub use check::Checked;

/// How `medkit run` runs a pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Continue training from the last checkpoint in the trainer's output_dir.
    pub resume: bool,
    /// Skip the [train] stage: `@best` / `@last` then name the checkpoints its output_dir's
    /// `checkpoints.json` records.
    pub skip_train: bool,
}

struct State {
    base: PathBuf,
    splits: BTreeMap<String, PathBuf>,
    max_documents: Option<usize>,
    /// The [train] stage's output_dir (resolved), whether it runs or not.
    train_output_dir: Option<PathBuf>,
    outcome: Option<TrainOutcome>,
    annotated: Option<PathBuf>,
    annotate_model: Option<String>,
    resume: bool,
    /// The pipeline as `medkit check` resolved it (checkpoints record it).
    resolved: Value,
}

impl State {
    fn new(base: PathBuf, resume: bool) -> Self {
        State {
            base,
            splits: BTreeMap::new(),
            max_documents: None,
            train_output_dir: None,
            outcome: None,
            annotated: None,
            annotate_model: None,
            resume,
            resolved: Value::Null,
        }
    }
}

/// The plugins of the command line's and the pipeline's (`[plugins] dirs`) directories.
fn load_plugins(ctx: &Context, config: &PipelineConfig, base: &Path) -> PluginSet {
    let pipeline_dirs: Vec<PathBuf> = config
        .plugins
        .dirs
        .iter()
        .map(|d| resolve(base, d))
        .collect();
    PluginSet::load(&search_dirs(&ctx.plugin_dirs, &pipeline_dirs))
}

/// `medkit check`: the pipeline resolved and validated, nothing run.
pub fn check_file(ctx: &Context, path: &Path, sets: &[String]) -> anyhow::Result<Checked> {
    let (config, base, raw) = load_with_table(path, sets)?;
    let plugins = load_plugins(ctx, &config, &base);
    report_stage::plan(
        config.report.clone(),
        &base,
        config.train.as_ref(),
        &config.evaluate,
    )?;
    check::check(&plugins, &config, &raw, &base, false)
        .with_context(|| format!("checking {}", path.display()))
}

pub fn run_file(
    ctx: &Context,
    path: &Path,
    sets: &[String],
    options: RunOptions,
) -> anyhow::Result<()> {
    let (config, base, raw) = load_with_table(path, sets)?;
    if config.train.is_none()
        && config.annotate.is_none()
        && config.evaluate.is_empty()
        && config.report.is_none()
    {
        bail!(
            "{}: no stage to run (add [train], [annotate] or [[evaluate]])",
            path.display()
        );
    }
    let plugins = load_plugins(ctx, &config, &base);
    // The whole pipeline is checked before any work: a typo in the last stage fails in seconds.
    if options.skip_train && config.train.is_none() {
        bail!("--skip-train: {} has no [train] stage", path.display());
    }
    let checked = check::check(&plugins, &config, &raw, &base, options.skip_train)
        .with_context(|| format!("checking {}", path.display()))?;
    for op in &checked.unchecked {
        log::debug!("{op}: its plugin does not check configs ahead; checked when built");
    }
    let PipelineConfig {
        plugins: _,
        corpus,
        train,
        annotate,
        evaluate,
        report,
    } = config;
    let report = report_stage::plan(report, &base, train.as_ref(), &evaluate)?;
    let mut state = State::new(base.clone(), options.resume);
    state.resolved = checked.resolved;
    if let Some(c) = corpus {
        state.max_documents = c.max_documents;
        for (name, p) in [
            ("train", c.train),
            ("validation", c.validation),
            ("test", c.test),
        ] {
            if let Some(p) = p {
                // the check made sure it is a file
                state.splits.insert(name.to_string(), resolve(&base, &p));
            }
        }
    }
    if let Some(t) = train {
        state.train_output_dir = Some(resolve(&base, &t.trainer.output_dir));
        if options.skip_train {
            log::info!("Skipping the train stage (--skip-train)");
        } else {
            run_train(&plugins, &mut state, t, path)?;
        }
    }
    if let Some(a) = annotate {
        run_annotate(&plugins, &mut state, a)?;
    }
    let mut evaluations = Vec::new();
    for (i, e) in evaluate.into_iter().enumerate() {
        evaluations.push(run_evaluate(&plugins, &state, e, i)?);
    }
    if let Some(plan) = report {
        let cx = report_stage::Context {
            plugins: &plugins,
            state: &state,
            evaluations,
            pipeline: path,
            sets,
        };
        report_stage::run(plan, cx)?;
    }
    Ok(())
}

/// A split name or a path → the documents (at most `max_documents`).
fn load_docs(state: &State, what: &str, name_or_path: &str) -> anyhow::Result<Vec<TextDocument>> {
    Ok(load_docs_with_lines(state, what, name_or_path, InvalidAnnotations::default())?.0)
}

/// The documents, their file and the line of each (for messages about them).
fn load_docs_with_lines(
    state: &State,
    what: &str,
    name_or_path: &str,
    invalid: InvalidAnnotations,
) -> anyhow::Result<(Vec<TextDocument>, PathBuf, Vec<usize>)> {
    let path = match state.splits.get(name_or_path) {
        Some(p) => p.clone(),
        None => {
            let p = resolve(&state.base, Path::new(name_or_path));
            if !p.is_file() {
                bail!(
                    "{what} = '{name_or_path}': neither a corpus split ({}) nor an existing file",
                    state.splits.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            p
        }
    };
    let mut reader = read_documents_with(&path, invalid)?;
    let (mut docs, mut lines) = (Vec::new(), Vec::new());
    let limit = state.max_documents.unwrap_or(usize::MAX);
    while docs.len() < limit {
        match reader.next() {
            None => break,
            Some(d) => {
                docs.push(d?);
                lines.push(reader.line());
            }
        }
    }
    log::info!("Loaded {} documents from {}", docs.len(), path.display());
    Ok((docs, path, lines))
}

/// Loads a train-stage split and applies the training-data policies to it: `on_error` to the
/// annotations that cannot be built (while reading), then `policies` (the checks).
fn load_training_docs(
    state: &State,
    what: &str,
    name_or_path: &str,
    on_error: OnError,
    policies: DataPolicies,
) -> anyhow::Result<Vec<TextDocument>> {
    let invalid = InvalidAnnotations::new(on_error);
    let (mut docs, path, lines) = load_docs_with_lines(state, what, name_or_path, invalid.clone())?;
    if invalid.skipped() > 0 {
        log::warn!(
            "{}: {} annotations skipped as invalid (train.on_error = \"skip\")",
            path.display(),
            invalid.skipped()
        );
    }
    let origin = Origin {
        path: &path,
        lines: &lines,
    };
    let c = check_documents(&mut docs, &origin, policies).map_err(|e| anyhow!(e))?;
    if c.mismatched > 0 {
        log::warn!(
            "{}: skipped {} entit{} whose text does not match their spans, in {} document(s) \
             (train.entity_text_mismatch or on_error = \"skip\")",
            path.display(),
            c.mismatched,
            if c.mismatched == 1 { "y" } else { "ies" },
            c.mismatched_docs
        );
    }
    if c.overlapping > 0 {
        log::warn!(
            "{}: dropped {} overlapping entit{} (kept the longest), in {} document(s) \
             (train.overlapping_entities = \"keep-longest\")",
            path.display(),
            c.overlapping,
            if c.overlapping == 1 { "y" } else { "ies" },
            c.overlapping_docs
        );
    }
    Ok(docs)
}

/// An operation section's keys as the JSON config its plugin receives: the keys its contract
/// declares as paths resolved against the pipeline file's folder (an input path only when it
/// exists there, else it is left as is: a hub name, say; `@best` / `@last` name the [train]
/// stage's checkpoints).
fn op_config(
    plugins: &PluginSet,
    kind: OperationKind,
    state: &State,
    key: &str,
    section: &OperationSection,
) -> anyhow::Result<Value> {
    let contract = plugins.contract(kind, &section.operation);
    let mut v = serde_json::to_value(&section.config)?;
    if let Value::Object(map) = &mut v {
        let keys = contract.path_keys.iter().map(|k| (k, false));
        for (k, output) in keys.chain(contract.output_keys.iter().map(|k| (k, true))) {
            if let Some(Value::String(s)) = map.get_mut(k.as_str()) {
                let key = format!("{key}.{k}");
                let r = Reference::parse(s).with_context(|| format!("pipeline key '{key}'"))?;
                if let Some(r) = r {
                    *s = checkpoint_ref(state, &key, s, r)?;
                    continue;
                }
                let p = resolve(&state.base, Path::new(s.as_str()));
                if output || p.exists() {
                    *s = p.display().to_string();
                }
            }
        }
    }
    Ok(v)
}

/// Builds the operation of a pipeline section (config as `op_config` makes it).
fn create(
    plugins: &PluginSet,
    kind: OperationKind,
    state: &State,
    key: &str,
    section: &OperationSection,
) -> anyhow::Result<Operation> {
    let config = op_config(plugins, kind, state, key, section)?;
    create_with(plugins, kind, key, &config, &section.operation)
}

fn create_with(
    plugins: &PluginSet,
    kind: OperationKind,
    key: &str,
    config: &Value,
    name: &str,
) -> anyhow::Result<Operation> {
    plugins
        .create(kind, name, config)
        .with_context(|| format!("pipeline key '{key}'"))
}

/// The trainable's config as its stage builds it: `op_config`, and the trainer's seed when the
/// operation takes one and its config sets none (same seed, same run: a new head is seeded too).
fn trainable_config(plugins: &PluginSet, state: &State, t: &TrainSection) -> anyhow::Result<Value> {
    let kind = OperationKind::Trainable;
    let mut config = op_config(plugins, kind, state, "train.trainable", &t.trainable)?;
    if plugins.contract(kind, &t.trainable.operation).accepts_seed {
        if let (Some(seed), Some(map)) = (t.trainer.seed, config.as_object_mut()) {
            map.entry("seed").or_insert(Value::from(seed));
        }
    }
    Ok(config)
}

/// The pipeline key of metrics computer `i`: `train.metrics` when it is the only one.
fn metrics_key(t: &TrainSection, i: usize) -> String {
    if t.metrics.len() == 1 {
        "train.metrics".to_string()
    } else {
        format!("train.metrics[{i}]")
    }
}

fn run_train(
    plugins: &PluginSet,
    state: &mut State,
    t: TrainSection,
    pipeline: &Path,
) -> anyhow::Result<()> {
    let output_dir = resolve(&state.base, &t.trainer.output_dir);
    let record = provenance_record::describe(plugins, state, pipeline, &t)?;
    let kind = OperationKind::Trainable;
    let trainable_config = trainable_config(plugins, state, &t)?;
    let resume = if state.resume {
        let point = ResumePoint::latest(&output_dir).ok_or_else(|| {
            anyhow!(
                "--resume: no checkpoint in {} to resume from",
                output_dir.display()
            )
        })?;
        Some(point)
    } else {
        None
    };
    let trainable = match create_with(
        plugins,
        kind,
        "train.trainable",
        &trainable_config,
        &t.trainable.operation,
    )? {
        Operation::Trainable(x) => x,
        _ => unreachable!("the registry returns the kind asked for"),
    };
    let mut metrics = Vec::new();
    // the check refused an operation listed twice
    for (i, m) in t.metrics.iter().enumerate() {
        let key = metrics_key(&t, i);
        match create(plugins, OperationKind::Metrics, state, &key, m)? {
            Operation::Metrics(x) => metrics.push((m.operation.clone(), x)),
            _ => unreachable!(),
        }
    }
    let sections = match t.callbacks.clone() {
        Some(s) => s,
        None => check::default_callbacks(plugins),
    };
    let mut callbacks = Vec::new();
    for (i, c) in sections.iter().enumerate() {
        let key = format!("train.callbacks[{i}]");
        match create(plugins, OperationKind::Callback, state, &key, c)? {
            Operation::Callback(x) => callbacks.push((c.operation.clone(), x)),
            _ => unreachable!(),
        }
    }
    let policies = t.data_policies();
    let (train_split, eval_split) = (&t.train_split, &t.eval_split);
    let train_docs = load_training_docs(
        state,
        "train.train_split",
        train_split,
        t.on_error,
        policies,
    )?;
    let eval_docs =
        load_training_docs(state, "train.eval_split", eval_split, t.on_error, policies)?;
    let mut config = t.trainer;
    config.output_dir = output_dir;
    let (flag, _signals) = interrupt_flag()?;
    let mut trainer = Trainer {
        config,
        optimizer: t.optimizer,
        trainable,
        metrics,
        callbacks: Callbacks::new(callbacks),
        interrupt: Some(flag),
        resume,
        provenance: Some(record),
    };
    let outcome = trainer.train(train_docs, eval_docs)?;
    let output_dir = trainer.config.output_dir.clone();
    if let Some(last) = outcome.history.last() {
        println!(
            "train: final epoch metrics {}",
            serde_json::to_string(last)?
        );
    }
    medkit_corpus::io::write_json(
        &output_dir.join("timings.json"),
        &serde_json::to_value(&outcome.timings)?,
    )?;
    for t in &outcome.timings {
        println!(
            "train: epoch {} train {:.1}s ({:.1} examples/s, {:.0} tokens/s), eval {:.1}s",
            t.epoch,
            t.train_seconds,
            t.train_examples as f64 / t.train_seconds.max(1e-9),
            t.train_tokens as f64 / t.train_seconds.max(1e-9),
            t.eval_seconds
        );
    }
    println!(
        "train: history in {}",
        output_dir.join("history.json").display()
    );
    if let Some(b) = &outcome.best_checkpoint {
        println!("train: best checkpoint {}", b.display());
    }
    if let Some(l) = &outcome.last_checkpoint {
        println!("train: last checkpoint {}", l.display());
    }
    state.outcome = Some(outcome);
    Ok(())
}

/// A flag raised by the first SIGINT/SIGTERM (the trainer then stops at the next step boundary
/// with a resumable checkpoint); a second signal exits at once. The handlers are removed when the
/// returned guard drops, so later stages get the default Ctrl-C behaviour back.
fn interrupt_flag() -> anyhow::Result<(Arc<AtomicBool>, SignalGuard)> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    let mut ids = Vec::new();
    for (sig, code) in [(SIGINT, 130), (SIGTERM, 143)] {
        ids.push(signal_hook::flag::register_conditional_shutdown(
            sig,
            code,
            flag.clone(),
        )?);
        ids.push(signal_hook::flag::register(sig, flag.clone())?);
    }
    Ok((flag, SignalGuard(ids)))
}

struct SignalGuard(Vec<signal_hook::SigId>);

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// A checkpoint reference → its directory: `@best` / `@last` name the [train] stage's
/// checkpoints (those it saved in this run, else those its output_dir's `checkpoints.json`
/// records: `--skip-train`); `OUTPUT_DIR@best` / `OUTPUT_DIR/@best` those of another run.
fn checkpoint_ref(state: &State, key: &str, value: &str, r: Reference) -> anyhow::Result<String> {
    let dir = match r.output_dir {
        Some(d) => resolve(&state.base, Path::new(d)),
        None => state.train_output_dir.clone().ok_or_else(|| {
            anyhow!(
                "{key} = '{value}' needs a [train] stage in the same pipeline (or name the run: \
                 'OUTPUT_DIR/{value}')"
            )
        })?,
    };
    // The train stage ran (or, in the check, will run) into this folder: its own checkpoints.
    if let Some(outcome) = &state.outcome {
        if state.train_output_dir.as_ref() == Some(&dir) {
            let p = match r.which {
                Which::Best => outcome.best_checkpoint.as_ref(),
                Which::Last => outcome.last_checkpoint.as_ref(),
            };
            return p
                .map(|p| p.display().to_string())
                .ok_or_else(|| anyhow!("{key} = '{value}': the train stage saved no checkpoint"));
        }
    }
    let p = manifest::resolve(&dir, r.which).with_context(|| format!("{key} = '{value}'"))?;
    Ok(p.display().to_string())
}

fn run_annotate(plugins: &PluginSet, state: &mut State, a: AnnotateSection) -> anyhow::Result<()> {
    let kind = OperationKind::Ner;
    let config = op_config(plugins, kind, state, "annotate.matcher", &a.matcher)?;
    // The model folder (`tokenizer = "@model"` of [[evaluate]]): the first path the matcher
    // declares.
    let contract = plugins.contract(kind, &a.matcher.operation);
    state.annotate_model = contract
        .path_keys
        .first()
        .and_then(|k| config.get(k.as_str()))
        .and_then(Value::as_str)
        .map(String::from);
    let mut ner = match create_with(
        plugins,
        kind,
        "annotate.matcher",
        &config,
        &a.matcher.operation,
    )? {
        Operation::Ner(x) => x,
        _ => unreachable!(),
    };
    let mut segments = crate::annotate::Segments {
        label: a.segments.clone(),
        segmentation: None,
    };
    // the check refused a segmentation without `segments`
    if let Some(section) = &a.segmentation {
        match create(
            plugins,
            OperationKind::Segmentation,
            state,
            "annotate.segmentation",
            section,
        )? {
            Operation::Segmentation(x) => segments.segmentation = Some(x),
            _ => unreachable!(),
        }
    }
    let input = match state.splits.get(&a.input) {
        Some(p) => p.clone(),
        None => resolve(&state.base, Path::new(&a.input)),
    };
    let output = resolve(&state.base, &a.output);
    let options = crate::annotate::AnnotateOptions {
        batch_size: a.batch_size,
        max_documents: state.max_documents,
        drop_existing: a.drop_existing_entities,
        log_document_interval: a.log_document_interval,
    };
    let stats = crate::annotate::annotate_file(&mut ner, &input, &output, &options, &mut segments)
        .context("annotate stage")?;
    crate::annotate::warn_without_segments(&stats, &segments);
    println!(
        "annotate: {} documents, {} entities in {:.1}s ({:.1} docs/s) -> {}",
        stats.documents,
        stats.entities,
        stats.seconds,
        stats.documents as f64 / stats.seconds.max(1e-9),
        output.display()
    );
    state.annotated = Some(output);
    Ok(())
}

fn run_evaluate(
    plugins: &PluginSet,
    state: &State,
    e: EvaluateSection,
    i: usize,
) -> anyhow::Result<(String, Value)> {
    let key = format!("evaluate[{i}]");
    let mut options: crate::evaluator::EvaluateOptions =
        serde_path_to_error::deserialize(toml::Value::Table(e.options.clone()))
            .map_err(|err| anyhow!("pipeline key '{key}.{}': {}", err.path(), err.inner()))?;
    options.tokenizer = match e.tokenizer.as_deref() {
        None => None,
        Some("@model") => {
            let model = state.annotate_model.as_ref().ok_or_else(|| {
                anyhow!("{key}.tokenizer = '@model' needs an [annotate] stage with a local model")
            })?;
            Some(Path::new(model).join("tokenizer.json"))
        }
        Some(p) => Some(resolve(&state.base, Path::new(p))),
    };
    let reference = load_docs(state, &format!("{key}.reference"), &e.reference)?;
    let predicted = if e.predicted == "@annotate" {
        let p = state
            .annotated
            .as_ref()
            .ok_or_else(|| anyhow!("{key}.predicted = '@annotate' needs an [annotate] stage"))?;
        read_documents(p)?.collect::<Result<Vec<_>, _>>()?
    } else {
        load_docs(state, &format!("{key}.predicted"), &e.predicted)?
    };
    let metrics = crate::evaluator::evaluate_documents(plugins, &reference, &predicted, &options)
        .with_context(|| format!("pipeline stage {key}"))?;
    let name = e
        .name
        .clone()
        .unwrap_or_else(|| format!("{} vs {}", e.predicted, e.reference));
    println!("evaluate: {name}: {}", serde_json::to_string(&metrics)?);
    if let Some(out) = &e.output {
        let out = resolve(&state.base, out);
        medkit_corpus::io::write_json(&out, &metrics)?;
        println!("evaluate: metrics written to {}", out.display());
    }
    Ok((name, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use medkit_corpus::medkit_json::HEADER;
    use serde_json::json;

    // "Le patient présente une fièvre élevée." (38 characters)
    const TEXT: &str = "Le patient présente une fièvre élevée.";

    fn ent(uid: &str, text: &str, start: u64, end: u64) -> Value {
        json!({"_class_name": "medkit.core.text.annotation.Entity", "uid": uid, "label": "x",
               "spans": [{"_class_name": "medkit.core.text.span.Span", "start": start, "end": end}],
               "text": text, "attrs": [], "metadata": {}})
    }

    /// Line 2: a good document; line 3: `e3` past the end of the text, `e4` whose text is
    /// longer than its span, `r1` pointing at `e3`, `e5` same length but other text.
    fn flawed(dir: &Path) -> PathBuf {
        let doc = |uid: &str, anns: Vec<Value>| {
            json!({"_class_name": "medkit.core.text.document.TextDocument", "uid": uid,
                   "text": TEXT, "metadata": {}, "anns": anns, "attrs": []})
            .to_string()
        };
        let rel = json!({"_class_name": "medkit.core.text.annotation.Relation", "uid": "r1",
                         "label": "r", "source_id": "e2", "target_id": "e3", "attrs": [],
                         "metadata": {}});
        let lines = [
            HEADER.to_string(),
            doc("d1", vec![ent("a1", "patient", 3, 10)]),
            doc(
                "d2",
                vec![
                    ent("e1", "patient", 3, 10),
                    ent("e2", "fièvre", 24, 30),
                    ent("e3", "élevée", 31, 45),
                    ent("e4", "présentes", 11, 19),
                    rel,
                    ent("e5", "uno", 20, 23),
                ],
            ),
        ];
        let p = dir.join("train.jsonl");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        p
    }

    fn state(train: &Path) -> State {
        State {
            base: train.parent().unwrap().to_path_buf(),
            splits: [("train".to_string(), train.to_path_buf())].into(),
            max_documents: None,
            train_output_dir: None,
            outcome: None,
            annotated: None,
            annotate_model: None,
            resume: false,
            resolved: Value::Null,
        }
    }

    fn train_section(keys: &str) -> Result<TrainSection, String> {
        let toml = format!(
            "[train]\n{keys}\n[train.trainable]\noperation = \"x\"\n\
             [train.trainer]\noutput_dir = \"out\"\n"
        );
        toml::from_str::<PipelineConfig>(&toml)
            .map(|c| c.train.unwrap())
            .map_err(|e| e.to_string())
    }

    fn load(keys: &str, train: &Path) -> anyhow::Result<Vec<TextDocument>> {
        let t = train_section(keys).unwrap();
        let policies = t.data_policies();
        load_training_docs(&state(train), "train", "train", t.on_error, policies)
    }

    fn entity_uids(d: &TextDocument) -> Vec<&str> {
        d.entities().map(|e| e.uid.as_str()).collect()
    }

    #[test]
    fn train_on_error_skips_annotations_that_cannot_be_built() {
        let tmp = tempfile::tempdir().unwrap();
        let train = flawed(tmp.path());
        // default and explicit "error": the first bad annotation, file:line and id
        for keys in [
            "",
            "on_error = \"error\"",
            "on_error = \"error\"\nentity_text_mismatch = \"skip\"",
        ] {
            let e = load(keys, &train).unwrap_err().to_string();
            assert!(
                e.contains("train.jsonl:3: anns[2] \"e3\": spans[0]: span 31-45 is not within"),
                "{keys}: {e}"
            );
        }
        // "skip": e3, e4, r1 (reader) and e5 (text mismatch check) dropped; the rest kept
        let docs = load("on_error = \"skip\"", &train).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(entity_uids(&docs[0]), ["a1"]);
        assert_eq!(entity_uids(&docs[1]), ["e1", "e2"]);
        assert_eq!(docs[1].anns.len(), 2, "the relation to e3 is dropped");
        let chars: Vec<char> = TEXT.chars().collect();
        for e in docs[1].entities() {
            let medkit_sdk::AnySpan::Span(s) = &e.spans[0] else {
                panic!("plain span")
            };
            let covered: String = chars[s.start as usize..s.end as usize].iter().collect();
            assert_eq!(covered, e.text.as_str(), "character offsets");
        }
        // the specific key wins where both are given and disagree
        let e = load(
            "on_error = \"skip\"\nentity_text_mismatch = \"error\"",
            &train,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("train.jsonl:3: document 'd2': entity 'e5'")
                && e.contains("entity_text_mismatch"),
            "{e}"
        );
        let e = train_section("on_error = \"keep-longest\"").unwrap_err();
        assert!(e.contains("on_error"), "{e}");
    }
}
