//! Running the `medkit` binary and reading what it printed.

use crate::medkit_bin;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `medkit ARGS` with the environment cleared of MEDKIT_PLUGIN_PATH.
pub fn medkit(args: &[&str]) -> Output {
    Command::new(medkit_bin())
        .args(args)
        .env_remove("MEDKIT_PLUGIN_PATH")
        .output()
        .expect("run medkit")
}

/// Runs `medkit ARGS` and panics with its output unless it succeeds.
pub fn medkit_ok(args: &[&str]) -> Output {
    let out = medkit(args);
    assert!(
        out.status.success(),
        "medkit {} failed:\n{}",
        args.join(" "),
        text(&out)
    );
    out
}

/// `medkit run PIPELINE EXTRA...`.
pub fn run_pipeline(pipeline: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", utf8(pipeline)];
    args.extend_from_slice(extra);
    medkit(&args)
}

/// stdout + stderr as one string, for assertions.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `annotate --model MODEL --input INPUT --output OUTPUT`, to extend with flags.
pub fn annotate_args<'a>(model: &'a Path, input: &'a Path, output: &'a Path) -> Vec<&'a str> {
    vec![
        "annotate",
        "--model",
        utf8(model),
        "--input",
        utf8(input),
        "--output",
        utf8(output),
    ]
}

/// `medkit annotate` with the tiny BERT fixture, `extra` flags added.
pub fn annotate_tiny(input: &Path, output: &Path, extra: &[&str]) -> Output {
    let model = crate::tiny_bert();
    let mut args = annotate_args(&model, input, output);
    args.extend_from_slice(extra);
    medkit(&args)
}

/// `convert --from FROM --to TO --input INPUT --output OUTPUT`, to extend with flags.
pub fn convert_args<'a>(
    from: &'a str,
    to: &'a str,
    input: &'a Path,
    output: &'a Path,
) -> Vec<&'a str> {
    vec![
        "convert",
        "--from",
        from,
        "--to",
        to,
        "--input",
        utf8(input),
        "--output",
        utf8(output),
    ]
}

fn utf8(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
