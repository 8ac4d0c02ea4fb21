//! Interop with Python transformers (in `.venv` by scripts/setup-interop.sh):
//! - checkpoints our trainer (`medkit run`) saved load with AutoTokenizer /
//!   AutoModelForTokenClassification and give our logits within 1e-4
//!   (plugins/hf-matcher/tests/checkpoint_export.rs + scripts/interop/check_checkpoint_logits.py);
//! - models saved by TokenClassifier::save do too (plugins/hf-matcher/tests/encoder_save_export.rs
//!   + scripts/encoder_check_saved.py).
//!
//! Ignored in the plain `cargo test`; scripts/test-interop.sh installs the prerequisites and runs
//! them, and scripts/test.sh (CI) runs that every time.

use medkit_tests::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Trains `pipeline` one epoch (learning rate 5e-4, batches of 8) into `dir/name`; returns its
/// (only) checkpoint directory.
fn train(dir: &Path, name: &str, pipeline: TinyPipeline) -> PathBuf {
    let out = dir.join(name);
    let cfg = TinyPipeline {
        output_dir: out.clone(),
        learning_rate: Some(5e-4),
        batch_size: 8,
        ..pipeline
    }
    .write(&dir.join(format!("{name}.toml")));
    medkit_ok(&["run", cfg.to_str().unwrap()]);
    let ckpts = checkpoints(&out);
    assert_eq!(ckpts.len(), 1, "{ckpts:?}");
    ckpts.into_iter().next().unwrap()
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn transformers_loads_our_trainer_checkpoints_with_our_logits() {
    let dir = tempfile::tempdir().unwrap();
    let e2e_labels = ["problem", "treatment", "test"];
    let tiny = train(dir.path(), "tiny", TinyPipeline::default());
    let ncbi = root().join("data/ncbi-disease");
    let ncbi_labels = [
        "CompositeMention",
        "DiseaseClass",
        "Modifier",
        "SpecificDisease",
    ];
    let minilm = root().join(".venv/models/all-MiniLM-L6-v2");
    assert!(
        minilm.join("config.json").is_file(),
        "{} missing: run scripts/setup.sh",
        minilm.display()
    );
    let mini = train(
        dir.path(),
        "minilm",
        TinyPipeline {
            train: ncbi.join("train.jsonl"),
            validation: ncbi.join("validation.jsonl"),
            corpus_keys: "max_documents = 48".into(),
            model: minilm.display().to_string(),
            labels: ncbi_labels.map(String::from).to_vec(),
            ..TinyPipeline::default()
        },
    );
    let dirs = std::env::join_paths([&tiny, &mini]).unwrap();
    cargo_test_ignored(
        "medkit-plugin-hf",
        "checkpoint_export",
        &[("MEDKIT_INTEROP_CHECKPOINTS", dirs.as_os_str())],
    );
    for (ckpt, labels) in [
        (&tiny, e2e_labels.join(",")),
        (&mini, ncbi_labels.join(",")),
    ] {
        let labels = format!("--labels={labels}");
        let summary = interop_script(
            "check_checkpoint_logits.py",
            &[OsStr::new(&labels), ckpt.as_os_str()],
        );
        assert!(summary.contains("1/1 trainer checkpoints"), "{summary}");
    }
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn transformers_loads_models_we_save() {
    let dir = tempfile::tempdir().unwrap();
    cargo_test_ignored(
        "medkit-plugin-hf",
        "encoder_save_export",
        &[("ENCODER_EXPORT_DIR", dir.path().as_os_str())],
    );
    let script = root().join("scripts/encoder_check_saved.py");
    let out = std::process::Command::new(venv_python())
        .arg(&script)
        .arg(dir.path())
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("--- encoder_check_saved.py ---\n{stdout}");
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        tail_of(&String::from_utf8_lossy(&out.stderr), 4000)
    );
    // 4 tiny families x (as is, relabelled) + CamemBERT + MiniLM (2 tokenizers).
    assert!(
        stdout.contains("11/11 saved models reload identically"),
        "{stdout}"
    );
}
