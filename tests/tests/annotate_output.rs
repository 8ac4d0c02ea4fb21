//! `medkit annotate`'s output file: a run killed midway leaves the output untouched and
//! `<output>.partial` holding whole lines only (valid medkit JSONL); a run that fails midway keeps
//! those lines too and says where; a complete run renames `.partial` onto the output.

use medkit_tests::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus(dir: &Path, n: usize, bad_line: Option<usize>) -> PathBuf {
    let texts = [
        "Le patient présente une fièvre et une toux depuis trois jours.",
        "Pas d'antécédent notable, traitement par paracétamol.",
        "Examen clinique normal.",
    ];
    let lines: Vec<String> = (0..n)
        .map(|i| {
            if bad_line == Some(i + 2) {
                return "{\"uid\": \"broken\", \"text\": ".to_string();
            }
            let text = format!("{} Dossier {i}.", texts[i % 3]);
            text_document(&format!("d{i}"), &text, serde_json::json!([])).to_string()
        })
        .collect();
    write_jsonl(&dir.join("docs.jsonl"), &lines)
}

fn partial(out: &Path) -> PathBuf {
    out.with_file_name(format!(
        "{}.partial",
        out.file_name().unwrap().to_string_lossy()
    ))
}

/// Whole lines only, header first, every line a JSON object, readable by medkit's reader;
/// returns the number of documents.
fn check_whole_lines(p: &Path) -> usize {
    let bytes = std::fs::read(p).unwrap();
    assert!(
        bytes.ends_with(b"\n"),
        "{} ends inside a line: ...{:?}",
        p.display(),
        String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(80)..])
    );
    let content = String::from_utf8(bytes).expect("UTF-8");
    let mut lines = content.lines();
    assert_eq!(lines.next(), Some(JSONL_HEADER));
    let mut n = 0;
    for (i, l) in lines.enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 2));
        assert!(v["uid"].is_string());
        n += 1;
    }
    // And the medkit reader agrees (it checks every field).
    let check = p.with_extension("check.jsonl");
    let o = medkit(&convert_args("medkit", "medkit", p, &check));
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_file(check).unwrap();
    n
}

#[cfg(unix)]
#[test]
fn sigkill_midway_leaves_only_whole_lines_and_the_old_output() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 20_000;
    let input = corpus(tmp.path(), n, None);
    let out = tmp.path().join("out.jsonl");
    std::fs::write(&out, "OLD\n").unwrap();
    let part = partial(&out);
    let model = tiny_bert();
    let mut child = Command::new(medkit_bin())
        .args(annotate_args(&model, &input, &out))
        .args(["--batch-size", "16"])
        .env_remove("MEDKIT_PLUGIN_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Midway: once a few MB are out. SIGSTOP first, so that the SIGKILL lands between system
    // calls (a kill at any moment of the program), not inside the kernel's copy of a write.
    loop {
        if std::fs::metadata(&part).is_ok_and(|m| m.len() > 4_000_000) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before being killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(std::fs::read_to_string(&out).unwrap(), "OLD\n");
    let done = check_whole_lines(&part);
    assert!(done > 0 && done < n, "{done} documents");

    // Run again to the end: the output is complete, the .partial file is gone.
    let o = annotate_tiny(&input, &out, &["--batch-size", "64"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!part.exists());
    assert_eq!(check_whole_lines(&out), n);
}

#[test]
fn an_error_midway_keeps_the_whole_lines_done_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus(tmp.path(), 100, Some(60));
    let out = tmp.path().join("out.jsonl");
    std::fs::write(&out, "OLD\n").unwrap();
    let o = annotate_tiny(&input, &out, &["--batch-size", "8"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("docs.jsonl:60") && t.contains("invalid JSON"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    let part = partial(&out);
    assert!(
        t.contains(&format!("{}", part.display())) && t.contains("58 documents annotated"),
        "{t}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "OLD\n");
    assert_eq!(
        check_whole_lines(&part),
        58,
        "every document before the bad line (line 1 is the header)"
    );

    // An error before any document leaves no .partial behind.
    let input = corpus(tmp.path(), 10, Some(2));
    let o = annotate_tiny(&input, &tmp.path().join("other.jsonl"), &[]);
    assert!(!o.status.success());
    assert!(!partial(&tmp.path().join("other.jsonl")).exists());
    assert!(!tmp.path().join("other.jsonl").exists());
}
