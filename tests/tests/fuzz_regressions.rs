//! Replays the fuzzers' findings (`fuzz/regressions/`) and the committed seeds of
//! `fuzz/corpus/medkit_jsonl/` through the fuzz targets' checks, so that a regression shows up in
//! `cargo test` without cargo-fuzz. A regression file is named `<target>-<what>.<ext>`.

use medkit_corpus::medkit_json::check_round_trip;
use medkit_tests::root;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// The `medkit_jsonl` target: every line that decodes re-encodes and decodes to itself.
/// Returns how many lines decoded.
fn medkit_jsonl(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return 0;
    };
    let mut decoded = 0;
    for (i, line) in text.lines().enumerate() {
        match check_round_trip(line) {
            Ok(ok) => decoded += usize::from(ok),
            Err(e) => panic!("{}:{}: {e}", path.display(), i + 1),
        }
    }
    decoded
}

#[test]
fn regressions_replay() {
    let dir = root().join("fuzz/regressions");
    let all = files(&dir);
    assert!(!all.is_empty(), "no regression inputs in {}", dir.display());
    for path in all {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match name.split_once('-').map(|(t, _)| t) {
            Some("medkit_jsonl") => {
                medkit_jsonl(&path);
            }
            _ => panic!("{name}: no replay for this target; name it <target>-<what> and add one"),
        }
    }
}

#[test]
fn medkit_jsonl_seeds_round_trip() {
    let seeds = files(&root().join("fuzz/corpus/medkit_jsonl"));
    assert!(!seeds.is_empty());
    let decoded: usize = seeds.iter().map(|p| medkit_jsonl(p)).sum();
    assert!(decoded > 0, "no seed line decodes");
}
