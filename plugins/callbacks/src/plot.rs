//! `plot`: `<output_dir>/history.svg` after each epoch and at the end of training: the train and
//! eval losses, and the tracked metrics (precision, recall, F1 by default) per epoch.

use crate::common::{parse_config, CallbackError, TrainerInfo};
use crate::svg::{panel, Series, PANEL_H, PANEL_W};
use medkit_sdk::{EpochMetrics, Metric, OpResult, TrainerCallback};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Default: the trainer's output_dir.
    output_dir: Option<PathBuf>,
    /// Metric names to plot; default: the average precision, recall and F1 (overall_*, macro_*,
    /// weighted_*) found in the metrics.
    metrics: Option<Vec<String>>,
}

pub struct Plot {
    output_dir: Option<PathBuf>,
    metrics: Option<Vec<String>>,
    /// (epoch, metrics) in order.
    history: Vec<(u32, EpochMetrics)>,
}

fn is_default_tracked(name: &str) -> bool {
    ["overall_", "macro_", "weighted_"]
        .iter()
        .any(|p| name.starts_with(p))
        && ["precision", "recall", "f1-score"]
            .iter()
            .any(|s| name.ends_with(s))
}

fn find(metrics: &[Metric], name: &str) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.name.as_str() == name)
        .map(|m| m.value)
}

impl Plot {
    pub fn from_config(config_json: &str) -> Result<Self, CallbackError> {
        let c: Config = parse_config(config_json)?;
        if matches!(&c.metrics, Some(m) if m.iter().any(String::is_empty)) {
            return Err(CallbackError::Config(
                "empty metric name in `metrics`".into(),
            ));
        }
        Ok(Plot {
            output_dir: c.output_dir,
            metrics: c.metrics,
            history: Vec::new(),
        })
    }

    fn tracked(&self) -> Vec<String> {
        if let Some(m) = &self.metrics {
            return m.clone();
        }
        let mut names: Vec<String> = Vec::new();
        for (_, m) in &self.history {
            for metric in m.eval.iter().chain(m.train.iter()) {
                let name = metric.name.to_string();
                if is_default_tracked(&name) && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    fn series(
        &self,
        name: &str,
        prefix: &str,
        pick: fn(&EpochMetrics) -> &[Metric],
        dashed: bool,
    ) -> Option<Series> {
        let points: Vec<(f64, f64)> = self
            .history
            .iter()
            .filter_map(|(e, m)| find(pick(m), name).map(|v| (*e as f64, v)))
            .collect();
        (!points.is_empty()).then(|| Series {
            name: format!("{prefix} {name}"),
            points,
            dashed,
        })
    }
}

fn train(m: &EpochMetrics) -> &[Metric] {
    &m.train
}
fn eval(m: &EpochMetrics) -> &[Metric] {
    &m.eval
}

impl Plot {
    /// The whole chart as SVG text.
    pub fn render(&self) -> String {
        let losses: Vec<Series> = [
            self.series("loss", "train", train, true),
            self.series("loss", "eval", eval, false),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut tracked = Vec::new();
        for name in self.tracked() {
            tracked.extend(self.series(&name, "eval", eval, false));
            tracked.extend(self.series(&name, "train", train, true));
        }
        let mut svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
"##,
            w = PANEL_W * 2.0,
            h = PANEL_H + 40.0
        );
        panel(&mut svg, 0.0, 0.0, "loss", &losses, None);
        panel(
            &mut svg,
            PANEL_W,
            0.0,
            "metrics",
            &tracked,
            Some((0.0, 1.0)),
        );
        svg.push_str("</svg>\n");
        svg
    }

    fn write(&self) -> Result<(), CallbackError> {
        let dir = self.output_dir.clone().ok_or(CallbackError::NoOutputDir)?;
        std::fs::create_dir_all(&dir).map_err(CallbackError::io(&dir))?;
        // written aside then renamed, so a viewer never sees half a file
        let path = dir.join("history.svg");
        let tmp = dir.join(".history.svg.tmp");
        std::fs::write(&tmp, self.render()).map_err(CallbackError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(CallbackError::io(&path))
    }
}

impl TrainerCallback for Plot {
    fn on_train_begin(&mut self, config_json: &str) -> OpResult<()> {
        if self.output_dir.is_none() {
            self.output_dir = TrainerInfo::parse(config_json).output_dir;
        }
        if self.output_dir.is_none() {
            return Err(CallbackError::NoOutputDir.to_string());
        }
        self.history.clear();
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        metrics: &EpochMetrics,
        epoch: u32,
        _duration_s: f64,
    ) -> OpResult<()> {
        self.history.push((epoch, metrics.clone()));
        self.write().map_err(|e| e.to_string())
    }

    fn on_train_end(&mut self) -> OpResult<()> {
        if self.history.is_empty() {
            return Ok(());
        }
        self.write().map_err(|e| e.to_string())
    }
}
