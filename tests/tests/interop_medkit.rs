//! Interop with Python medkit 0.17 (medkit-lib, in `.venv` by scripts/setup-interop.sh):
//! - Python medkit loads every kind of medkit JSONL file medkit-rs writes, with identical content,
//!   and writes it back byte for byte (scripts/interop/check_medkit_jsonl.py);
//! - our matcher loads a checkpoint Python medkit's Trainer saved and finds the entities Python
//!   medkit's HFEntityMatcher finds (scripts/interop/medkit_train_annotate.py, compare_entities.py);
//! - `medkit evaluate` gives SeqEvalEvaluator's numbers (scripts/interop/check_evaluate.py);
//! - the `sentence-tokenizer` operation and `convert --split-sentences` cut SentenceTokenizer's
//!   sentences (scripts/interop/check_sentences.py);
//! - the seqeval unknown-tag fixture is what Python seqeval 1.2.2 computes, recomputed live.
//!
//! Ignored in the plain `cargo test` (they need medkit-lib in .venv); scripts/test-interop.sh
//! installs it and runs them, and scripts/test.sh (CI) runs that every time.

use medkit_tests::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Inputs of `medkit convert --to medkit`: (name, --from, path relative to the repo root).
const CONVERT_INPUTS: &[(&str, &str, &str)] = &[
    ("brat-fr", "brat", "tests/data/interop/brat"),
    ("brat-corpus", "brat", "tests/data/corpus/brat"),
    ("brat-ncbi", "brat", "tests/data/corpus/ncbi/brat"),
    ("conll-fr", "conll", "tests/data/interop/fr.conll"),
    ("conll-sample", "conll", "tests/data/corpus/sample.conll"),
    ("jsonl-fr", "medkit", "tests/data/interop/fr.jsonl"),
    ("jsonl-rich", "medkit", "tests/data/corpus/rich.jsonl"),
    (
        "jsonl-overlap",
        "medkit",
        "tests/data/corpus/overlap_full.jsonl",
    ),
    (
        "jsonl-ncbi-abstracts",
        "medkit",
        "tests/data/corpus/ncbi/test_full.jsonl",
    ),
];

/// Each input is converted once per flag set.
const CONVERT_FLAGS: &[&[&str]] = &[
    &[],
    &["--split-sentences"],
    &["--filter-overlaps"],
    &["--split-sentences", "--filter-overlaps"],
];

/// `medkit annotate` runs: (name, input relative to the repo root, extra flags). The model is
/// the tiny random BERT fixture (labels x), so entities with score attributes appear.
const ANNOTATE_RUNS: &[(&str, &str, &[&str])] = &[
    ("annotate-fr-keep", "tests/data/interop/fr.jsonl", &[]),
    (
        "annotate-rich-drop",
        "tests/data/corpus/rich.jsonl",
        &["--drop-existing-entities"],
    ),
    (
        "annotate-ncbi-batch",
        "data/ncbi-disease/validation.jsonl",
        &["--max-documents", "40", "--batch-size", "8"],
    ),
    // on sentence segments made by the sentence tokenizer (kept in the output as Segments)
    (
        "annotate-ncbi-whole-sentences",
        "tests/data/corpus/ncbi/test_full.jsonl",
        &[
            "--segments",
            "sentence",
            "--segmentation",
            "sentence-tokenizer",
        ],
    ),
    (
        "annotate-fr-phrases",
        "tests/data/interop/fr.jsonl",
        &[
            "--segments",
            "phrase",
            "--segmentation",
            "sentence-tokenizer",
            "--segmentation-opt",
            "output_label=\"phrase\"",
            "--segmentation-opt",
            "punct_chars=[\"?\", \"!\", \".\"]",
        ],
    ),
];

/// A tiny pipeline (tiny random BERT, 1 epoch on tests/data/e2e) whose annotate stage keeps the
/// input's annotations (French JSONL with relations and attributes) and adds its predictions.
fn pipeline_annotate_output(dir: &Path) -> PathBuf {
    let out = dir.join("pipeline");
    let annotated = out.join("annotated.jsonl");
    let cfg = TinyPipeline {
        output_dir: out,
        rest: format!(
            r#"[annotate]
input = "{input}"
output = "{annotated}"
batch_size = 2
drop_existing_entities = false

[annotate.matcher]
operation = "hf-entity-matcher"
model = "@last"
"#,
            input = test_data("interop/fr.jsonl").display(),
            annotated = annotated.display(),
        ),
        ..TinyPipeline::default()
    }
    .write(&dir.join("pipeline.toml"));
    medkit_ok(&["run", cfg.to_str().unwrap()]);
    annotated
}

/// Every medkit JSONL file medkit-rs writes, made fresh: THE list the checker gets. Add new kinds
/// of output here (one more file in the returned list; the checker needs nothing else).
fn jsonl_outputs(dir: &Path) -> Vec<PathBuf> {
    let mut outputs = Vec::new();
    for (name, from, input) in CONVERT_INPUTS {
        for flags in CONVERT_FLAGS {
            let suffix: String = flags.iter().map(|f| f.trim_start_matches('-')).collect();
            let out = dir.join(format!("convert-{name}-{suffix}.jsonl"));
            let input = root().join(input);
            let mut args = convert_args(from, "medkit", &input, &out);
            args.extend_from_slice(flags);
            medkit_ok(&args);
            outputs.push(out);
        }
    }
    for (name, input, flags) in ANNOTATE_RUNS {
        let out = dir.join(format!("{name}.jsonl"));
        let o = annotate_tiny(&root().join(input), &out, flags);
        assert!(o.status.success(), "annotate {name} failed:\n{}", text(&o));
        outputs.push(out);
    }
    outputs.push(pipeline_annotate_output(dir));
    outputs
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn python_medkit_loads_every_jsonl_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = jsonl_outputs(dir.path());
    let n_entities: usize = outputs
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .matches("medkit.core.text.annotation.Entity")
                .count()
        })
        .sum();
    assert!(n_entities > 100, "only {n_entities} entities written");
    let args: Vec<&OsStr> = outputs.iter().map(|p| p.as_os_str()).collect();
    let summary = interop_script("check_medkit_jsonl.py", &args);
    assert!(
        summary.contains(&format!("files {}", outputs.len())),
        "{summary}"
    );
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn our_matcher_finds_python_medkits_entities() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    interop_script("medkit_train_annotate.py", &[work.as_os_str()]);
    let ckpt = std::fs::read_to_string(work.join("checkpoint.txt")).unwrap();
    let ours = work.join("rust.jsonl");
    medkit_ok(&[
        "annotate",
        "--model",
        ckpt.trim(),
        "--input",
        work.join("docs.jsonl").to_str().unwrap(),
        "--output",
        ours.to_str().unwrap(),
    ]);
    let summary = interop_script(
        "compare_entities.py",
        &[work.join("python.jsonl").as_os_str(), ours.as_os_str()],
    );
    assert!(summary.contains("OK"), "{summary}");
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn medkit_evaluate_equals_seqeval_evaluator() {
    let dir = tempfile::tempdir().unwrap();
    let bin = medkit_bin();
    let summary = interop_script(
        "check_evaluate.py",
        &[bin.as_os_str(), dir.path().as_os_str()],
    );
    assert!(summary.contains("OK"), "{summary}");
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn sentence_tokenizer_equals_medkits() {
    let dir = tempfile::tempdir().unwrap();
    let bin = medkit_bin();
    let summary = interop_script(
        "check_sentences.py",
        &[
            bin.as_os_str(),
            tiny_bert().as_os_str(),
            dir.path().as_os_str(),
        ],
    );
    assert!(summary.contains("OK sentences"), "{summary}");
}

#[test]
#[ignore = "interop: needs medkit-lib 0.17 + transformers in .venv; run scripts/test-interop.sh"]
fn seqeval_unknown_tag_fixture_equals_python_seqeval() {
    // The committed fixture (compared by plugins/metrics/tests/unknown_tags.rs) recomputed live
    // with Python seqeval 1.2.2.
    let script = root().join("scripts/seqeval_unknown_tags_fixtures.py");
    let out = std::process::Command::new(venv_python())
        .arg(&script)
        .arg("--check")
        .current_dir(root())
        .output()
        .unwrap();
    let t = text(&out);
    println!("{t}");
    assert!(out.status.success(), "{t}");
}
