//! The page as a whole, from a hand-made run directory and documents (the browser checks are in
//! tests/tests/report_html.rs).

use super::*;
use medkit_sdk::{Annotation, AnySpan, Segment, Span};
use serde_json::json;

pub(crate) fn doc(uid: &str, text: &str, ents: &[(&str, usize, usize)]) -> TextDocument {
    let chars: Vec<char> = text.chars().collect();
    TextDocument {
        uid: uid.into(),
        text: text.into(),
        metadata: "{}".into(),
        anns: ents
            .iter()
            .enumerate()
            .map(|(i, &(l, s, e))| {
                Annotation::Entity(Segment {
                    uid: format!("{uid}-{i}").into(),
                    label: l.into(),
                    spans: vec![AnySpan::Span(Span::new(s as u64, e as u64))].into(),
                    text: chars[s..e].iter().collect::<String>().into(),
                    attrs: Default::default(),
                    metadata: "{}".into(),
                })
            })
            .collect::<Vec<_>>()
            .into(),
        attrs: Default::default(),
    }
}

fn run_dir(d: &Path) {
    std::fs::write(
        d.join("history.json"),
        json!([
            {"train": {"loss": 2.0}, "eval": {"loss": 1.6, "overall_f1-score": 0.1,
             "overall_precision": 0.2, "overall_recall": 0.1, "problem_f1-score": 0.1,
             "test_f1-score": 0.0, "problem_support": 3.0}},
            {"train": {"loss": 1.1}, "eval": {"loss": 1.2, "overall_f1-score": 0.5,
             "overall_precision": 0.5, "overall_recall": 0.5, "problem_f1-score": 0.6,
             "test_f1-score": 0.4, "problem_support": 3.0}}
        ])
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        d.join("timings.json"),
        json!([
            {"epoch": 1, "train_seconds": 2.0, "eval_seconds": 0.5, "train_examples": 40,
             "train_tokens": 400, "learning_rate": 1e-4},
            {"epoch": 2, "train_seconds": 2.0, "eval_seconds": 0.5, "train_examples": 40,
             "train_tokens": 400, "learning_rate": 5e-5}
        ])
        .to_string(),
    )
    .unwrap();
}

/// The text of `<tag id="id" ...>TEXT</tag>`.
fn element<'a>(page: &'a str, id: &str, end: &str) -> &'a str {
    let at = page.find(&format!("id=\"{id}\"")).expect(id);
    let from = at + page[at..].find('>').unwrap() + 1;
    &page[from..from + page[from..].find(end).unwrap()]
}

#[test]
fn page_holds_curves_tables_and_escaped_documents() {
    let tmp = tempfile::tempdir().unwrap();
    run_dir(tmp.path());
    let evil = "<script>document.title='pwned'</script> fièvre 🤒 aiguë";
    let gold = [
        doc("d<1>", evil, &[("problem", 40, 46), ("problem", 49, 54)]),
        doc("d2", "Une échographie abdominale.", &[("test", 4, 26)]),
    ];
    let pred = [
        doc("d2", "Une échographie abdominale.", &[("problem", 4, 15)]),
        doc("d<1>", evil, &[("problem", 40, 46), ("test", 47, 48)]),
    ];
    let mut r = Report {
        title: "t <b>".into(),
        run: run_dir::read(tmp.path()),
        evaluations: vec![("test".into(), json!({"macro_f1-score": 0.25, "support": 3}))],
        config_text: Some("[report]\noutput = \"<x>\"\n".into()),
        versions: vec![("medkit-rs".into(), "0.1.0".into())],
        ..Default::default()
    };
    r.compare(&gold, &pred).unwrap();
    let out = tmp.path().join("sub/report.html");
    let bytes = r.write(&out).unwrap();
    let page = std::fs::read_to_string(&out).unwrap();
    assert_eq!(bytes, page.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "not the temporary file's 0600");
    }

    // No markup from the data: three script elements (error catcher, data, viewer), no other.
    assert_eq!(page.matches("<script").count(), 3, "{page}");
    assert!(!page.contains("pwned'</script>"));
    assert!(page.contains("<title>t &lt;b&gt;</title>"));
    assert!(page.contains("output = &quot;&lt;x&gt;&quot;"));
    // Nothing fetched: no URL other than the SVG namespace.
    let urls: Vec<&str> = page
        .match_indices("http")
        .map(|(i, _)| &page[i..(i + 30).min(page.len())])
        .collect();
    assert!(
        urls.iter()
            .all(|u| u.starts_with("http://www.w3.org/2000/svg")),
        "{urls:?}"
    );
    // The embedded data gives the documents back with code point offsets.
    let data: Value = serde_json::from_str(element(&page, "report-data", "</script>")).unwrap();
    assert_eq!(data, r.comparison.as_ref().unwrap().viewer);
    assert_eq!(data["docs"][0]["t"], evil);
    assert_eq!(data["docs"][0]["u"], "d<1>");
    assert_eq!(data["labels"], json!(["problem", "test"]));
    // 🤒 (one code point, two UTF-16 units) is at 47: the spurious "test" entity covers it.
    assert_eq!(evil.chars().nth(47), Some('🤒'));
    assert_eq!(data["docs"][0]["p"][1], json!([1, 5, -1, [47, 48]]));
    // curves: loss, eval scores, per label, learning rate
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 4);
    assert!(page.contains(">problem<") && page.contains("learning rate"));
    // per-label table (sortable), confusion, evaluation metrics
    let labels = element(&page, "labels", "</table>");
    assert!(labels.contains("micro average"));
    assert!(page.contains("<table id=\"labels\" class=\"sortable\">"));
    let confusion = element(&page, "confusion", "</table>");
    assert!(confusion.contains("spurious") && confusion.contains("missed"));
    // the evaluate stage's metrics: a row per prefix, a column per measure
    assert!(page.contains("Evaluation: test"));
    assert!(page.contains(r#"<tr><td data-v="macro">macro</td><td data-v=""></td><td data-v=""></td><td data-v="0.25">0.250</td>"#), "{page}");
    assert!(page.contains(r#"<td data-v="all">all</td><td data-v=""></td><td data-v=""></td><td data-v=""></td><td data-v="3">3</td>"#));
    let c = r.comparison.as_ref().unwrap();
    // d<1>: fièvre exact, aiguë missed, 🤒 spurious; d2: échographie… wrong label and boundary
    assert_eq!(c.kind_counts, [1, 0, 0, 1, 1, 1]);
    assert_eq!(c.confusion, [[1, 0], [1, 0]]);
}

#[test]
fn a_run_without_documents_or_history_still_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let r = Report {
        title: "empty".into(),
        run: run_dir::read(tmp.path()),
        ..Default::default()
    };
    let page = r.render();
    assert!(page.contains("No training history"));
    assert!(!page.contains("id=\"documents\""));
    assert!(page.contains("<script type=\"application/json\" id=\"report-data\">null</script>"));
}
