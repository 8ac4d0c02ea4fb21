//! One-off interop checks against the reference corpora in ../shared (not shipped, so ignored by
//! default): `cargo test -p medkit-tests --test corpus_shared -- --ignored --nocapture`.

use medkit_corpus::{brat, medkit_json, overlaps, split};
use medkit_sdk::data::{AnySpan, TextDocument};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

const SHARED: &str = "/work/shared/corpora";

fn key(d: &TextDocument) -> Vec<(String, Vec<AnySpan>, String, String)> {
    d.entities()
        .map(|e| {
            (
                e.label.to_string(),
                e.spans.to_vec(),
                e.text.to_string(),
                e.metadata.to_string(),
            )
        })
        .collect()
}

fn name(d: &TextDocument) -> String {
    let m: serde_json::Value = serde_json::from_str(&d.metadata).unwrap();
    let p = m["path_to_text"].as_str().unwrap_or_default();
    Path::new(p)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for c in ["ncbi_disease", "bc5cdr", "e3c_fr"] {
        for sub in ["", "sentences/"] {
            for s in ["train", "validation", "test"] {
                out.push(PathBuf::from(format!("{SHARED}/{c}/medkit/{sub}{s}.jsonl")));
            }
        }
    }
    out
}

#[test]
#[ignore = "needs the reference corpora in ../shared (not shipped): cargo test --release -p medkit-tests --test corpus_shared -- --ignored"]
fn round_trip_every_shared_file() {
    for f in files() {
        let lines: Vec<String> = std::io::BufReader::new(std::fs::File::open(&f).unwrap())
            .lines()
            .map(Result::unwrap)
            .collect();
        let mut bad = 0;
        let mut n = 0;
        for (i, d) in medkit_json::read_documents(&f).unwrap().enumerate() {
            let d = d.unwrap();
            n += 1;
            if medkit_json::document_to_json_line(&d).unwrap() != lines[i + 1] {
                bad += 1;
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("x.jsonl");
        let docs: Vec<_> = medkit_json::read_documents(&f)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        medkit_json::write_documents(&out, &docs).unwrap();
        let same = std::fs::read(&out).unwrap() == std::fs::read(&f).unwrap();
        println!(
            "{}: {n} docs, {bad} lines differ, file byte-identical: {same}",
            f.display()
        );
        assert!(same && bad == 0);
    }
}

/// BRAT -> medkit (+ filter_overlapping_entities, as make_medkit_corpora.py) vs medkit's files.
#[test]
#[ignore = "needs the reference corpora in ../shared (not shipped): cargo test --release -p medkit-tests --test corpus_shared -- --ignored"]
fn brat_import_matches_medkit() {
    for (corpus, dirs, keep) in [
        ("ncbi_disease", vec!["train", "devel", "test"], None),
        ("e3c_fr", vec!["train", "test"], Some("CLINENTITY")),
    ] {
        let mut reference: HashMap<String, TextDocument> = HashMap::new();
        for s in ["train", "validation", "test"] {
            let f = PathBuf::from(format!("{SHARED}/{corpus}/medkit/{s}.jsonl"));
            for d in medkit_json::read_documents(&f).unwrap() {
                let d = d.unwrap();
                reference.insert(
                    format!(
                        "{}/{}",
                        if s == "validation" && corpus == "ncbi_disease" {
                            "devel"
                        } else if s == "validation" {
                            "train"
                        } else {
                            s
                        },
                        name(&d)
                    ),
                    d,
                );
            }
        }
        let (mut docs, mut ents, mut dropped, mut mism) = (0, 0, 0, 0);
        for dir in dirs {
            for mut d in
                brat::read_dir(&PathBuf::from(format!("{SHARED}/{corpus}/brat/{dir}"))).unwrap()
            {
                if let Some(k) = keep {
                    let anns: Vec<_> = d
                        .anns
                        .iter()
                        .filter(|a| match a {
                            medkit_sdk::data::Annotation::Entity(e) => e.label.as_str() == k,
                            _ => false,
                        })
                        .cloned()
                        .collect();
                    d.anns = anns.into();
                } else {
                    d.anns = d
                        .anns
                        .iter()
                        .filter(|a| matches!(a, medkit_sdk::data::Annotation::Entity(_)))
                        .cloned()
                        .collect();
                }
                dropped += overlaps::filter_overlapping_entities(&mut d);
                docs += 1;
                ents += d.entities().count();
                let r = &reference[&format!("{dir}/{}", name(&d))];
                if r.text != d.text || key(r) != key(&d) {
                    mism += 1;
                    if mism <= 3 {
                        println!(
                            "MISMATCH {dir}/{}: {:?}\n vs {:?}",
                            name(&d),
                            key(r),
                            key(&d)
                        );
                    }
                }
            }
        }
        println!("{corpus}: BRAT docs {docs} (medkit {}), entities {ents} (medkit {}), dropped as overlapping {dropped}, mismatching docs {mism}",
            reference.len(), reference.values().map(|d| d.entities().count()).sum::<usize>());
        assert_eq!(mism, 0);
    }
}

/// split_sentences of medkit's full-document files vs medkit's sentences/ files.
#[test]
#[ignore = "needs the reference corpora in ../shared (not shipped): cargo test --release -p medkit-tests --test corpus_shared -- --ignored"]
fn sentence_split_matches_medkit() {
    for c in ["ncbi_disease", "bc5cdr", "e3c_fr"] {
        for s in ["train", "validation", "test"] {
            let full = PathBuf::from(format!("{SHARED}/{c}/medkit/{s}.jsonl"));
            let sents = PathBuf::from(format!("{SHARED}/{c}/medkit/sentences/{s}.jsonl"));
            let mut mine = Vec::new();
            let mut lost = 0;
            for d in medkit_json::read_documents(&full).unwrap() {
                let (parts, l) = split::split_sentences(&d.unwrap());
                lost += l;
                mine.extend(parts);
            }
            let theirs: Vec<_> = medkit_json::read_documents(&sents)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let mut mism = 0;
            let mut order = 0;
            for (a, b) in mine.iter().zip(&theirs) {
                let (mut ka, mut kb) = (key(a), key(b));
                // with medkit's uids, our line must be medkit's line
                let mut m = a.clone();
                m.uid = b.uid.clone();
                for (x, y) in m.anns.iter_mut().zip(b.anns.iter()) {
                    if let (
                        medkit_sdk::data::Annotation::Entity(x),
                        medkit_sdk::data::Annotation::Entity(y),
                    ) = (x, y)
                    {
                        x.uid = y.uid.clone();
                    }
                }
                if medkit_json::document_to_json_line(&m).unwrap()
                    != medkit_json::document_to_json_line(b).unwrap()
                {
                    order += 1;
                }
                ka.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
                kb.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
                if a.text != b.text || ka != kb || a.metadata != b.metadata {
                    mism += 1;
                    if mism <= 2 {
                        println!("MISMATCH {:?} vs {:?}", a.text, b.text);
                    }
                }
            }
            println!("{c}/{s}: sentence docs {} (medkit {}), entities {} (medkit {}), lost {lost}, mismatching docs {mism}, lines differing once uids are copied {order}",
                mine.len(), theirs.len(),
                mine.iter().map(|d| d.entities().count()).sum::<usize>(),
                theirs.iter().map(|d| d.entities().count()).sum::<usize>());
            assert_eq!(mine.len(), theirs.len());
            assert_eq!(mism, 0);
            assert_eq!(order, 0);
        }
    }
}
