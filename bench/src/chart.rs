//! Two SVG charts versus N, drawn by hand (a few lines of SVG need no plotting crate):
//! one-event-to-all latency and burst delivery rate, for feige-std, feige-smol, Redis and
//! the floor. Both axes are logarithmic: N spans 100–5,000 and the figures decades.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use crate::results::{peer_sizes, peer_spread, Results};
use crate::stats::Spread;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// One line: its label, colour and (N, median, min, max) points.
struct Series {
    label: String,
    colour: &'static str,
    points: Vec<(f64, Spread)>,
}

const COLOURS: [&str; 4] = ["#1f77b4", "#2ca02c", "#d62728", "#7f7f7f"];

/// Writes `fanout_latency.svg` and `burst_rate.svg` into `out`.
pub fn write(r: &Results, out: &Path) -> io::Result<()> {
    let sizes = peer_sizes(&r.redis);
    let mut latency = Vec::new();
    let mut burst = Vec::new();
    for (i, series) in r.feige.iter().enumerate() {
        let colour = COLOURS.get(i).copied().unwrap_or("#000000");
        let join: Vec<(f64, Spread)> = sizes
            .iter()
            .filter_map(|&n| {
                let runs: Vec<f64> = series
                    .at(n)
                    .iter()
                    .filter(|x| !x.join_ms.is_empty())
                    .map(|x| x.join_p50_ms)
                    .collect();
                (!runs.is_empty()).then(|| (n as f64, Spread::of(&runs)))
            })
            .collect();
        let rate = sizes
            .iter()
            .filter_map(|&n| Some((n as f64, series.spread(n, |x| x.lines_per_sec / 1e6)?)))
            .collect();
        latency.push(Series {
            label: series.label.clone(),
            colour,
            points: join,
        });
        burst.push(Series {
            label: series.label.clone(),
            colour,
            points: rate,
        });
    }
    for (label, runs, colour) in [
        ("Redis", &r.redis, COLOURS[2]),
        ("floor", &r.floor, COLOURS[3]),
    ] {
        let points = |figure: fn(&crate::peers::PeerRun) -> f64| {
            sizes
                .iter()
                .filter_map(|&n| Some((n as f64, peer_spread(runs, n, figure)?)))
                .collect()
        };
        latency.push(Series {
            label: label.to_owned(),
            colour,
            points: points(|x| x.event_p50_ms),
        });
        burst.push(Series {
            label: label.to_owned(),
            colour,
            points: points(|x| x.burst_lines_per_sec / 1e6),
        });
    }
    fs::write(
        out.join("fanout_latency.svg"),
        svg(
            "One event to all N: p50 latency to the last receiver",
            "ms",
            &latency,
        ),
    )?;
    fs::write(
        out.join("burst_rate.svg"),
        svg(
            "Burst delivery (feige: during a login storm of N)",
            "M lines/s",
            &burst,
        ),
    )
}

/// Log-log chart with min–max bars.
fn svg(title: &str, unit: &str, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| &s.points);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, s) in all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(s.min.max(1e-9));
        y1 = y1.max(s.max.max(1e-9));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (1.0, 10.0, 1.0, 10.0);
    }
    // Whole decades on y, and a little room on x.
    let (y0, y1) = (
        10f64.powf(y0.log10().floor()),
        10f64.powf(y1.log10().ceil()),
    );
    let (x0, x1) = (x0 / 1.5, x1 * 1.5);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x.ln() - x0.ln()) / (x1.ln() - x0.ln()) * plot_w;
    let py = |y: f64| TOP + plot_h - (y.max(y0).ln() - y0.ln()) / (y1.ln() - y0.ln()) * plot_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14" text-anchor="middle">{title}</text>"#,
        LEFT + plot_w / 2.0
    );
    let mut decade = y0;
    while decade <= y1 * 1.0001 {
        let y = py(decade);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            trim(decade)
        );
        decade *= 10.0;
    }
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    for x in xs {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1:.1}" stroke="#eee"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{3}</text>"##,
            px(x),
            TOP + plot_h,
            TOP + plot_h + 16.0,
            x
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">N (receivers online, log scale)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{unit} (log scale)</text>"#,
        TOP + plot_h / 2.0
    );
    for (i, line) in series.iter().enumerate() {
        let path: Vec<String> = line
            .points
            .iter()
            .map(|(x, v)| format!("{:.1},{:.1}", px(*x), py(v.median)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            path.join(" "),
            line.colour
        );
        for (x, v) in &line.points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/><line x1="{0:.1}" y1="{:.1}" x2="{0:.1}" y2="{:.1}" stroke="{c}"/>"#,
                px(*x),
                py(v.median),
                py(v.min),
                py(v.max),
                c = line.colour
            );
        }
        let ly = TOP + 16.0 + 20.0 * i as f64;
        let lx = LEFT + plot_w + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            line.colour,
            lx + 26.0,
            ly + 4.0,
            line.label
        );
    }
    s.push_str("</svg>\n");
    s
}

/// `0.01`, `1`, `1000`: a decade without float noise.
fn trim(v: f64) -> String {
    let text = format!("{v:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
