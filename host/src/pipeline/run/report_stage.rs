//! The `[report]` stage: `medkit report` on the pipeline's run — its training directory, the
//! first evaluate stage's documents (or the section's own), the evaluate stages' metrics and the
//! resolved pipeline file. Written by default when there is an evaluate stage.

use super::{load_docs, State};
use crate::pipeline::config::{EvaluateSection, ReportSection, TrainSection};
use crate::pipeline::load::{apply_override, resolve};
use crate::plugins::PluginSet;
use crate::report::{run_dir, Report, TrainingRun};
use anyhow::{anyhow, Context as _};
use medkit_corpus::medkit_json::read_documents;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What the stage will do, settled before the other stages consume their sections.
#[derive(Debug)]
pub(super) struct Plan {
    output: PathBuf,
    run_dir: Option<PathBuf>,
    documents: Option<(String, String)>,
}

/// `None` when there is no report to write: `enabled = false`, or no `[report]` section and no
/// evaluate stage, or (implicit report only) nowhere to write it.
pub(super) fn plan(
    section: Option<ReportSection>,
    base: &Path,
    train: Option<&TrainSection>,
    evaluate: &[EvaluateSection],
) -> anyhow::Result<Option<Plan>> {
    let explicit = section.is_some();
    let s = match section {
        Some(s) => s,
        None if evaluate.is_empty() => return Ok(None),
        None => ReportSection::default(),
    };
    if s.enabled == Some(false) {
        return Ok(None);
    }
    let run_dir = match (&s.run_dir, train) {
        (Some(d), _) => Some(resolve(base, d)),
        (None, Some(t)) => Some(resolve(base, &t.trainer.output_dir)),
        (None, None) => None,
    };
    let output = match (&s.output, &run_dir) {
        (Some(o), _) => Some(resolve(base, o)),
        (None, Some(d)) => Some(d.join("report.html")),
        (None, None) => evaluate
            .iter()
            .find_map(|e| e.output.as_ref())
            .map(|o| resolve(base, o).with_file_name("report.html")),
    };
    let Some(output) = output else {
        if explicit {
            return Err(anyhow!(
                "report.output: needed here (no [train] stage, report.run_dir or evaluate output to write beside)"
            ));
        }
        log::info!(
            "report: not written (no [train] stage or evaluate output; add [report] output)"
        );
        return Ok(None);
    };
    let first = evaluate.first();
    let reference = s.reference.or_else(|| first.map(|e| e.reference.clone()));
    let predicted = s.predicted.or_else(|| first.map(|e| e.predicted.clone()));
    let documents = match (reference, predicted) {
        (Some(r), Some(p)) => Some((r, p)),
        (None, None) => None,
        _ => {
            return Err(anyhow!(
                "report: reference and predicted go together (set both, or neither)"
            ))
        }
    };
    Ok(Some(Plan {
        output,
        run_dir,
        documents,
    }))
}

/// The pipeline file as run: `--set` overrides applied, as TOML.
fn resolved_pipeline(path: &Path, sets: &[String]) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut table: toml::Table = toml::from_str(&text).ok()?;
    for s in sets {
        apply_override(&mut table, s).ok()?;
    }
    toml::to_string_pretty(&table).ok()
}

pub(super) struct Context<'a> {
    pub plugins: &'a PluginSet,
    pub state: &'a State,
    pub evaluations: Vec<(String, Value)>,
    pub pipeline: &'a Path,
    pub sets: &'a [String],
}

pub(super) fn run(plan: Plan, cx: Context<'_>) -> anyhow::Result<()> {
    let state = cx.state;
    let run = match &plan.run_dir {
        Some(d) => run_dir::read(d),
        None => TrainingRun::default(),
    };
    let mut report = Report {
        title: format!("medkit report — {}", cx.pipeline.display()),
        run,
        evaluations: cx.evaluations,
        config_text: resolved_pipeline(cx.pipeline, cx.sets),
        versions: crate::report::versions(cx.plugins),
        sources: vec![("pipeline".into(), cx.pipeline.display().to_string())],
        ..Default::default()
    };
    if let Some(d) = &plan.run_dir {
        report
            .sources
            .push(("run directory".into(), d.display().to_string()));
    }
    if let Some((r, p)) = &plan.documents {
        let reference = load_docs(state, "report.reference", r)?;
        let predicted = if p == "@annotate" {
            let path = state.annotated.as_ref().ok_or_else(|| {
                anyhow!("report.predicted = '@annotate' needs an [annotate] stage")
            })?;
            read_documents(path)?.collect::<Result<Vec<_>, _>>()?
        } else {
            load_docs(state, "report.predicted", p)?
        };
        report
            .compare(&reference, &predicted)
            .context("report stage")?;
        let shown = |x: &String| match state.splits.get(x) {
            Some(path) => format!("{x} ({})", path.display()),
            None => x.clone(),
        };
        report.sources.push(("reference".into(), shown(r)));
        report.sources.push(("predicted".into(), shown(p)));
    }
    let bytes = report.write(&plan.output)?;
    println!(
        "{}",
        crate::commands::report::summary_line(&report, &plan.output, bytes)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::config::PipelineConfig;

    fn plan_of(toml_text: &str) -> anyhow::Result<Option<Plan>> {
        let c: PipelineConfig = toml::from_str(toml_text).map_err(|e| anyhow!("{e}"))?;
        plan(c.report, Path::new("/p"), c.train.as_ref(), &c.evaluate)
    }

    const TRAIN: &str =
        "[train.trainable]\noperation = \"x\"\n[train.trainer]\noutput_dir = \"out\"\n";
    const EVAL: &str =
        "[[evaluate]]\nreference = \"test\"\npredicted = \"@annotate\"\noutput = \"m/metrics.json\"\n";

    #[test]
    fn on_by_default_with_an_evaluate_stage() {
        let p = plan_of(&format!("{TRAIN}{EVAL}")).unwrap().unwrap();
        assert_eq!(p.output, Path::new("/p/out/report.html"));
        assert_eq!(p.run_dir.as_deref(), Some(Path::new("/p/out")));
        assert_eq!(p.documents, Some(("test".into(), "@annotate".into())));
        // no evaluate stage: none unless asked for
        assert!(plan_of(TRAIN).unwrap().is_none());
        let p = plan_of(&format!("{TRAIN}[report]\n")).unwrap().unwrap();
        assert_eq!(p.documents, None);
        // off
        assert!(
            plan_of(&format!("{TRAIN}{EVAL}[report]\nenabled = false\n"))
                .unwrap()
                .is_none()
        );
        // no train stage: beside the first evaluate output
        let p = plan_of(EVAL).unwrap().unwrap();
        assert_eq!(p.output, Path::new("/p/m/report.html"));
        assert_eq!(p.run_dir, None);
    }

    #[test]
    fn keys_and_their_errors() {
        let p = plan_of(&format!(
            "{TRAIN}{EVAL}[report]\noutput = \"r.html\"\nrun_dir = \"old\"\n\
             reference = \"validation\"\npredicted = \"pred.jsonl\"\n"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(p.output, Path::new("/p/r.html"));
        assert_eq!(p.run_dir.as_deref(), Some(Path::new("/p/old")));
        assert_eq!(
            p.documents,
            Some(("validation".into(), "pred.jsonl".into()))
        );
        let e = plan_of("[report]\nreference = \"a\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("report.output"), "{e}");
        let e = plan_of(&format!("{TRAIN}[report]\nreference = \"a\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("go together"), "{e}");
        let e = plan_of("[report]\nouptut = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `ouptut`"), "{e}");
    }
}
