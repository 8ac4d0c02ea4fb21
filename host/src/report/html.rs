//! The page skeleton and the HTML helpers: escaping, JSON embedded in a `<script>` element,
//! tables. Everything is inline (CSS, JS, SVG): the file opens with no network.

use super::{sections, Report};
use serde_json::Value;
use std::fmt::Write;

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text safe inside `<script type="application/json">`: `<`, `>` and `&` (which JSON only
/// has inside strings) become `\u003c`, `\u003e`, `\u0026`, so no `</script>` or `<!--` can
/// appear; `JSON.parse` gives the same value back.
pub fn script_json(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// A cell: `(shown text, sort value)`; the sort value is numeric when it parses as a number.
pub type Cell = (String, String);

pub fn text_cell(s: &str) -> Cell {
    (esc(s), s.to_string())
}

pub fn num_cell(v: f64, digits: usize) -> Cell {
    if v.is_finite() {
        (format!("{v:.digits$}"), format!("{v}"))
    } else {
        ("–".into(), String::new())
    }
}

pub fn count_cell(n: usize) -> Cell {
    (n.to_string(), n.to_string())
}

/// A table; `sortable` adds click-to-sort headers (numeric or text by each cell's sort value).
pub fn table(id: &str, head: &[&str], rows: &[Vec<Cell>], sortable: bool) -> String {
    let mut s = String::new();
    let id = if id.is_empty() {
        String::new()
    } else {
        format!(r#" id="{id}""#)
    };
    let _ = write!(
        s,
        r#"<table{id} class="{}">"#,
        if sortable { "sortable" } else { "plain" }
    );
    if !head.is_empty() {
        s.push_str("<thead><tr>");
        for h in head {
            let _ = write!(s, "<th>{}</th>", esc(h));
        }
        s.push_str("</tr></thead>");
    }
    s.push_str("<tbody>");
    for row in rows {
        s.push_str("<tr>");
        for (shown, v) in row {
            let _ = write!(s, r#"<td data-v="{}">{shown}</td>"#, esc(v));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

pub fn page(r: &Report) -> String {
    let mut body = String::new();
    body.push_str(&sections::summary(r));
    body.push_str(&sections::training(&r.run));
    body.push_str(&sections::scores(r));
    if let Some(c) = &r.comparison {
        body.push_str(&sections::viewer(c));
    }
    body.push_str(&sections::run_info(r));
    let data = r
        .comparison
        .as_ref()
        .map_or(Value::Null, |c| c.viewer.clone());
    format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="medkit-rs {version}">
<title>{title}</title>
<script>window.__reportErrors=[];window.addEventListener("error",function(e){{window.__reportErrors.push(String(e.message||e))}});</script>
<style>{CSS}</style>
</head><body>
<header><h1>{title}</h1><nav><a href="#training">Training</a> <a href="#scores">Scores</a> <a href="#documents">Documents</a> <a href="#run">Run</a></nav></header>
<main>
{body}</main>
<pre id="selftest-result" hidden></pre>
<script type="application/json" id="report-data">{data}</script>
<script>{JS}</script>
</body></html>
"##,
        version = env!("CARGO_PKG_VERSION"),
        title = esc(&r.title),
        data = script_json(&data),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        let v = serde_json::json!({"t": "</script><!-- é 🤒 & \u{2028}"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}
