//! Checkpoints a person can find: each checkpoint's `provenance.json` (the resolved config with
//! the token masked, the versions, the data files' SHA-256), the output_dir's
//! `checkpoints.json` pointing at it, and `@best` / `@last` resolved through that manifest when
//! the train stage does not run (`medkit run --skip-train`, an annotation-only pipeline naming
//! the run, `medkit annotate --model OUTPUT_DIR@best`); a missing or stale manifest is an error
//! naming it.

use medkit_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const SECRET: &str = "hf_SENTINEL-provenance-4242";

/// `sha256sum`'s digest of `path` (an implementation independent of the host's).
fn sha256sum(path: &Path) -> Option<String> {
    let o = Command::new("sha256sum").arg(path).output().ok()?;
    let text = String::from_utf8(o.stdout).ok()?;
    Some(text.split_whitespace().next()?.to_string())
}

/// An annotate stage on the validation split with `model`, writing `output`.
fn annotate_section(model: &str, output: &Path) -> String {
    format!(
        "[annotate]\ninput = \"validation\"\noutput = \"{}\"\ndrop_existing_entities = true\n\
         [annotate.matcher]\noperation = \"hf-entity-matcher\"\nmodel = \"{model}\"\n",
        output.display()
    )
}

/// A one-epoch run of the tiny model into `out` (token set in the trainable's config).
fn trained(dir: &Path, out: &Path) -> PathBuf {
    let cfg = TinyPipeline {
        output_dir: out.to_path_buf(),
        trainable_keys: format!("hf_auth_token = \"{SECRET}\""),
        ..TinyPipeline::default()
    }
    .write(&dir.join("train.toml"));
    let o = run_pipeline(&cfg, &[]);
    assert!(o.status.success(), "{}", text(&o));
    cfg
}

#[test]
fn each_checkpoint_records_its_provenance_and_the_manifest_points_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sortie-entraînée");
    trained(tmp.path(), &out);
    let manifest = read_json(&out.join("checkpoints.json"));
    let best = PathBuf::from(manifest["best"]["dir"].as_str().unwrap());
    let path = PathBuf::from(manifest["best"]["provenance"].as_str().unwrap());
    assert_eq!(path, best.join("provenance.json"));
    assert_eq!(
        manifest["last"]["provenance"],
        manifest["best"]["provenance"]
    );
    let p = read_json(&path);

    // the whole pipeline as `medkit check` resolves it: defaults filled, the token masked
    let config = &p["config"];
    assert_eq!(config["train"]["trainer"]["nb_training_epochs"], 1);
    assert!(
        config["train"]["trainer"]["warmup_ratio"].is_number(),
        "{config}"
    );
    assert_eq!(config["train"]["trainable"]["hf_auth_token"], "***");
    assert_eq!(config["train"]["metrics"][0]["operation"], "seqeval");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(SECRET),
        "the token was written to {}",
        path.display()
    );

    // versions: medkit-rs, each plugin, the trainable's libtorch
    let versions = &p["versions"];
    assert_eq!(versions["medkit_rs"], env!("CARGO_PKG_VERSION"));
    let plugins = versions["plugins"].as_array().unwrap();
    let hf = plugins
        .iter()
        .find(|x| x["name"] == "medkit-plugin-hf")
        .unwrap_or_else(|| panic!("{plugins:?}"));
    assert_eq!(hf["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        hf["sdk_version"].is_string() && hf["file"].is_string(),
        "{hf}"
    );
    assert!(
        plugins.iter().any(|x| x["name"] == "medkit-plugin-metrics"),
        "{plugins:?}"
    );
    let libtorch = versions["runtime"]["libtorch"].as_str().unwrap();
    assert!(
        libtorch.starts_with(|c: char| c.is_ascii_digit()),
        "libtorch version '{libtorch}'"
    );
    assert!(best.join("runtime.json").is_file());

    // the data files: path, size and SHA-256
    let e2e = root().join("tests/data/e2e");
    for (key, file) in [
        ("corpus.train", "train.jsonl"),
        ("corpus.validation", "validation.jsonl"),
    ] {
        let f = e2e.join(file);
        let d = &p["data"][key];
        assert_eq!(
            d["path"].as_str().map(PathBuf::from),
            Some(f.clone()),
            "{key}"
        );
        assert_eq!(d["bytes"], std::fs::metadata(&f).unwrap().len(), "{key}");
        let sha = d["sha256"].as_str().unwrap();
        assert_eq!(sha.len(), 64, "{key}: {sha}");
        if let Some(expected) = sha256sum(&f) {
            assert_eq!(sha, expected, "{key}");
        }
    }
}

#[test]
fn at_best_resolves_through_the_manifest_when_training_does_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    trained(tmp.path(), &out);
    let ckpts = checkpoints(&out);
    let pred = tmp.path().join("prédictions.jsonl");

    // the same pipeline plus an annotate stage, rerun with training skipped
    let cfg = cfg_rerun(&tmp, &out, &pred);
    let o = run_pipeline(&cfg, &["--skip-train"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("Skipping the train stage") && !t.contains("train: epoch"),
        "{t}"
    );
    assert!(t.contains("annotate: 8 documents"), "{t}");
    assert_eq!(checkpoints(&out), ckpts, "no checkpoint written");
    // without --skip-train the run would train again into an output_dir holding a run
    let o = run_pipeline(&cfg, &[]);
    assert!(text(&o).contains("already holds"), "{}", text(&o));

    // an annotation-only pipeline naming the run: OUTPUT_DIR/@last and OUTPUT_DIR@best
    for (model, name) in [
        (format!("{}/@last", out.display()), "a.toml"),
        ("run@best".into(), "b.toml"),
    ] {
        std::fs::remove_file(&pred).ok();
        let cfg = tmp.path().join(name);
        std::fs::write(
            &cfg,
            format!(
                "[corpus]\nvalidation = \"{}\"\n\n{}",
                root().join("tests/data/e2e/validation.jsonl").display(),
                annotate_section(&model, &pred)
            ),
        )
        .unwrap();
        let o = run_pipeline(&cfg, &[]);
        assert!(o.status.success(), "{model}: {}", text(&o));
        assert!(pred.is_file(), "{model}");
    }
    // `@best` with no [train] stage says how to name the run
    let cfg = tmp.path().join("alone.toml");
    std::fs::write(
        &cfg,
        format!(
            "[corpus]\nvalidation = \"{}\"\n\n{}",
            root().join("tests/data/e2e/validation.jsonl").display(),
            annotate_section("@best", &pred)
        ),
    )
    .unwrap();
    let t = text(&run_pipeline(&cfg, &[]));
    assert!(
        t.contains("needs a [train] stage") && t.contains("OUTPUT_DIR/@best"),
        "{t}"
    );

    // `medkit annotate --model OUTPUT_DIR@best`
    let input = root().join("tests/data/e2e/validation.jsonl");
    let cli_out = tmp.path().join("cli.jsonl");
    let model = format!("{}@best", out.display());
    let o = medkit(&annotate_args(Path::new(&model), &input, &cli_out));
    assert!(o.status.success(), "{}", text(&o));
    assert!(cli_out.is_file());
    let o = medkit(&annotate_args(Path::new("@best"), &input, &cli_out));
    assert!(
        !o.status.success() && text(&o).contains("name the training run's output_dir"),
        "{}",
        text(&o)
    );

    // failures name the manifest: a checkpoint deleted since, an invalid file, none at all
    let manifest = out.join("checkpoints.json");
    let saved = std::fs::read_to_string(&manifest).unwrap();
    let gone = saved.replace(
        ckpts[0].file_name().unwrap().to_str().unwrap(),
        "checkpoint_009_20260101T000000Z",
    );
    for (content, expected) in [
        (Some(gone.as_str()), "no longer exists"),
        (Some("{\"best\": "), "not a checkpoints manifest"),
        (None, "reading"),
    ] {
        match content {
            Some(c) => std::fs::write(&manifest, c).unwrap(),
            None => std::fs::remove_file(&manifest).unwrap(),
        }
        let o = run_pipeline(&cfg_rerun(&tmp, &out, &pred), &["--skip-train"]);
        let t = text(&o);
        assert!(!o.status.success(), "{expected}: {t}");
        assert!(
            t.contains("checkpoints.json") && t.contains(expected),
            "{expected}: {t}"
        );
        assert!(!t.contains("panicked"), "{t}");
        let o = medkit(&annotate_args(Path::new(&model), &input, &cli_out));
        let t = text(&o);
        assert!(!o.status.success() && t.contains("checkpoints.json"), "{t}");
    }
}

fn cfg_rerun(tmp: &tempfile::TempDir, out: &Path, pred: &Path) -> PathBuf {
    TinyPipeline {
        output_dir: out.to_path_buf(),
        rest: annotate_section("@best", pred),
        ..TinyPipeline::default()
    }
    .write(&tmp.path().join("rerun.toml"))
}
