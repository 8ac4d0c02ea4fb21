//! `do_metrics_in_training`: the metrics computers' values for the train phase, in history.json
//! under "train" with the computers' names, computed afresh each epoch; absent when false.

use super::*;

/// Counts the examples it was given since its last `reset`; `compute` does not reset, so only
/// the trainer's reset at the start of each phase keeps epochs (and phases) apart.
struct Sticky(usize);
impl MetricsComputer for Sticky {
    fn set_labels(&mut self, _labels: Vec<String>) -> OpResult<()> {
        Ok(())
    }
    fn prepare_batch(&mut self, r: Vec<Vec<i64>>, _p: Vec<Vec<i64>>) -> OpResult<()> {
        self.0 += r.len();
        Ok(())
    }
    fn compute(&mut self) -> OpResult<Vec<Metric>> {
        Ok(vec![
            Metric::count("examples", self.0 as f64),
            Metric::count("seen", self.0 as f64),
        ])
    }
    fn reset(&mut self) -> OpResult<()> {
        self.0 = 0;
        Ok(())
    }
}

/// The fake trainer over 10 train and 5 eval documents for 3 epochs, with the `count` and
/// `sticky` computers; returns history.json as written.
fn history_with(do_metrics_in_training: bool, computers: usize) -> Vec<serde_json::Value> {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let mut t = trainer(tmp.path(), vec![], &log);
    t.config.do_metrics_in_training = do_metrics_in_training;
    let Operation::Metrics(sticky) = Operation::metrics(Sticky(0)) else {
        unreachable!()
    };
    t.metrics.push(("sticky".into(), sticky));
    t.metrics.truncate(computers);
    let out = t.train(docs(10), docs(5)).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("history.json")).unwrap();
    let written: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(written, out.history);
    written
}

fn names(phase: &serde_json::Value) -> Vec<&str> {
    phase
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn train_metrics_are_in_the_history_with_the_computers_names_reset_each_epoch() {
    let history = history_with(true, 2);
    assert_eq!(history.len(), 3);
    for (epoch, record) in history.iter().enumerate() {
        let train = &record["train"];
        // "examples" comes from both computers: each takes its operation's name
        assert_eq!(
            names(train),
            ["loss", "count.examples", "sticky.examples", "seen"],
            "epoch {}",
            epoch + 1
        );
        // every epoch sees the 10 train examples once: nothing carried over from the previous
        // epoch's train phase or from the eval phase in between
        for name in ["count.examples", "sticky.examples", "seen"] {
            assert_eq!(train[name], 10.0, "epoch {} {name}", epoch + 1);
        }
        assert_eq!(record["eval"]["sticky.examples"], 5.0);
        assert_eq!(names(&record["eval"]), names(train));
    }
}

#[test]
fn without_it_the_train_phase_has_its_loss_only() {
    for computers in [0, 1, 2] {
        for record in history_with(false, computers) {
            assert_eq!(names(&record["train"]), ["loss"], "{computers} computers");
            let eval_names = [1, 2, 4][computers]; // loss, then each computer's
            assert_eq!(record["eval"].as_object().unwrap().len(), eval_names);
        }
    }
    // on, but no computer: the loss only
    for record in history_with(true, 0) {
        assert_eq!(names(&record["train"]), ["loss"]);
    }
    // one computer: its own names, unprefixed
    for record in history_with(true, 1) {
        assert_eq!(names(&record["train"]), ["loss", "examples"]);
        assert_eq!(record["train"]["examples"], 10.0);
    }
}
