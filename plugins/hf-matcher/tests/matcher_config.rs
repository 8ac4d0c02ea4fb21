//! Both operations are registered, and bad configs give clear errors (no panic).

use medkit_plugin_hf::testing::{temp_dir, write_tiny_bert};
use medkit_sdk::{registrations, OperationKind};
use serde_json::{json, Value};

fn create(kind: OperationKind, config: Value) -> Result<(), String> {
    let reg = registrations("medkit-plugin-hf")
        .into_iter()
        .find(|r| r.kind == kind && r.name == "hf-entity-matcher")
        .expect("registered");
    let config = config.to_string();
    let result = std::panic::catch_unwind(|| (reg.create)(&config).map(|_| ()));
    result.unwrap_or_else(|_| panic!("create panicked on {config}"))
}

#[test]
fn both_operations_are_registered_with_examples() {
    let regs = registrations("medkit-plugin-hf");
    for kind in [OperationKind::Trainable, OperationKind::Ner] {
        let r = regs
            .iter()
            .find(|r| r.kind == kind && r.name == "hf-entity-matcher")
            .unwrap();
        assert!(!r.config_example.is_empty());
    }
}

#[test]
fn bad_configs_are_clear_errors() {
    let dir = temp_dir("config");
    write_tiny_bert(&dir, 0).unwrap();
    let trainable = |patch: Value| {
        let mut c =
            json!({"model_name_or_path": dir, "labels": ["problem"], "tagging_scheme": "iob2"});
        c.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        create(OperationKind::Trainable, c)
    };
    assert!(trainable(json!({})).is_ok());
    let err = trainable(json!({"tagging_scheme": "bioes2"})).unwrap_err();
    assert!(err.contains("unknown tagging_scheme 'bioes2'"), "{err}");
    let err = trainable(json!({"labels": []})).unwrap_err();
    assert!(err.contains("labels is empty"), "{err}");
    let err = trainable(json!({"model_name_or_path": "/nonexistent/model/dir"})).unwrap_err();
    assert!(err.contains("/nonexistent/model/dir"), "{err}");
    let err = trainable(json!({"device": "tpu"})).unwrap_err();
    assert!(err.contains("tpu"), "{err}");
    let err = trainable(json!({"learning_rate": 1e-3})).unwrap_err();
    assert!(err.contains("unknown field `learning_rate`"), "{err}");
    let err = create(OperationKind::Trainable, json!({"labels": ["x"]})).unwrap_err();
    assert!(err.contains("missing field"), "{err}");
    // The token never appears in errors.
    let err = trainable(json!({"model_name_or_path": "/nope", "hf_auth_token": "hf_secret"}))
        .unwrap_err();
    assert!(!err.contains("hf_secret"), "{err}");

    let ner = |patch: Value| {
        let mut c = json!({"model": dir});
        c.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        create(OperationKind::Ner, c)
    };
    assert!(ner(json!({})).is_ok());
    let err = ner(json!({"aggregation_strategy": "mean"})).unwrap_err();
    assert!(err.contains("unknown aggregation_strategy 'mean'"), "{err}");
    let err = ner(json!({"model": "/nonexistent/model/dir"})).unwrap_err();
    assert!(err.contains("/nonexistent/model/dir"), "{err}");
    let err = ner(json!({"batch_size": 0})).unwrap_err();
    assert!(err.contains("batch_size"), "{err}");
    let err = ner(json!({"tokenizer_max_length": 2})).unwrap_err();
    assert!(err.contains("no room"), "{err}");
    assert!(ner(json!({"quantize": "int8"})).is_ok());
    let err = ner(json!({"quantize": "int4"})).unwrap_err();
    assert!(err.contains("unknown variant `int4`"), "{err}");
    let err = ner(json!({"quantize": "int8", "bf16": true})).unwrap_err();
    assert!(err.contains("cannot be combined with bf16"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
