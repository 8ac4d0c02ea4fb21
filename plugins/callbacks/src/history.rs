//! `history-jsonl`: one JSON line per epoch (epoch, duration, train and eval metrics) appended to
//! `<output_dir>/<file>`, flushed at each epoch so an interrupted run keeps its history.

use crate::common::{epoch_record, parse_config, CallbackError, TrainerInfo};
use medkit_sdk::{EpochMetrics, OpResult, TrainerCallback};
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Default: the trainer's output_dir.
    output_dir: Option<PathBuf>,
    #[serde(default = "default_file")]
    file: String,
}

fn default_file() -> String {
    "history.jsonl".into()
}

pub struct HistoryJsonl {
    output_dir: Option<PathBuf>,
    file_name: String,
    file: Option<(PathBuf, File)>,
}

impl HistoryJsonl {
    pub fn from_config(config_json: &str) -> Result<Self, CallbackError> {
        let c: Config = parse_config(config_json)?;
        if c.file.is_empty() || c.file.contains(['/', '\\']) {
            return Err(CallbackError::Config(format!(
                "file must be a plain file name, got '{}'",
                c.file
            )));
        }
        Ok(HistoryJsonl {
            output_dir: c.output_dir,
            file_name: c.file,
            file: None,
        })
    }

    /// The file, opened for appending on first use.
    fn file(&mut self) -> Result<&mut (PathBuf, File), CallbackError> {
        if self.file.is_none() {
            let dir = self.output_dir.clone().ok_or(CallbackError::NoOutputDir)?;
            std::fs::create_dir_all(&dir).map_err(CallbackError::io(&dir))?;
            let path = dir.join(&self.file_name);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(CallbackError::io(&path))?;
            self.file = Some((path, file));
        }
        Ok(self.file.as_mut().expect("opened above"))
    }
}

impl TrainerCallback for HistoryJsonl {
    fn on_train_begin(&mut self, config_json: &str) -> OpResult<()> {
        if self.output_dir.is_none() {
            self.output_dir = TrainerInfo::parse(config_json).output_dir;
        }
        self.file().map(|_| ()).map_err(|e| e.to_string())
    }

    fn on_epoch_end(
        &mut self,
        metrics: &EpochMetrics,
        epoch: u32,
        duration_s: f64,
    ) -> OpResult<()> {
        let line = epoch_record(metrics, epoch, duration_s).to_string();
        let (path, file) = self.file().map_err(|e| e.to_string())?;
        writeln!(file, "{line}")
            .and_then(|_| file.flush())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn on_train_end(&mut self) -> OpResult<()> {
        if let Some((path, file)) = self.file.take() {
            file.sync_all()
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}
