//! The `seqeval` metrics operation: medkit's SeqEvalMetricsComputer, or with `report = true`
//! the whole classification report flattened as `<row>/<field>` metrics plus `accuracy`.

use crate::default_mode;
use crate::error::SeqevalError;
use crate::report::{accuracy_score, classification_report, Mode, Report, ZeroDivision};
use crate::strict::{self, StrictScheme};
use medkit_sdk::{Metric, MetricsComputer, OpResult};
use serde::Deserialize;
use serde_json::Value;

/// HF's ignore index: positions the loss and the metrics skip.
const IGNORE_ID: i64 = -100;

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct MedkitConfig {
    #[serde(default = "default_scheme")]
    tagging_scheme: String,
    #[serde(default = "default_true")]
    return_metrics_by_label: bool,
    #[serde(default = "default_average")]
    average: String,
    #[serde(default)]
    #[allow(dead_code)] // accepted so that `report = false` is valid
    report: bool,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ReportConfig {
    #[allow(dead_code)]
    report: bool,
    #[serde(default)]
    scheme: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    zero_division: Option<Value>,
}

fn default_scheme() -> String {
    "bilou".into()
}
fn default_true() -> bool {
    true
}
fn default_average() -> String {
    "micro".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    Micro,
    Macro,
    Weighted,
}

/// What the operation computes.
#[derive(Debug, Clone, PartialEq)]
pub enum OpConfig {
    /// medkit's SeqEvalMetricsComputer (zero_division 0).
    Medkit {
        mode: Mode,
        by_label: bool,
        average: Average,
    },
    /// The whole report, for `medkit seqeval`.
    Report {
        mode: Mode,
        zero_division: ZeroDivision,
    },
}

fn config_err(msg: impl std::fmt::Display) -> SeqevalError {
    SeqevalError::Config(msg.to_string())
}

impl OpConfig {
    pub fn from_json(config_json: &str) -> Result<Self, SeqevalError> {
        let value: Value = if config_json.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(config_json).map_err(config_err)?
        };
        if value.get("report") == Some(&Value::Bool(true)) {
            let c: ReportConfig = serde_json::from_value(value).map_err(config_err)?;
            let scheme = c
                .scheme
                .as_deref()
                .map(StrictScheme::from_name)
                .transpose()?;
            let mode = match c.mode.as_deref().unwrap_or("default") {
                "default" => Mode::Default,
                "strict" => Mode::Strict(scheme),
                other => {
                    return Err(SeqevalError::UnknownName {
                        what: "mode",
                        value: other.into(),
                        expected: "default or strict",
                    })
                }
            };
            let zero_division = match c.zero_division {
                None => ZeroDivision::Zero,
                Some(v) if v == 0 || v.as_str() == Some("warn") => ZeroDivision::Zero,
                Some(v) if v == 1 => ZeroDivision::One,
                Some(v) => {
                    return Err(config_err(format!(
                        "zero_division must be 0, 1 or \"warn\", got {v}"
                    )))
                }
            };
            return Ok(OpConfig::Report {
                mode,
                zero_division,
            });
        }
        let c: MedkitConfig = serde_json::from_value(value).map_err(config_err)?;
        // as medkit: BILOU only works with strict mode, anything else is read by conlleval rules
        let mode = match c.tagging_scheme.to_ascii_lowercase().as_str() {
            "bilou" => Mode::Strict(Some(StrictScheme::Bilou)),
            "iobes" => Mode::Strict(Some(StrictScheme::Iobes)),
            "iob2" | "io" => Mode::Default,
            other => {
                return Err(SeqevalError::UnknownName {
                    what: "tagging_scheme",
                    value: other.into(),
                    expected: "iob2, bilou, iobes or io",
                })
            }
        };
        let average = match c.average.as_str() {
            "micro" => Average::Micro,
            "macro" => Average::Macro,
            "weighted" => Average::Weighted,
            other => {
                return Err(SeqevalError::UnknownName {
                    what: "average",
                    value: other.into(),
                    expected: "micro, macro or weighted",
                })
            }
        };
        Ok(OpConfig::Medkit {
            mode,
            by_label: c.return_metrics_by_label,
            average,
        })
    }
}

/// The operation: accumulates tag ids batch by batch; `compute` reports and resets.
pub struct SeqevalOp {
    config: OpConfig,
    /// Label id → index in `names`.
    labels: Vec<usize>,
    /// Per label id: why the tag is refused in report mode (checked when a batch uses it).
    invalid: Vec<Option<SeqevalError>>,
    /// Tag names seen, interned: sequences are stored as indices into it, so a later
    /// `set_labels` cannot change what earlier batches meant.
    names: Vec<String>,
    y_true: Vec<Vec<usize>>,
    y_pred: Vec<Vec<usize>>,
    /// Tags already warned about ("seems not to be NE tag"), so each is warned about once.
    warned: std::collections::HashSet<String>,
}

impl SeqevalOp {
    pub fn new(config: OpConfig) -> Self {
        SeqevalOp {
            config,
            labels: Vec::new(),
            invalid: Vec::new(),
            names: Vec::new(),
            y_true: Vec::new(),
            y_pred: Vec::new(),
            warned: Default::default(),
        }
    }

    /// The config checked as `from_config` does, returned with its defaults filled in.
    pub fn validate(config_json: &str) -> Result<String, String> {
        OpConfig::from_json(config_json).map_err(|e| e.to_string())?;
        let text = if config_json.trim().is_empty() {
            "{}"
        } else {
            config_json
        };
        let report = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("report")?.as_bool())
            == Some(true);
        if report {
            medkit_sdk::filled_config::<ReportConfig>(text).map(|(_, s)| s)
        } else {
            medkit_sdk::filled_config::<MedkitConfig>(text).map(|(_, s)| s)
        }
    }

    pub fn from_config(config_json: &str) -> Result<Self, String> {
        OpConfig::from_json(config_json)
            .map(Self::new)
            .map_err(|e| e.to_string())
    }

    /// In report mode, tags seqeval raises on: in strict mode any tag the scheme does not know,
    /// in default mode only the empty tag (it warns about other unknown tags and reads them by
    /// their first character, see `metrics`).
    fn check_tag(&self, tag: &str) -> Option<SeqevalError> {
        let OpConfig::Report { mode, .. } = self.config else {
            return None;
        };
        let result = match mode {
            Mode::Default => default_mode::split_tag(tag).map(|_| ()),
            Mode::Strict(Some(scheme)) => strict::validate(scheme, tag),
            // auto-detected later; any seqeval prefix is acceptable here
            Mode::Strict(None) => strict::validate(StrictScheme::Iobes, tag)
                .or_else(|_| strict::validate(StrictScheme::Bilou, tag)),
        };
        result.err()
    }

    /// The interned name index of tag id `id`.
    fn tag(&self, id: i64) -> Result<usize, SeqevalError> {
        let idx = usize::try_from(id).map_err(|_| SeqevalError::UnknownTagId(id))?;
        if let Some(Some(err)) = self.invalid.get(idx) {
            return Err(err.clone());
        }
        self.labels
            .get(idx)
            .copied()
            .ok_or(SeqevalError::UnknownTagId(id))
    }

    fn add(&mut self, references: Vec<Vec<i64>>, predictions: Vec<Vec<i64>>) -> Result<(), String> {
        if references.len() != predictions.len() {
            return Err(format!(
                "{} reference sequences but {} predicted ones",
                references.len(),
                predictions.len()
            ));
        }
        let mut batch_true = Vec::with_capacity(references.len());
        let mut batch_pred = Vec::with_capacity(references.len());
        for (i, (r, p)) in references.iter().zip(&predictions).enumerate() {
            if r.len() != p.len() {
                return Err(format!(
                    "sequence {i}: {} reference tags but {} predicted tags",
                    r.len(),
                    p.len()
                ));
            }
            let mut t = Vec::with_capacity(r.len());
            let mut q = Vec::with_capacity(r.len());
            for (&a, &b) in r.iter().zip(p) {
                if a == IGNORE_ID || b == IGNORE_ID {
                    continue;
                }
                t.push(self.tag(a).map_err(|e| e.to_string())?);
                q.push(self.tag(b).map_err(|e| e.to_string())?);
            }
            batch_true.push(t);
            batch_pred.push(q);
        }
        self.y_true.extend(batch_true);
        self.y_pred.extend(batch_pred);
        Ok(())
    }

    fn metrics(&mut self) -> Result<Vec<Metric>, SeqevalError> {
        let (mode, zd) = match self.config {
            OpConfig::Medkit { mode, .. } => (mode, ZeroDivision::Zero),
            OpConfig::Report {
                mode,
                zero_division,
            } => (mode, zero_division),
        };
        let names = |seqs: &[Vec<usize>]| -> Vec<Vec<&str>> {
            seqs.iter()
                .map(|s| s.iter().map(|&i| self.names[i].as_str()).collect())
                .collect()
        };
        let (y_true, y_pred) = (names(&self.y_true), names(&self.y_pred));
        if mode == Mode::Default {
            // seqeval's `warnings.warn('{} seems not to be NE tag.')` as Python's default
            // warnings filter shows it: each distinct message once (per operation here, per
            // process there), in the order seqeval first emits it (y_true's tags, then y_pred's)
            for tag in default_mode::unknown_tags(&y_true, &y_pred) {
                if self.warned.insert(tag.to_string()) {
                    log::warn!("seqeval: {tag} seems not to be NE tag.");
                }
            }
        }
        let report = classification_report(&y_true, &y_pred, mode, zd)?;
        let accuracy = accuracy_score(&y_true, &y_pred)?;
        Ok(match self.config {
            OpConfig::Report { .. } => report_metrics(&report, accuracy),
            OpConfig::Medkit {
                by_label, average, ..
            } => medkit_metrics(&report, accuracy, average, by_label),
        })
    }
}

/// `<row>/<field>` for every row (labels, then "micro avg", "macro avg", "weighted avg").
fn report_metrics(report: &Report, accuracy: f64) -> Vec<Metric> {
    let mut out = Vec::new();
    for (row, r) in report.rows() {
        out.push(Metric::new(format!("{row}/precision"), r.precision));
        out.push(Metric::new(format!("{row}/recall"), r.recall));
        out.push(Metric::new(format!("{row}/f1-score"), r.f1));
        out.push(Metric::count(format!("{row}/support"), r.support as f64));
    }
    out.push(Metric::new("accuracy", accuracy));
    out
}

/// medkit's names: `overall_*` (the seed's) for micro, `<average>_*`, `support`, `accuracy`
/// (medkit 0.17's) for macro and weighted, then `<label>_*` when by label.
fn medkit_metrics(report: &Report, accuracy: f64, average: Average, by_label: bool) -> Vec<Metric> {
    let mut out = Vec::new();
    let (prefix, row) = match average {
        Average::Micro => ("overall", report.micro),
        Average::Macro => ("macro", report.macro_avg),
        Average::Weighted => ("weighted", report.weighted),
    };
    out.push(Metric::new(format!("{prefix}_precision"), row.precision));
    out.push(Metric::new(format!("{prefix}_recall"), row.recall));
    out.push(Metric::new(format!("{prefix}_f1-score"), row.f1));
    if average == Average::Micro {
        out.push(Metric::count("overall_support", row.support as f64));
        out.push(Metric::new("overall_acc", accuracy));
    } else {
        out.push(Metric::count("support", row.support as f64));
        out.push(Metric::new("accuracy", accuracy));
    }
    if by_label {
        for (label, r) in &report.labels {
            out.push(Metric::new(format!("{label}_precision"), r.precision));
            out.push(Metric::new(format!("{label}_recall"), r.recall));
            out.push(Metric::new(format!("{label}_f1-score"), r.f1));
            out.push(Metric::count(format!("{label}_support"), r.support as f64));
        }
    }
    out
}

impl MetricsComputer for SeqevalOp {
    fn set_labels(&mut self, id_to_label: Vec<String>) -> OpResult<()> {
        if let OpConfig::Medkit {
            mode: Mode::Strict(Some(StrictScheme::Bilou)),
            ..
        } = self.config
        {
            // IOB2 tags scored as strict BILOU give zeros without any error: say so
            let has = |p: &str| id_to_label.iter().any(|t| t.starts_with(p));
            if has("B-") && !has("L-") && !has("U-") {
                log::warn!(
                    "seqeval: tagging_scheme is bilou but the tag set has no L-/U- tag; \
                     set tagging_scheme = \"iob2\" if the model uses IOB2 tags"
                );
            }
        }
        self.invalid = id_to_label.iter().map(|t| self.check_tag(t)).collect();
        self.labels = id_to_label
            .into_iter()
            .map(|name| match self.names.iter().position(|n| *n == name) {
                Some(i) => i,
                None => {
                    self.names.push(name);
                    self.names.len() - 1
                }
            })
            .collect();
        Ok(())
    }

    fn prepare_batch(
        &mut self,
        references: Vec<Vec<i64>>,
        predictions: Vec<Vec<i64>>,
    ) -> OpResult<()> {
        self.add(references, predictions)
    }

    fn compute(&mut self) -> OpResult<Vec<Metric>> {
        let result = self.metrics().map_err(|e| e.to_string());
        self.reset()?;
        result
    }

    fn reset(&mut self) -> OpResult<()> {
        self.y_true.clear();
        self.y_pred.clear();
        Ok(())
    }
}

medkit_sdk::register_operation! {
    kind: metrics, name: "seqeval",
    description: "seqeval 1.2.2 entity metrics, as medkit's SeqEvalMetricsComputer (or the full classification report with report = true)",
    config_example: "tagging_scheme = \"bilou\"   # iob2 (conlleval mode) | bilou (strict BILOU) | iobes | io\nreturn_metrics_by_label = true\naverage = \"micro\"          # micro (overall_* names) | macro | weighted\n# or: report = true, scheme = \"iob2\", mode = \"default\" | \"strict\", zero_division = 0 | 1",
    validate: SeqevalOp::validate,
    create: |c: &str| SeqevalOp::from_config(c),
}
