//! Inline SVG line charts (one value per epoch), drawn on the Rust side: no script, no network.

use super::html::esc;
use std::fmt::Write;

pub struct Series {
    pub name: String,
    /// (epoch, value)
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// Colours of series and labels (Tableau 10, readable on white).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

const W: f64 = 460.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;

/// A short number for axis ticks and tooltips.
pub fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() < 1e-3 || v.abs() >= 1e5 {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{:.3}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A line chart of `series` titled `title`; `None` when no series has a point.
pub fn line_chart(title: &str, series: &[Series]) -> Option<String> {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if all.is_empty() {
        return None;
    }
    let (mut x0, mut x1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (mut y0, mut y1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if x1 - x0 < 1.0 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    if y0 >= 0.0 && y0 < (y1 - y0) {
        y0 = 0.0; // start at zero when it costs little room
    }
    if (y1 - y0).abs() < 1e-12 {
        let pad = if y1 == 0.0 { 1.0 } else { y1.abs() * 0.1 };
        y0 -= pad;
        y1 += pad;
    }
    // round axis ends to a tick step of 1, 2, 2.5 or 5 × 10^k
    let raw = (y1 - y0) / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let tick = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|t| *t >= raw)
        .unwrap_or(10.0 * mag);
    y0 = (y0 / tick).floor() * tick;
    y1 = (y1 / tick).ceil() * tick;
    let ticks = ((y1 - y0) / tick).round() as usize;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><text x="{LEFT}" y="16" class="ct">{t}</text>"#,
        t = esc(title)
    );
    for i in 0..=ticks {
        let v = y0 + tick * i as f64;
        let y = sy(v);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            num(v)
        );
    }
    // integer epochs on the x axis, at most ~10 ticks
    let step = ((x1 - x0) / 10.0).ceil().max(1.0);
    let mut x = x0.ceil();
    while x <= x1 {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{x}</text>"#,
            sx(x),
            H - BOTTOM + 14.0
        );
        x += step;
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">epoch</text>"#,
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, se) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = se
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let dash = if se.dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
            path.join(" ")
        );
        for &(x, y) in &pts {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{} — epoch {x}: {}</title></circle>"#,
                sx(x),
                sy(y),
                esc(&se.name),
                num(y)
            );
        }
    }
    s.push_str("</svg>");
    Some(s)
}

/// The legend of a chart, as HTML (wraps better than SVG text).
pub fn legend(series: &[Series]) -> String {
    let mut s = String::from(r#"<div class="legend">"#);
    for (i, se) in series.iter().enumerate() {
        let _ = write!(
            s,
            r#"<span><i style="background:{}"></i>{}{}</span>"#,
            PALETTE[i % PALETTE.len()],
            esc(&se.name),
            if se.dashed { " (dashed)" } else { "" }
        );
    }
    s.push_str("</div>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_has_a_polyline_per_series_and_escapes_names() {
        let series = [
            Series {
                name: "train <loss>".into(),
                points: vec![(1.0, 2.0), (2.0, 1.0)],
                dashed: false,
            },
            Series {
                name: "eval".into(),
                points: vec![(1.0, 1.5)],
                dashed: true,
            },
        ];
        let svg = line_chart("loss", &series).unwrap();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("train &lt;loss&gt;") && !svg.contains("<loss>"));
        assert!(line_chart("x", &[]).is_none());
        assert_eq!(num(0.123456), "0.123");
        assert_eq!(num(1e-4), "1e-4");
        assert_eq!(num(1.05e-4), "1.05e-4");
    }
}
