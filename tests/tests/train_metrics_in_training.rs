//! `do_metrics_in_training = true` with the tiny model: each metrics computer's values for the
//! train phase in history.json under "train" (the names the eval phase has), computed afresh
//! each epoch; without it, the train phase has its loss only.

use medkit_tests::*;

#[test]
fn train_metrics_come_per_epoch_from_every_computer_only_when_asked() {
    let plugins = plugin_dir_with(&[template_plugin()]);
    let tmp = tempfile::tempdir().unwrap();
    let run = |on: bool| {
        let out = tmp.path().join(format!("run-{on}"));
        let cfg = TinyPipeline {
            plugin_dirs: vec![plugins.path().to_path_buf()],
            output_dir: out.clone(),
            epochs: 2,
            trainer_keys: format!("do_metrics_in_training = {on}"),
            metrics: String::new(),
            rest: "[[train.metrics]]\noperation = \"seqeval\"\ntagging_scheme = \"iob2\"\n\n\
                   [[train.metrics]]\noperation = \"token-accuracy\"\n"
                .into(),
            ..TinyPipeline::default()
        }
        .write(&tmp.path().join(format!("run-{on}.toml")));
        let o = run_pipeline(&cfg, &[]);
        assert!(o.status.success(), "{}", text(&o));
        history(&out).as_array().unwrap().clone()
    };
    let names =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };

    let history = run(true);
    assert_eq!(history.len(), 2);
    for record in &history {
        let (train, eval) = (&record["train"], &record["eval"]);
        assert_eq!(names(train), names(eval), "{record}");
        for name in [
            "loss",
            "overall_f1-score",
            "overall_support",
            "token_accuracy",
        ] {
            assert!(train[name].is_number(), "{name}: {record}");
        }
    }
    // the same train entities each epoch: counted once per epoch, not accumulated
    let support = |e: usize| history[e]["train"]["overall_support"].as_f64().unwrap();
    assert!(support(0) > 0.0);
    assert_eq!(support(0), support(1));
    assert_ne!(
        support(0),
        history[0]["eval"]["overall_support"].as_f64().unwrap(),
        "train and eval splits differ"
    );

    for record in run(false) {
        assert_eq!(names(&record["train"]), ["loss"], "{record}");
        assert!(record["eval"]["token_accuracy"].is_number(), "{record}");
    }
}
