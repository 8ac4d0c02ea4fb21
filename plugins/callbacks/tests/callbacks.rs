//! Behaviour of the three callbacks through the author-side trait, and their bad configs.

use medkit_plugin_callbacks::{DefaultPrinter, HistoryJsonl, Plot};
use medkit_sdk::{EpochMetrics, Metric, Phase, TrainerCallback};
use serde_json::{json, Value};
use std::sync::{Mutex, Once};

/// Captures log records per thread (tests run in parallel).
struct Capture;
static RECORDS: Mutex<Vec<(std::thread::ThreadId, String)>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        let id = std::thread::current().id();
        RECORDS.lock().unwrap().push((id, r.args().to_string()));
    }
    fn flush(&self) {}
}

fn captured() -> Vec<String> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Info);
    });
    let id = std::thread::current().id();
    let mut all = RECORDS.lock().unwrap();
    let mine = all
        .iter()
        .filter(|r| r.0 == id)
        .map(|r| r.1.clone())
        .collect();
    all.retain(|r| r.0 != id);
    mine
}

fn epoch_metrics(loss: f64, f1: f64) -> EpochMetrics {
    EpochMetrics {
        train: vec![Metric::new("loss", loss)].into(),
        eval: vec![
            Metric::new("loss", loss + 0.1),
            Metric::new("overall_precision", f1),
            Metric::new("overall_recall", f1),
            Metric::new("overall_f1-score", f1),
            Metric::new("accuracy", f64::NAN),
        ]
        .into(),
    }
}

fn trainer_config(dir: &std::path::Path) -> String {
    json!({
        "output_dir": dir, "learning_rate": 1e-4, "nb_training_epochs": 3, "batch_size": 8,
        "gradient_accumulation_steps": 2, "seed": 0, "log_step_interval": 2,
        "do_metrics_in_training": false, "something_new": {"x": 1}
    })
    .to_string()
}

#[test]
fn printer_logs_medkit_messages() {
    captured();
    let mut p = DefaultPrinter::from_config(r#"{"progress_bar": false}"#).unwrap();
    p.on_train_begin(&trainer_config(std::path::Path::new("/tmp/x")))
        .unwrap();
    for step in 0..5 {
        p.on_step_begin(step, 5, Phase::Train).unwrap();
        p.on_step_end(step, 5, Phase::Train, 0.5).unwrap();
    }
    p.on_epoch_end(&epoch_metrics(0.25, 0.8), 1, 12.345)
        .unwrap();
    p.on_save("/tmp/x/checkpoint_1").unwrap();
    p.on_train_end().unwrap();
    let logs = captured();
    assert!(logs[0].contains("Num epochs: 3"), "{logs:?}");
    assert!(logs[0].contains("Train batch size: 8"));
    assert!(logs[0].contains("Gradient accum steps: 2"));
    // the trainer's log_step_interval (2): steps 2 and 4, then the last one
    let steps: Vec<_> = logs
        .iter()
        .filter(|l| l.starts_with("train step"))
        .collect();
    assert_eq!(steps.len(), 3, "{logs:?}");
    assert!(steps[2].starts_with("train step 5/5 loss 0.5000"));
    let epoch = logs
        .iter()
        .find(|l| l.starts_with("Epoch 1 ended"))
        .unwrap();
    assert!(epoch.contains("(duration: 12.35s)"));
    assert!(epoch.contains("Training metrics:\n loss:   0.250"));
    assert!(epoch.contains("Evaluation metrics:\n loss:   0.350\n overall_precision:   0.800"));
    assert!(logs
        .iter()
        .any(|l| l == "Saving checkpoint in /tmp/x/checkpoint_1"));
    assert_eq!(logs.last().unwrap(), "Training is completed");
}

#[test]
fn printer_own_interval_wins_and_bad_configs_fail() {
    captured();
    let mut p =
        DefaultPrinter::from_config(r#"{"log_step_interval": 3, "progress_bar": false}"#).unwrap();
    p.on_train_begin("not json").unwrap(); // tolerated
    for step in 0..7 {
        p.on_step_end(step, 7, Phase::Eval, 1.0).unwrap();
    }
    let logs = captured();
    assert!(logs[0].contains("Num epochs: ?"));
    let steps: Vec<_> = logs.iter().filter(|l| l.starts_with("eval step")).collect();
    assert_eq!(steps.len(), 3); // 3, 6, 7
    assert!(DefaultPrinter::from_config(r#"{"log_step_interval": 0}"#).is_err());
    assert!(DefaultPrinter::from_config(r#"{"log_step_interval": "x"}"#).is_err());
    assert!(DefaultPrinter::from_config(r#"{"typo": 1}"#).is_err());
    assert!(DefaultPrinter::from_config("").is_ok());
}

#[test]
fn history_appends_one_flushed_line_per_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = HistoryJsonl::from_config("{}").unwrap();
    h.on_train_begin(&trainer_config(dir.path())).unwrap();
    h.on_epoch_end(&epoch_metrics(0.5, 0.4), 1, 2.0).unwrap();
    // flushed: readable before the end of training
    let text = std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1);
    h.on_epoch_end(&epoch_metrics(0.3, 0.6), 2, 2.5).unwrap();
    h.on_train_end().unwrap();
    let text = std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["epoch"], 2);
    assert_eq!(lines[1]["duration_s"], 2.5);
    assert_eq!(lines[1]["train"]["loss"], 0.3);
    assert_eq!(lines[1]["eval"]["overall_f1-score"], 0.6);
    assert_eq!(lines[1]["eval"]["accuracy"], Value::Null); // NaN
}

#[test]
fn history_config_dir_and_file_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a/b");
    let config = json!({"output_dir": sub, "file": "h.jsonl"}).to_string();
    let mut h = HistoryJsonl::from_config(&config).unwrap();
    h.on_train_begin("{}").unwrap();
    h.on_epoch_end(&epoch_metrics(0.5, 0.4), 1, 1.0).unwrap();
    assert!(sub.join("h.jsonl").exists());
    // no output dir anywhere
    let mut h = HistoryJsonl::from_config("{}").unwrap();
    assert!(h.on_train_begin("{}").is_err());
    assert!(h.on_epoch_end(&epoch_metrics(0.5, 0.4), 1, 1.0).is_err());
    assert!(HistoryJsonl::from_config(r#"{"file": "../x"}"#).is_err());
    assert!(HistoryJsonl::from_config(r#"{"file": ""}"#).is_err());
    assert!(HistoryJsonl::from_config(r#"{"outputdir": "x"}"#).is_err());
    // a file where the directory should be
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let mut h = HistoryJsonl::from_config(&json!({"output_dir": blocker}).to_string()).unwrap();
    assert!(h.on_train_begin("{}").is_err());
}

#[test]
fn plot_writes_svg_each_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Plot::from_config("{}").unwrap();
    p.on_train_begin(&trainer_config(dir.path())).unwrap();
    p.on_epoch_end(&epoch_metrics(0.9, 0.2), 1, 1.0).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("history.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    p.on_epoch_end(&epoch_metrics(0.5, 0.6), 2, 1.0).unwrap();
    p.on_train_end().unwrap();
    let svg = std::fs::read_to_string(dir.path().join("history.svg")).unwrap();
    for name in [
        "train loss",
        "eval loss",
        "eval overall_precision",
        "eval overall_f1-score",
    ] {
        assert!(svg.contains(name), "{name}");
    }
    assert!(!svg.contains("accuracy")); // not tracked by default
    assert!(!svg.contains("NaN"));
    assert_eq!(svg.matches("<polyline").count(), 5);
}

#[test]
fn plot_metrics_list_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = json!({"output_dir": dir.path(), "metrics": ["accuracy", "missing"]});
    let mut p = Plot::from_config(&config.to_string()).unwrap();
    p.on_train_begin("{}").unwrap();
    p.on_epoch_end(&epoch_metrics(0.9, 0.2), 1, 1.0).unwrap();
    let svg = p.render();
    assert!(svg.contains("eval accuracy") && !svg.contains("overall_recall"));
    assert!(Plot::from_config(r#"{"metrics": "f1"}"#).is_err());
    assert!(Plot::from_config(r#"{"metrics": [""]}"#).is_err());
    assert!(Plot::from_config("{").is_err());
    let mut p = Plot::from_config("{}").unwrap();
    assert!(p.on_train_begin(r#"{"batch_size": 2}"#).is_err());
}

#[test]
fn registered_operations() {
    let names: Vec<_> = medkit_sdk::registrations("medkit-plugin-callbacks")
        .iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["default-printer", "history-jsonl", "plot"]);
}
