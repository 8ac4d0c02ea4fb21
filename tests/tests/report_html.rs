//! `medkit report` in a real browser (Debian's headless `chromium`, installed by
//! scripts/setup-chromium.sh): the tiny-model pipeline writes report.html by default; loaded with
//! `#selftest`, the page walks its pages and filters and writes what it found into
//! `#selftest-result`, read back with `--dump-dom`. Also: document text with `<script>` renders as
//! text, and highlights land on the right characters after accents and astral characters.

use medkit_tests::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MEDKIT_CHROMIUM") {
        return PathBuf::from(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for name in ["chromium", "chromium-browser"] {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!("no chromium in PATH: run scripts/setup-chromium.sh (or set MEDKIT_CHROMIUM)");
}

/// Runs headless chromium on `url` with `args`; (stdout, stderr). Killed after 90 s.
fn chromium(url: &str, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(chromium_bin())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        std::fs::read_to_string(out.path()).unwrap(),
        std::fs::read_to_string(err.path()).unwrap(),
    )
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// Loads `page#selftest` and returns the page's own report of itself, plus the DOM.
fn selftest(page: &Path) -> (Value, String) {
    let (dom, stderr) = chromium(&format!("{}#selftest", file_url(page)), &["--dump-dom"]);
    // Console errors and uncaught exceptions: chromium logs them as "CONSOLE" lines.
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console output: {console:#?}");
    let start = dom
        .find("<pre id=\"selftest-result\"")
        .expect("selftest element in the DOM");
    let from = start + dom[start..].find('>').unwrap() + 1;
    let to = from + dom[from..].find("</pre>").unwrap();
    let json = html_unescape(&dom[from..to]);
    let v: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(
        v["errors"],
        serde_json::json!([]),
        "errors in the page: {v}"
    );
    (v, dom)
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// (uid, entity texts, labels) of each document of a medkit JSONL file.
fn entities(path: &Path) -> Vec<(String, Vec<String>, Vec<String>)> {
    jsonl_docs(path)
        .into_iter()
        .map(|d| {
            let text: Vec<char> = d["text"].as_str().unwrap().chars().collect();
            let anns = d["anns"].as_array().unwrap();
            let ents: Vec<&Value> = anns
                .iter()
                .filter(|a| a["_class_name"].as_str().unwrap_or("").ends_with("Entity"))
                .collect();
            let texts = ents
                .iter()
                .map(|a| {
                    let s = &a["spans"][0];
                    let (b, e) = (s["start"].as_u64().unwrap(), s["end"].as_u64().unwrap());
                    text[b as usize..e as usize].iter().collect()
                })
                .collect();
            let labels = ents
                .iter()
                .map(|a| a["label"].as_str().unwrap().to_string())
                .collect();
            (d["uid"].as_str().unwrap().to_string(), texts, labels)
        })
        .collect()
}

/// Each entity's text as highlighted in the DOM matches the characters its offsets name.
fn assert_highlights(v: &Value, gold: &Path, pred: &Path) {
    let shown: Vec<(String, String, u64, String)> = v["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_string(),
                e[1].as_str().unwrap().to_string(),
                e[2].as_u64().unwrap(),
                e[3].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected = Vec::new();
    let (g, p) = (entities(gold), entities(pred));
    for (uid, texts, _) in &g {
        let (_, ptexts, _) = p.iter().find(|(u, _, _)| u == uid).unwrap();
        for (side, list) in [("g", texts), ("p", ptexts)] {
            for (i, t) in list.iter().enumerate() {
                expected.push((uid.clone(), side.to_string(), i as u64, t.clone()));
            }
        }
    }
    assert_eq!(shown, expected);
}

fn screenshot(page: &Path, png: &Path) {
    let (_, stderr) = chromium(
        &file_url(page),
        &[
            "--hide-scrollbars",
            "--window-size=1280,1600",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{stderr}"
    );
}

/// Three epochs of the tiny BERT, then the validation set annotated with the best checkpoint
/// and evaluated (no `[report]`: the evaluate stage writes one by default).
fn pipeline(dir: &Path, out: &Path) -> PathBuf {
    TinyPipeline {
        output_dir: out.to_path_buf(),
        epochs: 3,
        metrics:
            "operation = \"seqeval\"\ntagging_scheme = \"iob2\"\nreturn_metrics_by_label = true"
                .into(),
        rest: format!(
            r#"[annotate]
input = "validation"
output = "{out}/annotated.jsonl"
drop_existing_entities = true

[annotate.matcher]
operation = "hf-entity-matcher"
model = "@best"

[[evaluate]]
name = "validation"
reference = "validation"
predicted = "@annotate"
scheme = "iob2"
"#,
            out = out.display()
        ),
        ..TinyPipeline::default()
    }
    .write(&dir.join("pipeline.toml"))
}

#[test]
fn tiny_model_run_report_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = pipeline(dir.path(), &out);
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // No [report] section: written by default because there is an evaluate stage.
    let page = out.join("report.html");
    assert!(t.contains("report: 8 documents"), "{t}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"training\"") && html.matches("<svg class=\"chart\"").count() >= 3);
    assert!(html.contains("Evaluation: validation"));

    let (v, _) = selftest(&page);
    let gold_file = test_data("e2e/validation.jsonl");
    let pred_file = out.join("annotated.jsonl");
    let (g, p) = (entities(&gold_file), entities(&pred_file));
    let count =
        |d: &[(String, Vec<String>, Vec<String>)]| d.iter().map(|x| x.1.len()).sum::<usize>();
    let mut labels: Vec<&String> = g.iter().chain(&p).flat_map(|x| &x.2).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(v["documents"], 8, "{v}");
    assert_eq!(v["docsInDom"], 8, "{v}");
    assert_eq!(v["gold"], count(&g), "{v}");
    assert_eq!(v["pred"], count(&p), "{v}");
    assert_eq!(v["labels"], labels.len(), "{v}");
    assert_highlights(&v, &gold_file, &pred_file);

    // Filters: each shows the documents that have such an entity; "all" shows every one.
    let filters = v["filters"].as_array().unwrap();
    assert_eq!(filters[0]["kind"], "all");
    assert_eq!(filters[0]["shown"], 8);
    assert_eq!(filters[0]["info"], "8 of 8 documents");
    let data = embedded(&html);
    for f in filters {
        let shown = f["shown"].as_u64().unwrap();
        assert_eq!(f["inDom"].as_u64().unwrap(), shown.min(100), "{f}");
        let expected = data["docs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                ["g", "p"].iter().any(|s| {
                    d[s].as_array().unwrap().iter().any(|e| {
                        let kind = &data["kinds"][e[1].as_u64().unwrap() as usize];
                        let label = &data["labels"][e[0].as_u64().unwrap() as usize];
                        (f.get("kind").is_none() || f["kind"] == "all" || &f["kind"] == kind)
                            && (f.get("label").is_none() || &f["label"] == label)
                    })
                })
            })
            .count() as u64;
        let all = f["kind"] == "all";
        assert_eq!(shown, if all { 8 } else { expected }, "{f}");
    }
    assert!(
        filters.iter().any(|f| f["shown"].as_u64() < Some(8)),
        "some filter narrows the list: {filters:?}"
    );

    screenshot(&page, &dir.path().join("report.png"));
}

/// The viewer's data as embedded in the page.
fn embedded(html: &str) -> Value {
    let start = html.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

/// (uid, text, [(label, entity text)]): each entity at the first occurrence of its text.
type Doc<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

fn jsonl(path: &Path, docs: &[Doc]) {
    let lines: Vec<String> = docs
        .iter()
        .map(|(uid, text, ents)| {
            let chars: Vec<char> = text.chars().collect();
            let anns: Vec<Value> = ents
                .iter()
                .enumerate()
                .map(|(i, (label, needle))| {
                    // code point offsets of the first occurrence of `needle`
                    let n: Vec<char> = needle.chars().collect();
                    let start = (0..chars.len())
                        .find(|&s| chars[s..].starts_with(&n))
                        .unwrap_or_else(|| panic!("{needle} in {text}"));
                    entity(
                        &format!("{uid}-{i}"),
                        label,
                        needle,
                        (start, start + n.len()),
                    )
                })
                .collect();
            text_document(uid, text, Value::from(anns)).to_string()
        })
        .collect();
    write_jsonl(path, &lines);
}

#[test]
fn script_text_renders_as_text_and_highlights_count_code_points() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\"> fièvre";
    let astral = "Patient 🤒🤒 : hépatite aiguë 𝔸 puis toux sèche 😷.";
    let gold: [Doc; 2] = [
        (
            "évil<1>",
            evil,
            &[("problem", "fièvre"), ("test", "<script>")],
        ),
        (
            "astral",
            astral,
            &[("problem", "hépatite aiguë"), ("problem", "toux sèche")],
        ),
    ];
    let pred: [Doc; 2] = [
        (
            "astral",
            astral,
            &[
                ("problem", "hépatite"),
                ("test", "🤒"),
                ("problem", "toux sèche"),
            ],
        ),
        ("évil<1>", evil, &[("treatment", "fièvre")]),
    ];
    let (g, p) = (dir.path().join("gold.jsonl"), dir.path().join("pred.jsonl"));
    jsonl(&g, &gold);
    jsonl(&p, &pred);
    let run = dir.path().join("empty-run");
    std::fs::create_dir(&run).unwrap();
    let page = dir.path().join("r.html");
    let o = medkit(&[
        "report",
        run.to_str().unwrap(),
        "--reference",
        g.to_str().unwrap(),
        "--predicted",
        p.to_str().unwrap(),
        "--output",
        page.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (v, dom) = selftest(&page);
    assert!(
        v["title"].as_str().unwrap().starts_with("medkit report"),
        "{v}"
    );
    assert_eq!(v["scriptsInDocs"], 0, "{v}");
    assert_eq!(v["documents"], 2);
    assert!(
        !dom.contains("<img src=\"x\""),
        "no element from document text"
    );
    assert_highlights(&v, &g, &p);
    // the DOM after the self-test shows the first page again: the text, escaped
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
}
