//! Annotation progress when stderr is not a terminal (a bar is drawn on one): an info line every
//! `log_document_interval` documents, as batches end, with the documents per second — from
//! `medkit annotate` and from a pipeline's annotate stage.

use medkit_tests::*;
use std::path::{Path, PathBuf};

/// `n` documents (the e2e validation documents repeated, each with its own uid).
fn documents(dir: &Path, n: usize) -> PathBuf {
    let text = std::fs::read_to_string(root().join("tests/data/e2e/validation.jsonl")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let docs: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let mut out = vec![header.to_string()];
    for i in 0..n {
        let mut doc: serde_json::Value = serde_json::from_str(docs[i % docs.len()]).unwrap();
        doc["uid"] = format!("doc-é-{i}").into();
        out.push(doc.to_string());
    }
    let p = dir.join("entrée.jsonl");
    std::fs::write(&p, out.join("\n") + "\n").unwrap();
    p
}

fn progress_lines(t: &str) -> Vec<String> {
    t.lines()
        .filter_map(|l| l.find("Annotated ").map(|i| l[i..].to_string()))
        .filter(|l| l.contains("docs/s, about"))
        .collect()
}

#[test]
fn annotate_logs_its_progress_every_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let input = documents(tmp.path(), 70);
    let output = tmp.path().join("sortie.jsonl");
    // the CLI calls the model with 64 documents at a time: lines as those calls end
    let o = annotate_tiny(&input, &output, &["--log-document-interval", "1"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let lines = progress_lines(&t);
    assert_eq!(lines.len(), 2, "{t}");
    assert!(
        lines[0].starts_with("Annotated 64/70 documents ("),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("Annotated 70/70 documents ("),
        "{lines:?}"
    );
    let o = annotate_tiny(&input, &output, &["--log-document-interval", "0"]);
    assert!(
        !o.status.success() && text(&o).contains("--log-document-interval"),
        "{}",
        text(&o)
    );

    // the pipeline's stage: batches of 10, a line every 20 documents (at most 70 read)
    let cfg = tmp.path().join("annoter.toml");
    let write = |interval: usize| {
        std::fs::write(
            &cfg,
            format!(
                "[corpus]\ntest = \"{}\"\n\n[annotate]\ninput = \"test\"\noutput = \"{}\"\n\
                 batch_size = 10\nlog_document_interval = {interval}\n\
                 [annotate.matcher]\noperation = \"hf-entity-matcher\"\nmodel = \"{}\"\n",
                input.display(),
                output.display(),
                tiny_bert().display()
            ),
        )
        .unwrap();
    };
    write(20);
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let counts: Vec<String> = progress_lines(&t)
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(counts, ["20/70", "40/70", "60/70"], "{t}");
    write(0);
    let t = text(&run_pipeline(&cfg, &[]));
    assert!(t.contains("annotate.log_document_interval"), "{t}");
}
