//! A minimal line chart in SVG: one panel, several series over epochs, with axes and a legend.

use std::fmt::Write;

pub struct Series {
    pub name: String,
    /// (epoch, value); non-finite values are skipped.
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
pub const PANEL_W: f64 = 460.0;
pub const PANEL_H: f64 = 320.0;
const M_LEFT: f64 = 55.0;
const M_RIGHT: f64 = 15.0;
const M_TOP: f64 = 30.0;
const M_BOTTOM: f64 = 90.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draws a panel whose top-left corner is (x0, y0); `y_range` fixes the y axis (else from data).
pub fn panel(
    out: &mut String,
    x0: f64,
    y0: f64,
    title: &str,
    series: &[Series],
    y_range: Option<(f64, f64)>,
) {
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.1.is_finite())
    };
    let (mut xmin, mut xmax) =
        finite().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (mut ymin, mut ymax) = y_range.unwrap_or_else(|| {
        finite().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)))
    });
    if xmin > xmax {
        (xmin, xmax, ymin, ymax) = (1.0, 2.0, 0.0, 1.0);
    }
    if xmax - xmin < 1.0 {
        xmax = xmin + 1.0;
    }
    if ymax - ymin < 1e-9 {
        let pad = ymax.abs().max(1.0) * 0.05;
        ymin -= pad;
        ymax += pad;
    }
    let (pw, ph) = (PANEL_W - M_LEFT - M_RIGHT, PANEL_H - M_TOP - M_BOTTOM);
    let sx = |x: f64| x0 + M_LEFT + (x - xmin) / (xmax - xmin) * pw;
    let sy = |y: f64| y0 + M_TOP + (1.0 - (y - ymin) / (ymax - ymin)) * ph;
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle">{}</text>"##,
        x0 + PANEL_W / 2.0,
        y0 + 18.0,
        escape(title)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{:.1}" y="{:.1}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#888"/>"##,
        x0 + M_LEFT,
        y0 + M_TOP
    );
    for i in 0..=4 {
        let y = ymin + (ymax - ymin) * i as f64 / 4.0;
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{y:.3}</text>"##,
            x0 + M_LEFT - 4.0,
            sy(y) + 3.0
        );
    }
    let step = ((xmax - xmin) / 10.0).ceil().max(1.0);
    let mut x = xmin;
    while x <= xmax + 1e-9 {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{x:.0}</text>"##,
            sx(x),
            y0 + M_TOP + ph + 14.0
        );
        x += step;
    }
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">epoch</text>"##,
        x0 + M_LEFT + pw / 2.0,
        y0 + M_TOP + ph + 28.0
    );
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let dash = if s.dashed {
            r#" stroke-dasharray="5,3""#
        } else {
            ""
        };
        let pts: Vec<String> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            out,
            r##"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"##,
            pts.join(" ")
        );
        for p in &pts {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                out,
                r##"<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>"##
            );
        }
        let ly = y0 + M_TOP + ph + 42.0 + (i / 2) as f64 * 14.0;
        let lx = x0 + M_LEFT + (i % 2) as f64 * pw / 2.0;
        let _ = writeln!(
            out,
            r##"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"{dash}/><text x="{:.1}" y="{ly:.1}" font-size="10">{}</text>"##,
            ly - 3.0,
            lx + 18.0,
            ly - 3.0,
            lx + 22.0,
            escape(&s.name)
        );
    }
}
