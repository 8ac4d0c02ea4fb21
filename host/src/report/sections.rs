//! The report's sections as HTML: summary, training curves, scores and confusion, the document
//! viewer's frame (filled by the page's script), and the run's config, versions and timings.

use super::data::Comparison;
use super::html::{count_cell, esc, num_cell, table, text_cell, Cell};
use super::run_dir::TrainingRun;
use super::svg::{legend, line_chart, num, Series, PALETTE};
use super::Report;
use serde_json::Value;
use std::fmt::Write;

const AVERAGES: [&str; 4] = ["overall_", "macro_", "weighted_", "micro_"];

fn card(name: &str, value: &str) -> String {
    format!(
        r#"<div class="card"><div class="cv">{}</div><div class="cn">{}</div></div>"#,
        esc(value),
        esc(name)
    )
}

pub fn summary(r: &Report) -> String {
    let mut s = String::from(r#"<section id="summary" class="cards">"#);
    if let Some(c) = &r.comparison {
        s.push_str(&card("documents", &c.documents.to_string()));
        s.push_str(&card("gold entities", &c.gold_entities.to_string()));
        s.push_str(&card(
            "predicted entities",
            &c.predicted_entities.to_string(),
        ));
        s.push_str(&card("labels", &c.labels.len().to_string()));
        s.push_str(&card("entity micro F1", &format!("{:.3}", c.micro.f1)));
        s.push_str(&card(
            "entity macro F1",
            &format!("{:.3}", c.micro.macro_f1),
        ));
    }
    if let Some(last) = r.run.epochs.last() {
        s.push_str(&card("epochs", &last.epoch.to_string()));
        if let Some(f) = last.eval_metric("overall_f1-score") {
            s.push_str(&card("last eval F1 (seqeval)", &format!("{f:.3}")));
        }
    }
    s.push_str("</section>\n");
    s
}

/// Labels with a `<label>_f1-score` eval metric, in first-seen order.
fn per_label_names(run: &TrainingRun) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for e in &run.epochs {
        for k in e.eval.keys() {
            if let Some(label) = k.strip_suffix("_f1-score") {
                let average = AVERAGES.iter().any(|a| k.starts_with(a));
                if !average && !k.contains('/') && !names.iter().any(|n| n == label) {
                    names.push(label.to_string());
                }
            }
        }
    }
    names
}

fn series(
    run: &TrainingRun,
    name: &str,
    f: impl Fn(&super::run_dir::Epoch) -> Option<f64>,
) -> Series {
    Series {
        name: name.to_string(),
        points: run
            .epochs
            .iter()
            .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
            .collect(),
        dashed: false,
    }
}

fn chart(title: &str, mut list: Vec<Series>) -> String {
    list.retain(|s| !s.points.is_empty());
    match line_chart(title, &list) {
        Some(svg) => format!(r#"<figure>{svg}{}</figure>"#, legend(&list)),
        None => String::new(),
    }
}

pub fn training(run: &TrainingRun) -> String {
    let mut s = String::from(r#"<section id="training"><h2>Training</h2>"#);
    if run.epochs.is_empty() {
        s.push_str(r#"<p class="note">No training history (history.json) in the run directory.</p></section>"#);
        return s;
    }
    let mut loss = vec![
        series(run, "train loss", |e| e.train_metric("loss")),
        series(run, "eval loss", |e| e.eval_metric("loss")),
    ];
    loss[1].dashed = true;
    let mut overall = Vec::new();
    for avg in ["overall_", "macro_"] {
        for m in ["f1-score", "precision", "recall"] {
            let key = format!("{avg}{m}");
            overall.push(series(run, &format!("eval {key}"), |e| e.eval_metric(&key)));
        }
    }
    let train_f1 = series(run, "train overall_f1-score", |e| {
        e.train_metric("overall_f1-score")
    });
    overall.push(Series {
        dashed: true,
        ..train_f1
    });
    let labels: Vec<Series> = per_label_names(run)
        .iter()
        .map(|l| {
            let key = format!("{l}_f1-score");
            series(run, l, |e| e.eval_metric(&key))
        })
        .collect();
    let lr = vec![series(run, "learning rate", |e| e.learning_rate)];
    s.push_str(r#"<div class="charts">"#);
    s.push_str(&chart("Loss", loss));
    s.push_str(&chart("Eval scores (seqeval)", overall));
    s.push_str(&chart("Eval F1 per label (seqeval)", labels));
    s.push_str(&chart("Learning rate", lr));
    s.push_str("</div>");
    let opt =
        |v: Option<f64>, d: usize| v.map_or(("–".into(), String::new()), |v| num_cell(v, d));
    let rows: Vec<Vec<Cell>> = run
        .epochs
        .iter()
        .map(|e| {
            let speed = match (e.train_examples, e.train_seconds) {
                (Some(n), Some(t)) if t > 0.0 => Some(n as f64 / t),
                _ => None,
            };
            vec![
                count_cell(e.epoch as usize),
                opt(e.train_metric("loss"), 4),
                opt(e.eval_metric("loss"), 4),
                opt(e.eval_metric("overall_f1-score"), 4),
                e.learning_rate
                    .map_or(("–".into(), String::new()), |v| (num(v), v.to_string())),
                opt(e.train_seconds, 1),
                opt(e.eval_seconds, 1),
                opt(speed, 1),
            ]
        })
        .collect();
    s.push_str(&table(
        "epochs",
        &[
            "epoch",
            "train loss",
            "eval loss",
            "eval overall F1",
            "learning rate",
            "train s",
            "eval s",
            "train examples/s",
        ],
        &rows,
        true,
    ));
    s.push_str("</section>\n");
    s
}

fn confusion(c: &Comparison) -> String {
    let max = c
        .confusion
        .iter()
        .flatten()
        .chain(&c.missed)
        .chain(&c.spurious)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let cell = |n: usize, class: &str| {
        let a = (n as f64 / max as f64 * 0.85).min(0.85);
        format!(r#"<td class="{class}" style="background:rgba(78,121,167,{a:.2})">{n}</td>"#)
    };
    let mut s = String::from(
        r#"<table id="confusion" class="plain confusion"><thead><tr><th>gold ↓ / predicted →</th>"#,
    );
    for l in &c.labels {
        let _ = write!(s, "<th>{}</th>", esc(l));
    }
    s.push_str("<th>missed</th></tr></thead><tbody>");
    for (i, l) in c.labels.iter().enumerate() {
        let _ = write!(s, "<tr><th>{}</th>", esc(l));
        for (j, n) in c.confusion[i].iter().enumerate() {
            s.push_str(&cell(*n, if i == j { "diag" } else { "" }));
        }
        s.push_str(&cell(c.missed[i], "miss"));
        s.push_str("</tr>");
    }
    s.push_str("<tr><th>spurious</th>");
    for n in &c.spurious {
        s.push_str(&cell(*n, "miss"));
    }
    s.push_str("<td></td></tr></tbody></table>");
    s
}

const COLUMNS: [&str; 4] = ["precision", "recall", "f1-score", "support"];

/// An evaluate stage's metrics as a table: one row per prefix (`macro`, each label), one column
/// per measure; other values (accuracy) in a line below.
fn evaluation(name: &str, metrics: &Value) -> String {
    let mut rows: Vec<(String, [Option<f64>; 4])> = Vec::new();
    let mut other = Vec::new();
    for (k, v) in metrics.as_object().into_iter().flatten() {
        let found = COLUMNS.iter().enumerate().find_map(|(i, c)| {
            if k == c {
                Some(("all", i))
            } else {
                k.strip_suffix(c)?.strip_suffix('_').map(|p| (p, i))
            }
        });
        match (found, v.as_f64()) {
            (Some((prefix, i)), value) => {
                let at = match rows.iter().position(|(p, _)| p == prefix) {
                    Some(at) => at,
                    None => {
                        rows.push((prefix.to_string(), [None; 4]));
                        rows.len() - 1
                    }
                };
                rows[at].1[i] = value;
            }
            (None, Some(f)) => other.push(format!("{k} {f:.4}")),
            (None, None) => other.push(format!("{k} {v}")),
        }
    }
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(p, vals)| {
            let mut row = vec![text_cell(p)];
            for (i, v) in vals.iter().enumerate() {
                row.push(match v {
                    None => ("".into(), String::new()),
                    Some(v) if i == 3 => (format!("{v}"), v.to_string()),
                    Some(v) => num_cell(*v, 3),
                });
            }
            row
        })
        .collect();
    let mut s = format!("<div><h3>Evaluation: {}</h3>", esc(name));
    s.push_str(&table(
        "",
        &["", "precision", "recall", "F1", "support"],
        &cells,
        true,
    ));
    if !other.is_empty() {
        let _ = write!(s, r#"<p class="note">{}</p>"#, esc(&other.join(", ")));
    }
    s.push_str("</div>");
    s
}

pub fn scores(r: &Report) -> String {
    let mut s = String::from(r#"<section id="scores"><h2>Scores</h2>"#);
    if !r.evaluations.is_empty() {
        s.push_str(r#"<div class="evals">"#);
        for (name, metrics) in &r.evaluations {
            s.push_str(&evaluation(name, metrics));
        }
        s.push_str("</div>");
    }
    if let Some(c) = &r.comparison {
        s.push_str(
            "<h3>Per label (entity level: a true positive has the gold spans and label)</h3>",
        );
        let mut rows: Vec<Vec<Cell>> = c
            .scores
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let swatch = format!(
                    r#"<i class="sw" style="background:{}"></i>{}"#,
                    PALETTE[i % PALETTE.len()],
                    esc(&l.label)
                );
                vec![
                    (swatch, l.label.clone()),
                    num_cell(l.precision, 3),
                    num_cell(l.recall, 3),
                    num_cell(l.f1, 3),
                    count_cell(l.support),
                    count_cell(l.predicted),
                    count_cell(l.exact),
                ]
            })
            .collect();
        rows.push(vec![
            text_cell("micro average"),
            num_cell(c.micro.precision, 3),
            num_cell(c.micro.recall, 3),
            num_cell(c.micro.f1, 3),
            count_cell(c.gold_entities),
            count_cell(c.predicted_entities),
            count_cell(c.kind_counts[0]),
        ]);
        s.push_str(&table(
            "labels",
            &[
                "label",
                "precision",
                "recall",
                "F1",
                "support",
                "predicted",
                "exact",
            ],
            &rows,
            true,
        ));
        let _ = write!(
            s,
            "<p class=\"note\">Macro F1 over labels with support: {:.3}.</p>",
            c.micro.macro_f1
        );
        s.push_str("<h3>Label confusion (entity level)</h3>");
        s.push_str(r#"<p class="note">Paired gold and predicted entities (same or overlapping spans) by label; a gold entity no prediction overlaps is missed, a prediction no gold entity overlaps is spurious.</p>"#);
        s.push_str(&confusion(c));
    }
    if r.evaluations.is_empty() && r.comparison.is_none() {
        s.push_str(r#"<p class="note">No reference and predicted documents given.</p>"#);
    }
    s.push_str("</section>\n");
    s
}

/// The viewer's frame; the page's script fills the controls and the documents.
pub fn viewer(c: &Comparison) -> String {
    let mut kinds = String::new();
    for (i, k) in super::compare::Kind::ALL.iter().enumerate() {
        let _ = write!(
            kinds,
            r#"<span class="kl"><mark class="ent k-{}">{}</mark> {}</span>"#,
            k.key(),
            esc(k.title()),
            c.kind_counts[i]
        );
    }
    format!(
        r#"<section id="documents"><h2>Documents</h2>
<p class="kinds">{kinds}</p>
<div id="controls">
<label>label <select id="f-label"></select></label>
<label>error type <select id="f-kind"></select></label>
<label>text <input id="f-text" type="search" placeholder="uid or text"></label>
<label>per page <select id="f-size"><option>10</option><option selected>25</option><option>50</option><option>100</option></select></label>
<span class="pager"><button id="prev" type="button">◀</button> <span id="page-info"></span> <button id="next" type="button">▶</button></span>
<span id="match-info"></span>
</div>
<div id="docs"></div>
</section>
"#
    )
}

fn pre(title: &str, text: &str) -> String {
    format!(
        "<details open><summary>{}</summary><pre>{}</pre></details>",
        esc(title),
        esc(text)
    )
}

pub fn run_info(r: &Report) -> String {
    let mut s = String::from(r#"<section id="run"><h2>Run</h2>"#);
    let rows: Vec<Vec<Cell>> = r
        .sources
        .iter()
        .chain(&r.versions)
        .map(|(k, v)| vec![text_cell(k), text_cell(v)])
        .collect();
    s.push_str(&table("versions", &[], &rows, false));
    if let Some(text) = &r.config_text {
        s.push_str(&pre("pipeline (resolved)", text));
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    if let Some(c) = &r.run.trainer_config {
        s.push_str(&pre("trainer_config.json", &pretty(c)));
    }
    if let Some(m) = &r.run.model_config {
        let keys = [
            "model_type",
            "architectures",
            "_name_or_path",
            "transformers_version",
            "hidden_size",
            "num_hidden_layers",
            "id2label",
        ];
        let picked: serde_json::Map<String, Value> = keys
            .iter()
            .filter_map(|k| m.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        s.push_str(&pre(
            "model config.json (excerpt)",
            &pretty(&Value::Object(picked)),
        ));
    }
    if !r.run.checkpoints.is_empty() {
        let names: Vec<&str> = r.run.checkpoints.iter().map(|c| c.name.as_str()).collect();
        s.push_str(&pre("checkpoints", &names.join("\n")));
    }
    if !r.run.notes.is_empty() {
        s.push_str(&pre("not found or unreadable", &r.run.notes.join("\n")));
    }
    s.push_str("</section>\n");
    s
}
