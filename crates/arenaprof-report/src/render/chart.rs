//! Inline SVG charts for the HTML report: no network, no external script.
//!
//! Every drawn series carries `class="series"`, which the page's tiny inline
//! script checks (it sets `data-rendered="true"` on each chart whose series
//! have a non-empty bounding box), so a headless browser can tell a chart
//! was really laid out.
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let svg = arenaprof_report::render::chart::timeline_svg(&r.timeline);
//! assert!(svg.starts_with("<svg"));
//! ```

use crate::budget::{MAX_CHART_TAGS, MAX_MARKS_SHOWN};
use crate::report::{ArenaRow, TimelineInfo};
use crate::sanitize;
use crate::units::{format_bytes, format_ns};
use std::collections::HashMap;
use std::fmt::Write;

/// Series colours (colour-blind friendly, Okabe–Ito).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

const W: f64 = 960.0;
const L: f64 = 150.0;
const R: f64 = 20.0;
const T: f64 = 26.0;
const B: f64 = 40.0;

/// Escapes text for HTML and SVG: markup characters as entities, and the
/// unsafe characters of [`crate::sanitize`] other than newline and tab as
/// visible escapes (`\x1b`), so every character left is legal XML.
///
/// ```
/// use arenaprof_report::render::chart::esc;
/// assert_eq!(esc("<a href=\"x\">&'\x1b"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\\x1b");
/// ```
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' | '\t' => o.push(c),
            c if sanitize::is_unsafe(c) => o.push_str(&sanitize::name(&c.to_string())),
            c => o.push(c),
        }
    }
    o
}

/// [`esc`] of [`sanitize::name`]: a name cut for a chart.
fn esc_name(s: &str) -> String {
    esc(&sanitize::name(s))
}

/// Height of one tag's strip in the timeline chart.
const STRIP: f64 = 64.0;
/// Gap between strips.
const GAP: f64 = 14.0;

/// Live bytes per tag over time as small multiples: one strip per tag, each
/// scaled to that tag's own maximum (so a 48 MiB jump shows beside an 800 MB
/// array), a shared time axis, marks as dashed lines through every strip and
/// the biggest jumps circled.
///
/// Bounded whatever the report holds: at most [`MAX_CHART_TAGS`] strips (a
/// line counts the others), each path at most [`MAX_PATH_STEPS`] steps (the
/// points of one pixel column are drawn as their first, highest, lowest and
/// last value), at most [`MAX_MARKS_SHOWN`] marks and [`MAX_JUMPS_DRAWN`]
/// jumps, names cut at [`sanitize::MAX_NAME_CHARS`].
pub fn timeline_svg(tl: &TimelineInfo) -> String {
    let shown = tl.tags.len().min(MAX_CHART_TAGS);
    let hidden = tl.tags.len() - shown;
    let n = shown.max(1) as f64;
    let extra = if hidden > 0 { 18.0 } else { 0.0 };
    let h = T + n * (STRIP + GAP) + B - GAP + extra;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="timeline-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="live bytes per tag over time">"#
    );
    let (Some(first), Some(last)) = (tl.points.first(), tl.points.last()) else {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">no timeline points recorded</text></svg>"#,
            W / 2.0,
            h / 2.0
        );
        return s;
    };
    let t0 = first.t_ns;
    let span = last.t_ns.saturating_sub(t0).max(1) as f64;
    let x = |t: u64| L + (t.saturating_sub(t0) as f64 / span) * (W - L - R);
    let top = |col: usize| T + col as f64 * (STRIP + GAP);
    let value = |p: &crate::report::TimelinePointRow, col: usize| {
        p.live_bytes.get(col).copied().unwrap_or(0)
    };
    let maxes: Vec<u64> = (0..shown)
        .map(|c| tl.points.iter().map(|p| value(p, c)).max().unwrap_or(0))
        .collect();
    let y = |col: usize, b: u64| {
        let m = maxes.get(col).copied().unwrap_or(0).max(1) as f64;
        top(col) + (1.0 - b as f64 / m) * STRIP
    };
    let axis_bottom = h - B - extra;
    // Time axis.
    for k in 0..=4 {
        let t = t0.saturating_add((span * k as f64 / 4.0) as u64);
        let xx = x(t);
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{T}" y2="{:.1}" stroke="#eee"/><text x="{xx:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            axis_bottom + 4.0,
            axis_bottom + 18.0,
            esc(&format_ns(t))
        );
    }
    // Strips.
    for (col, tag) in tl.tags[..shown].iter().enumerate() {
        let colour = PALETTE[col % PALETTE.len()];
        let y0 = top(col);
        let max = maxes[col];
        let _ = write!(
            s,
            r##"<rect x="{L}" y="{y0:.1}" width="{}" height="{STRIP}" fill="#fafafa" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="12" text-anchor="end" fill="{colour}" font-weight="bold">{}</text><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#555">max {}</text>"##,
            W - L - R,
            L - 6.0,
            y0 + 14.0,
            esc(&truncate(tag, 18)),
            L - 6.0,
            y0 + 28.0,
            esc(&format_bytes(max))
        );
        let d = series_path(&tl.points, col, &x, &|b| y(col, b));
        let end = tl.points.last().map_or(0, |p| value(p, col));
        let tag = esc_name(tag);
        let _ = write!(
            s,
            r#"<path class="series" data-tag="{tag}" d="{d}" fill="none" stroke="{colour}" stroke-width="2"><title>{tag}: max {}, {} at the end</title></path>"#,
            esc(&format_bytes(max)),
            esc(&format_bytes(end))
        );
    }
    if hidden > 0 {
        let _ = write!(
            s,
            r##"<text x="{L}" y="{:.1}" font-size="11" fill="#555">… and {hidden} more tags, not drawn (see the JSON report)</text>"##,
            h - 6.0
        );
    }
    // Marks through every strip.
    for m in tl
        .marks
        .iter()
        .filter(|m| m.t_ns >= t0 && m.t_ns <= last.t_ns)
        .take(MAX_MARKS_SHOWN)
    {
        let xx = x(m.t_ns);
        let label = esc_name(&m.label);
        let _ = write!(
            s,
            r##"<g class="mark"><line x1="{xx:.1}" x2="{xx:.1}" y1="{:.1}" y2="{:.1}" stroke="#777" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#444">{label}</text><title>mark: {label} at {}</title></g>"##,
            T - 6.0,
            axis_bottom,
            xx + 3.0,
            T - 8.0,
            esc(&format_ns(m.t_ns))
        );
    }
    // Jumps.
    let mut col_of: HashMap<&str, usize> = HashMap::new();
    for (col, t) in tl.tags[..shown].iter().enumerate() {
        col_of.entry(t.as_str()).or_insert(col);
    }
    for j in tl.jumps.iter().take(MAX_JUMPS_DRAWN) {
        let Some(&col) = col_of.get(j.tag.as_str()) else {
            continue;
        };
        let colour = PALETTE[col % PALETTE.len()];
        let (xx, yy) = (x(j.to_ns), y(col, j.to_bytes));
        let near_left = xx - L < 90.0;
        let anchor = if near_left { "start" } else { "end" };
        let _ = write!(
            s,
            r##"<g class="jump"><circle cx="{xx:.1}" cy="{yy:.1}" r="6" fill="none" stroke="{colour}" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="11" fill="{colour}" text-anchor="{anchor}">+{}</text><title>{}</title></g>"##,
            if near_left { xx + 9.0 } else { xx - 9.0 },
            (yy + 14.0).min(top(col) + STRIP - 3.0),
            esc(&format_bytes(j.delta_bytes)),
            esc(&sanitize::line(&j.description))
        );
    }
    s.push_str("</svg>");
    s
}

/// Most steps (`H` and `V` commands) in one series' path: two per point up
/// to two points per pixel column, else at most five per pixel column (to
/// the column, then its first, highest, lowest and last value).
pub const MAX_PATH_STEPS: usize = 5 * (PLOT_COLUMNS + 1);
/// Pixel columns of the plot area.
const PLOT_COLUMNS: usize = (W - L - R) as usize;
/// Jumps circled in the timeline chart.
pub const MAX_JUMPS_DRAWN: usize = 20;

/// The step path of one column: exact when there are few points, else one
/// pixel column at a time (first, highest, lowest and last value).
fn series_path(
    points: &[crate::report::TimelinePointRow],
    col: usize,
    x: &dyn Fn(u64) -> f64,
    y: &dyn Fn(u64) -> f64,
) -> String {
    let value = |p: &crate::report::TimelinePointRow| p.live_bytes.get(col).copied().unwrap_or(0);
    let mut d = String::new();
    if points.len() <= 2 * PLOT_COLUMNS {
        for (i, p) in points.iter().enumerate() {
            let (xx, yy) = (x(p.t_ns), y(value(p)));
            if i == 0 {
                let _ = write!(d, "M{xx:.1},{yy:.1}");
            } else {
                let _ = write!(d, "H{xx:.1}V{yy:.1}");
            }
        }
        return d;
    }
    // Per pixel column: first, highest, lowest and last value, in the order
    // the points come (JSON input need not be sorted).
    let mut cols: Vec<Option<(u64, u64, u64, u64)>> = vec![None; PLOT_COLUMNS + 1];
    for p in points {
        let px = (x(p.t_ns) - L).floor().clamp(0.0, PLOT_COLUMNS as f64) as usize;
        let v = value(p);
        match &mut cols[px] {
            Some(c) => {
                c.1 = c.1.max(v);
                c.2 = c.2.min(v);
                c.3 = v;
            }
            slot => *slot = Some((v, v, v, v)),
        }
    }
    for (px, c) in cols.iter().enumerate() {
        let Some((first, hi, lo, last)) = *c else {
            continue;
        };
        let xx = L + px as f64;
        if d.is_empty() {
            let _ = write!(d, "M{xx:.1},{:.1}", y(first));
        } else {
            let _ = write!(d, "H{xx:.1}V{:.1}", y(first));
        }
        let mut at = first;
        for v in [hi, lo, last] {
            if v != at {
                let _ = write!(d, "V{:.1}", y(v));
                at = v;
            }
        }
    }
    d
}

fn truncate(s: &str, n: usize) -> String {
    sanitize::name_max(s, n).into_owned()
}

/// Horizontal bars for the largest arenas: reachable part and wasted part.
pub fn arenas_svg(arenas: &[ArenaRow], max: usize) -> String {
    let shown: Vec<&ArenaRow> = arenas
        .iter()
        .filter(|a| a.capacity_bytes > 0)
        .take(max)
        .collect();
    let h = 30.0 + shown.len() as f64 * 26.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="arenas-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="arena capacity: reachable and wasted">"#
    );
    if shown.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{}" y="20" text-anchor="middle">no arenas</text></svg>"#,
            W / 2.0
        );
        return s;
    }
    let cmax = shown
        .iter()
        .map(|a| a.capacity_bytes)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let lw = 260.0;
    let bw = W - lw - 120.0;
    for (i, a) in shown.iter().enumerate() {
        let yy = 10.0 + i as f64 * 26.0;
        let full = a.capacity_bytes as f64 / cmax * bw;
        let reach = a.reachable_bytes as f64 / cmax * bw;
        let label = format!(
            "#{} {} {}",
            a.id,
            sanitize::name(&a.op),
            sanitize::name(&a.site)
        );
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text><g class="series"><rect x="{lw}" y="{yy:.1}" width="{:.1}" height="18" fill="#D55E00"><title>wasted {}</title></rect><rect x="{lw}" y="{yy:.1}" width="{:.1}" height="18" fill="#009E73"><title>reachable {}</title></rect></g><text x="{:.1}" y="{:.1}" font-size="11">{} wasted</text>"##,
            lw - 6.0,
            yy + 13.0,
            esc(&label),
            full.max(1.0),
            esc(&format_bytes(a.wasted_bytes)),
            reach,
            esc(&format_bytes(a.reachable_bytes)),
            lw + full.max(1.0) + 6.0,
            yy + 13.0,
            esc(&format_bytes(a.wasted_bytes))
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{lw}" y="{:.1}" width="12" height="8" fill="#009E73"/><text x="{}" y="{:.1}" font-size="11">reachable by live views</text><rect x="{}" y="{:.1}" width="12" height="8" fill="#D55E00"/><text x="{}" y="{:.1}" font-size="11">wasted (no live view reaches it)</text></svg>"##,
        h - 14.0,
        lw + 16.0,
        h - 6.0,
        lw + 190.0,
        h - 14.0,
        lw + 206.0,
        h - 6.0
    );
    s
}
