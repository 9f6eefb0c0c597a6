//! Inline SVG charts for the HTML report: no network, no external script.
//!
//! The timeline charts ([`combined_svg`], [`timeline_svg`] and the VmSize/RSS
//! chart) are drawn for the whole time range and read without script. Each
//! has `class="tchart"` and carries its range (`data-t0`, `data-t1`, ns); its
//! curves lie in a nested `<svg class="plot">` whose x axis is in plot units
//! (0 to [`FX`]), so the page's script zooms every chart to one time range by
//! setting the plots' `viewBox` and rewriting the time labels, without
//! redrawing a path. Mark labels are staggered into rows ([`marks`]) so that
//! none overlaps another, at any zoom.
//!
//! Every drawn series carries `class="series"`, which the page's script
//! checks (it sets `data-rendered="true"` on each chart whose series have a
//! non-empty bounding box), so a headless browser can tell a chart was
//! really laid out.

pub mod marks;

use crate::budget::{MAX_CHART_TAGS, MAX_MARKS_SHOWN};
use crate::model::{ArenaRow, MarkRow, TimelineInfo, TimelinePointRow};
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

/// Escapes text for HTML and SVG: markup characters as entities, and the
/// unsafe characters of [`crate::sanitize`] other than newline and tab as
/// visible escapes (`\x1b`), so every character left is legal XML.
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
/// Width of the plot area in pixels.
const PW: f64 = W - L - R;
/// Width of the plot area in its own units: a time `t` is drawn at
/// `(t - t0) / (t1 - t0) * FX`, and zooming changes only the plot's
/// `viewBox` (the page's script), not the paths.
pub const FX: f64 = 1000.0;
/// Height of one row of mark labels.
const MARK_ROW: f64 = 13.0;
/// Most rows of mark labels; a label that fits in none keeps its line and
/// tooltip.
pub const MAX_MARK_ROWS: usize = 5;
/// Longest mark label drawn, in characters (the tooltip has the name).
const MARK_LABEL_CHARS: usize = 40;
/// Height of the combined chart's plot.
const COMBINED_H: f64 = 200.0;

/// The time range a chart spans.
#[derive(Clone, Copy)]
struct Frame {
    t0: u64,
    t1: u64,
}

impl Frame {
    /// The range of the points' times (JSON input need not be sorted).
    fn of(points: &[TimelinePointRow]) -> Option<Frame> {
        let t0 = points.iter().map(|p| p.t_ns).min()?;
        let t1 = points.iter().map(|p| p.t_ns).max()?;
        Some(Frame { t0, t1 })
    }

    fn span(self) -> f64 {
        self.t1.saturating_sub(self.t0).max(1) as f64
    }

    /// `t` in plot units (0 to [`FX`]).
    fn fx(self, t: u64) -> f64 {
        t.saturating_sub(self.t0) as f64 / self.span() * FX
    }

    /// `t` in the chart's pixels.
    fn px(self, t: u64) -> f64 {
        L + self.fx(t) / FX * PW
    }
}

/// The opening tag of a zoomable chart: the page's script reads the time
/// range (`data-t0`, `data-t1`, ns), the plot's left edge and width, and the
/// mark band (top, row height, rows) from it.
fn open_chart(s: &mut String, id: &str, aria: &str, f: Frame, h: f64, band: (f64, usize)) {
    let _ = write!(
        s,
        r#"<svg class="chart tchart" id="{id}" data-t0="{}" data-t1="{}" data-shown="{},{}" data-l="{L}" data-pw="{PW}" data-band="{},{MARK_ROW},{}" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{aria}">"#,
        f.t0, f.t1, f.t0, f.t1, band.0, band.1
    );
}

/// The empty chart.
fn empty_chart(id: &str, aria: &str) -> String {
    let h = 60.0;
    format!(
        r#"<svg class="chart" id="{id}" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{aria}"><text x="{}" y="{}" text-anchor="middle">no timeline points recorded</text></svg>"#,
        W / 2.0,
        h / 2.0
    )
}

/// Vertical grid lines and five time labels (`class="tick"`, `data-k` 0 to
/// 4) under the plot; zooming rewrites the labels.
fn time_axis(s: &mut String, f: Frame, top: f64, bottom: f64) {
    for k in 0..=4 {
        let t = f.t0.saturating_add((f.span() * k as f64 / 4.0) as u64);
        let xx = L + PW * k as f64 / 4.0;
        let anchor = match k {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{top:.1}" y2="{:.1}" stroke="#e4e4e4"/><text class="tick" data-k="{k}" x="{xx:.1}" y="{:.1}" font-size="11" text-anchor="{anchor}">{}</text>"##,
            bottom + 4.0,
            bottom + 17.0,
            esc(&format_ns(t))
        );
    }
}

/// The marks in the chart's range, sorted by time, at most
/// [`MAX_MARKS_SHOWN`].
fn marks_in(tl: &TimelineInfo, f: Frame) -> Vec<&MarkRow> {
    let mut v: Vec<&MarkRow> = tl
        .marks
        .iter()
        .filter(|m| m.t_ns >= f.t0 && m.t_ns <= f.t1)
        .take(MAX_MARKS_SHOWN)
        .collect();
    v.sort_by_key(|m| m.t_ns);
    v
}

/// Mark labels staggered into rows ([`marks::stagger`]), and the band's
/// height.
fn mark_layout(marks: &[&MarkRow], f: Frame) -> (Vec<(String, Option<marks::Placed>)>, usize) {
    let labels: Vec<String> = marks
        .iter()
        .map(|m| sanitize::name_max(&m.label, MARK_LABEL_CHARS).into_owned())
        .collect();
    let geometry: Vec<(f64, f64)> = marks
        .iter()
        .zip(&labels)
        .map(|(m, l)| (f.px(m.t_ns), l.chars().count() as f64 * marks::CHAR_PX))
        .collect();
    let placed = marks::stagger(&geometry, W - 2.0, MAX_MARK_ROWS);
    let rows = marks::rows_used(&placed).max(usize::from(!marks.is_empty()));
    (labels.into_iter().zip(placed).collect(), rows)
}

/// The mark labels (`class="mark"`), in the band above the plot.
fn mark_labels(
    s: &mut String,
    marks: &[&MarkRow],
    layout: &[(String, Option<marks::Placed>)],
    f: Frame,
    band_top: f64,
) {
    for (m, (label, placed)) in marks.iter().zip(layout) {
        let xx = f.px(m.t_ns);
        let (row, right, vis) = match placed {
            Some(p) => (p.row, p.right, ""),
            None => (0, true, r#" visibility="hidden""#),
        };
        let _ = write!(
            s,
            r##"<g class="mark"><text class="ml" data-t="{}" x="{:.1}" y="{:.1}" font-size="11" fill="#444" text-anchor="{}"{vis}>{}<title>mark: {} at {}</title></text></g>"##,
            m.t_ns,
            if right { xx + 3.0 } else { xx - 3.0 },
            band_top + (row as f64 + 1.0) * MARK_ROW - 3.0,
            if right { "start" } else { "end" },
            esc(label),
            esc_name(&m.label),
            esc(&format_ns(m.t_ns))
        );
    }
}

/// Dashed mark lines through the plot (plot units).
fn mark_lines(s: &mut String, marks: &[&MarkRow], f: Frame, h: f64) {
    for m in marks {
        let xx = f.fx(m.t_ns);
        let _ = write!(
            s,
            r##"<line class="mk" x1="{xx:.2}" x2="{xx:.2}" y1="0" y2="{h:.1}" stroke="#777" stroke-dasharray="4 3" vector-effect="non-scaling-stroke"/>"##
        );
    }
}

/// Room above and below the plot inside its `<svg>`, so that a jump's ring
/// at the top or bottom of a strip is not cut.
const PLOT_PAD: f64 = 8.0;

/// The plot's nested `<svg>`: x in plot units (0 to [`FX`]), y in pixels
/// (0 at the plot's top, [`PLOT_PAD`] of room either side), clipped to the
/// plot; zooming sets the x part of its `viewBox`.
fn open_plot(s: &mut String, top: f64, h: f64) {
    let _ = write!(
        s,
        r#"<svg class="plot" x="{L}" y="{:.1}" width="{PW}" height="{:.1}" viewBox="0 {} {FX} {:.1}" preserveAspectRatio="none">"#,
        top - PLOT_PAD,
        h + 2.0 * PLOT_PAD,
        -PLOT_PAD,
        h + 2.0 * PLOT_PAD
    );
}

/// Live bytes per tag over time as small multiples: one strip per tag, each
/// scaled to that tag's own maximum (so a 48 MiB jump shows beside an 800 MB
/// array) and labelled with it, with a bar in the margin as long as that
/// maximum is against the largest strip's (a 2 KiB strip's bar is a sliver
/// beside a 762 MiB one's); a shared time axis, marks as dashed lines
/// through every strip (labels staggered into rows so none overlap) and the
/// biggest jumps circled. The page's script zooms the time range.
///
/// Bounded whatever the report holds: at most [`MAX_CHART_TAGS`] strips (a
/// line counts the others), each path at most [`MAX_PATH_STEPS`] steps (the
/// points of one pixel column are drawn as their first, highest, lowest and
/// last value), at most [`MAX_MARKS_SHOWN`] marks and [`MAX_JUMPS_DRAWN`]
/// jumps, names cut at [`sanitize::MAX_NAME_CHARS`].
pub fn timeline_svg(tl: &TimelineInfo) -> String {
    let id = "timeline-chart";
    let aria = "live bytes per tag over time";
    let Some(f) = Frame::of(&tl.points) else {
        return empty_chart(id, aria);
    };
    let shown = tl.tags.len().min(MAX_CHART_TAGS);
    let hidden = tl.tags.len() - shown;
    let n = shown.max(1) as f64;
    let extra = if hidden > 0 { 18.0 } else { 0.0 };
    let marks = marks_in(tl, f);
    let (layout, rows) = mark_layout(&marks, f);
    let band_top = 4.0;
    let top = band_top + rows as f64 * MARK_ROW + 6.0;
    let plot_h = n * (STRIP + GAP) - GAP;
    let axis_bottom = top + plot_h;
    let h = axis_bottom + 26.0 + extra;
    let mut s = String::new();
    open_chart(&mut s, id, aria, f, h, (band_top, MAX_MARK_ROWS));
    let strip_top = |col: usize| col as f64 * (STRIP + GAP);
    let value = |p: &TimelinePointRow, col: usize| p.live_bytes.get(col).copied().unwrap_or(0);
    let maxes: Vec<u64> = (0..shown)
        .map(|c| tl.points.iter().map(|p| value(p, c)).max().unwrap_or(0))
        .collect();
    let largest = maxes.iter().copied().max().unwrap_or(0).max(1) as f64;
    let y = |col: usize, b: u64| {
        let m = maxes.get(col).copied().unwrap_or(0).max(1) as f64;
        strip_top(col) + (1.0 - b as f64 / m) * STRIP
    };
    // Strip backgrounds and labels (outside the plot: they do not zoom).
    for (col, tag) in tl.tags[..shown].iter().enumerate() {
        let colour = PALETTE[col % PALETTE.len()];
        let y0 = top + strip_top(col);
        let max = maxes[col];
        let bar = (max as f64 / largest * 100.0).max(1.0);
        let _ = write!(
            s,
            r##"<rect x="{L}" y="{y0:.1}" width="{PW}" height="{STRIP}" fill="#fafafa" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="12" text-anchor="end" fill="{colour}" font-weight="bold">{}<title>{}</title></text><text class="smax" x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#222">max {}</text><rect class="scale" x="{:.1}" y="{:.1}" width="{bar:.1}" height="5" fill="{colour}"><title>this strip's scale: max {} ({:.1}% of the largest strip's)</title></rect>"##,
            L - 6.0,
            y0 + 14.0,
            esc(&truncate(tag, 18)),
            esc_name(tag),
            L - 6.0,
            y0 + 29.0,
            esc(&format_bytes(max)),
            L - 6.0 - bar,
            y0 + 36.0,
            esc(&format_bytes(max)),
            max as f64 / largest * 100.0
        );
    }
    time_axis(&mut s, f, top, axis_bottom);
    open_plot(&mut s, top, plot_h);
    for (col, tag) in tl.tags[..shown].iter().enumerate() {
        let colour = PALETTE[col % PALETTE.len()];
        let d = series_path(&tl.points, col, f, &|b| y(col, b));
        let end = tl.points.last().map_or(0, |p| value(p, col));
        let tag = esc_name(tag);
        let _ = write!(
            s,
            r#"<path class="series" data-tag="{tag}" d="{d}" fill="none" stroke="{colour}" stroke-width="2" vector-effect="non-scaling-stroke"><title>{tag}: max {}, {} at the end</title></path>"#,
            esc(&format_bytes(maxes[col])),
            esc(&format_bytes(end))
        );
    }
    mark_lines(&mut s, &marks, f, plot_h);
    // Jumps: a ring that stays round however the plot is stretched.
    let mut col_of: HashMap<&str, usize> = HashMap::new();
    for (col, t) in tl.tags[..shown].iter().enumerate() {
        col_of.entry(t.as_str()).or_insert(col);
    }
    let jumps: Vec<(&crate::model::Jump, usize)> = tl
        .jumps
        .iter()
        .take(MAX_JUMPS_DRAWN)
        .filter_map(|j| col_of.get(j.tag.as_str()).map(|&c| (j, c)))
        .collect();
    for &(j, col) in &jumps {
        let colour = PALETTE[col % PALETTE.len()];
        let (xx, yy) = (f.fx(j.to_ns), y(col, j.to_bytes));
        let _ = write!(
            s,
            r##"<g class="jump"><path d="M{xx:.2},{yy:.1}h0" stroke="{colour}" stroke-width="13" stroke-linecap="round" vector-effect="non-scaling-stroke"/><path d="M{xx:.2},{yy:.1}h0" stroke="#fff" stroke-width="8" stroke-linecap="round" vector-effect="non-scaling-stroke"/><title>{}</title></g>"##,
            esc(&sanitize::line(&j.description))
        );
    }
    s.push_str("</svg>");
    mark_labels(&mut s, &marks, &layout, f, band_top);
    // Jump labels, biggest jump first; one that would overlap a label
    // already drawn is hidden (its ring keeps the tooltip).
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    for &(j, col) in &jumps {
        let colour = PALETTE[col % PALETTE.len()];
        let xx = f.px(j.to_ns);
        let near_left = xx - L < 90.0;
        let label = format!("+{}", format_bytes(j.delta_bytes));
        let w = label.chars().count() as f64 * marks::CHAR_PX;
        let x0 = if near_left { xx + 9.0 } else { xx - 9.0 - w };
        let ty = (top + y(col, j.to_bytes) + 14.0).min(top + strip_top(col) + STRIP - 3.0);
        let clear = placed.iter().all(|&(px, pw, py)| {
            (py - ty).abs() >= 12.0 || x0 + w + 4.0 <= px || px + pw + 4.0 <= x0
        });
        if clear {
            placed.push((x0, w, ty));
        }
        let _ = write!(
            s,
            r##"<text class="jl" data-t="{}" x="{:.1}" y="{ty:.1}" font-size="11" fill="{colour}" text-anchor="{}"{}>{}<title>{}</title></text>"##,
            j.to_ns,
            if near_left { xx + 9.0 } else { xx - 9.0 },
            if near_left { "start" } else { "end" },
            if clear { "" } else { r#" visibility="hidden""# },
            esc(&label),
            esc(&sanitize::line(&j.description))
        );
    }
    if hidden > 0 {
        let _ = write!(
            s,
            r##"<text x="{L}" y="{:.1}" font-size="11" fill="#555">… and {hidden} more tags, not drawn (see the JSON report)</text>"##,
            h - 6.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Every tag's live bytes on one scale: the tags stacked (in the timeline's
/// order, the first at the bottom) with the total of all tags as a line, a
/// byte axis, the shared time axis and the marks. Beside
/// [`timeline_svg`]'s strips (each on its own scale), this shows how big
/// each tag is against the others.
///
/// Bounded as [`timeline_svg`]: at most [`MAX_CHART_TAGS`] tags stacked (the
/// total line counts all), at most one point per pixel column (the one with
/// the largest total) when there are more.
pub fn combined_svg(tl: &TimelineInfo) -> String {
    let id = "combined-chart";
    let aria = "live bytes of all tags on one scale";
    let Some(f) = Frame::of(&tl.points) else {
        return empty_chart(id, aria);
    };
    let shown = tl.tags.len().min(MAX_CHART_TAGS);
    let total = |p: &TimelinePointRow| p.live_bytes.iter().fold(0u64, |a, &b| a.saturating_add(b));
    // Points in time order, at most one per pixel column.
    let mut order: Vec<&TimelinePointRow> = tl.points.iter().collect();
    order.sort_by_key(|p| p.t_ns);
    if order.len() > PLOT_COLUMNS {
        let mut cols: Vec<Option<&TimelinePointRow>> = vec![None; PLOT_COLUMNS + 1];
        for p in order {
            let c = (f.fx(p.t_ns) / FX * PLOT_COLUMNS as f64) as usize;
            let slot = &mut cols[c.min(PLOT_COLUMNS)];
            if slot.is_none_or(|q| total(p) > total(q)) {
                *slot = Some(p);
            }
        }
        order = cols.into_iter().flatten().collect();
    }
    let ymax = order.iter().map(|p| total(p)).max().unwrap_or(0).max(1);
    let marks = marks_in(tl, f);
    let (layout, rows) = mark_layout(&marks, f);
    let band_top = 4.0;
    let top = band_top + rows as f64 * MARK_ROW + 6.0;
    let axis_bottom = top + COMBINED_H;
    let h = axis_bottom + 26.0;
    let mut s = String::new();
    open_chart(&mut s, id, aria, f, h, (band_top, MAX_MARK_ROWS));
    let y = |b: u64| (1.0 - b as f64 / ymax as f64) * COMBINED_H;
    let _ = write!(
        s,
        r##"<rect x="{L}" y="{top:.1}" width="{PW}" height="{COMBINED_H}" fill="#fafafa" stroke="#ddd"/>"##
    );
    for (k, frac) in [(0, 1.0), (1, 0.5), (2, 0.0)] {
        let yy = top + (1.0 - frac) * COMBINED_H;
        let _ = write!(
            s,
            r##"<line x1="{L}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e4e4e4"/><text class="ylab" x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            L + PW,
            L - 6.0,
            yy + if k == 2 { 0.0 } else { 4.0 } + if k == 0 { 6.0 } else { 0.0 },
            esc(&format_bytes((ymax as f64 * frac) as u64))
        );
    }
    time_axis(&mut s, f, top, axis_bottom);
    open_plot(&mut s, top, COMBINED_H);
    // One cumulative sum per point: below and above each tag's band.
    let mut below = vec![0u64; order.len()];
    for (col, tag) in tl.tags[..shown].iter().enumerate() {
        let above: Vec<u64> = order
            .iter()
            .zip(&below)
            .map(|(p, &b)| b.saturating_add(p.live_bytes.get(col).copied().unwrap_or(0)))
            .collect();
        let mut d = String::new();
        for (i, p) in order.iter().enumerate() {
            let (xx, yy) = (f.fx(p.t_ns), y(above[i]));
            if i == 0 {
                let _ = write!(d, "M{xx:.2},{yy:.1}");
            } else {
                let _ = write!(d, "H{xx:.2}V{yy:.1}");
            }
        }
        let _ = write!(d, "V{:.1}", y(below[order.len() - 1]));
        for i in (0..order.len().saturating_sub(1)).rev() {
            let _ = write!(d, "V{:.1}H{:.2}", y(below[i]), f.fx(order[i].t_ns));
        }
        d.push('Z');
        let colour = PALETTE[col % PALETTE.len()];
        let max = tl
            .points
            .iter()
            .map(|p| p.live_bytes.get(col).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let tag = esc_name(tag);
        let _ = write!(
            s,
            r#"<path class="series area" data-tag="{tag}" d="{d}" fill="{colour}" fill-opacity="0.7" stroke="none"><title>{tag}: max {}</title></path>"#,
            esc(&format_bytes(max))
        );
        below = above;
    }
    let mut d = String::new();
    for (i, p) in order.iter().enumerate() {
        let (xx, yy) = (f.fx(p.t_ns), y(total(p)));
        if i == 0 {
            let _ = write!(d, "M{xx:.2},{yy:.1}");
        } else {
            let _ = write!(d, "H{xx:.2}V{yy:.1}");
        }
    }
    let _ = write!(
        s,
        r##"<path class="series total" data-tag="total" d="{d}" fill="none" stroke="#222" stroke-width="1.5" vector-effect="non-scaling-stroke"><title>total of all tags: max {}</title></path>"##,
        esc(&format_bytes(ymax))
    );
    mark_lines(&mut s, &marks, f, COMBINED_H);
    s.push_str("</svg>");
    mark_labels(&mut s, &marks, &layout, f, band_top);
    s.push_str("</svg>");
    s
}

/// The combined chart's legend (HTML): one swatch per tag, long names cut
/// with an ellipsis by the style sheet, the whole name in `title`.
pub fn legend_html(tl: &TimelineInfo) -> String {
    let mut s = String::from(r#"<ul class="legend">"#);
    for (col, tag) in tl.tags.iter().take(MAX_CHART_TAGS).enumerate() {
        let tag = esc_name(tag);
        let _ = write!(
            s,
            r#"<li title="{tag}"><i style="background:{}"></i>{tag}</li>"#,
            PALETTE[col % PALETTE.len()]
        );
    }
    s.push_str(r#"<li title="total of all tags"><i class="line"></i>total</li></ul>"#);
    s
}

/// Most steps (`H` and `V` commands) in one series' path: two per point up
/// to two points per pixel column, else at most five per pixel column (to
/// the column, then its first, highest, lowest and last value).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const MAX_PATH_STEPS: usize = 5 * (PLOT_COLUMNS + 1);
/// Pixel columns of the plot area.
const PLOT_COLUMNS: usize = PW as usize;
/// Jumps circled in the timeline chart.
pub const MAX_JUMPS_DRAWN: usize = 20;

/// The step path of one column (plot units): exact when there are few
/// points, else one pixel column at a time (first, highest, lowest and last
/// value).
fn series_path(
    points: &[TimelinePointRow],
    col: usize,
    f: Frame,
    y: &dyn Fn(u64) -> f64,
) -> String {
    let value = |p: &TimelinePointRow| p.live_bytes.get(col).copied().unwrap_or(0);
    let mut d = String::new();
    if points.len() <= 2 * PLOT_COLUMNS {
        for (i, p) in points.iter().enumerate() {
            let (xx, yy) = (f.fx(p.t_ns), y(value(p)));
            if i == 0 {
                let _ = write!(d, "M{xx:.2},{yy:.1}");
            } else {
                let _ = write!(d, "H{xx:.2}V{yy:.1}");
            }
        }
        return d;
    }
    // Per pixel column: first, highest, lowest and last value, in the order
    // the points come (JSON input need not be sorted).
    let mut cols: Vec<Option<(u64, u64, u64, u64)>> = vec![None; PLOT_COLUMNS + 1];
    for p in points {
        let px = (f.fx(p.t_ns) / FX * PLOT_COLUMNS as f64)
            .floor()
            .clamp(0.0, PLOT_COLUMNS as f64) as usize;
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
        let xx = px as f64 / PLOT_COLUMNS as f64 * FX;
        if d.is_empty() {
            let _ = write!(d, "M{xx:.2},{:.1}", y(first));
        } else {
            let _ = write!(d, "H{xx:.2}V{:.1}", y(first));
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

/// Room right of the longest bar for its "N wasted" label (the longest,
/// `1023.9 MiB wasted`, is 17 characters).
const BAR_LABEL_ROOM: f64 = 140.0;

/// Horizontal bars for the largest arenas: reachable part and wasted part.
/// Each arena's name goes on its own line above its bar, cut to the chart's
/// width (the whole name in a tooltip), and the "wasted" figure right of the
/// bar in room kept for it, so no label is clipped.
pub fn arenas_svg(arenas: &[ArenaRow], max: usize) -> String {
    let shown: Vec<&ArenaRow> = arenas
        .iter()
        .filter(|a| a.capacity_bytes > 0)
        .take(max)
        .collect();
    let row = 40.0;
    let h = 34.0 + shown.len() as f64 * row;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="arenas-chart" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="arena capacity: reachable and wasted">"#
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
    let lw = 10.0;
    let bw = W - lw - BAR_LABEL_ROOM;
    let label_chars = ((W - 2.0 * lw) / marks::CHAR_PX) as usize;
    for (i, a) in shown.iter().enumerate() {
        let yy = 6.0 + i as f64 * row;
        let full = (a.capacity_bytes as f64 / cmax * bw).max(1.0);
        let reach = a.reachable_bytes as f64 / cmax * bw;
        let label = format!(
            "#{} {} at {}: capacity {}",
            a.id,
            sanitize::name(&a.op),
            sanitize::name(&a.site),
            format_bytes(a.capacity_bytes)
        );
        let _ = write!(
            s,
            r##"<text class="alab" x="{lw}" y="{:.1}" font-size="11">{}<title>{}</title></text><g class="series"><rect x="{lw}" y="{:.1}" width="{full:.1}" height="16" fill="#D55E00"><title>wasted {}</title></rect><rect x="{lw}" y="{:.1}" width="{reach:.1}" height="16" fill="#009E73"><title>reachable {}</title></rect></g><text class="wasted" x="{:.1}" y="{:.1}" font-size="11">{} wasted</text>"##,
            yy + 10.0,
            esc(&sanitize::name_max(&label, label_chars)),
            esc(&label),
            yy + 15.0,
            esc(&format_bytes(a.wasted_bytes)),
            yy + 15.0,
            esc(&format_bytes(a.reachable_bytes)),
            lw + full + 6.0,
            yy + 27.0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::MAX_CHART_TAGS;
    use crate::model::{Jump, MarkRow, TimelineInfo, TimelinePointRow};

    fn point(t: u64, v: Vec<u64>) -> TimelinePointRow {
        TimelinePointRow {
            t_ns: t,
            live_bytes: v,
            reason: "churn".into(),
        }
    }

    #[test]
    fn the_timeline_chart_is_bounded_whatever_the_report_holds() {
        let ntags = 500;
        let tl = TimelineInfo {
            tags: (0..ntags).map(|i| format!("t{i}")).collect(),
            points: (0..100_000u64)
                .map(|i| point(i * 7 % 100_003, vec![i % 13; 3]))
                .collect(),
            marks: (0..10_000)
                .map(|i| MarkRow {
                    t_ns: i,
                    label: "m".into(),
                })
                .collect(),
            jumps: (0..10_000)
                .map(|_| Jump {
                    tag: "t1".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let svg = timeline_svg(&tl);
        assert_eq!(svg.matches("class=\"series\"").count(), MAX_CHART_TAGS);
        assert!(svg.contains(&format!("and {} more tags", ntags - MAX_CHART_TAGS)));
        assert!(svg.matches("class=\"mark\"").count() <= 100);
        assert!(svg.matches("class=\"jump\"").count() <= MAX_JUMPS_DRAWN);
        for path in svg.split(" d=\"").skip(1) {
            let d = &path[..path.find('"').unwrap()];
            let steps = d.matches(['H', 'V']).count();
            assert!(steps <= MAX_PATH_STEPS, "{steps} steps");
        }
        assert!(svg.len() < 4 << 20, "{} bytes", svg.len());
    }
}

#[cfg(test)]
mod doc_examples {
    #[test]
    fn example_0() {
        let r = crate::analyze(&Default::default(), &Default::default());
        let svg = crate::render::chart::timeline_svg(&r.timeline);
        assert!(svg.starts_with("<svg"));
    }

    #[test]
    fn example_1() {
        use crate::render::chart::esc;
        assert_eq!(
            esc("<a href=\"x\">&'\x1b"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\\x1b"
        );
    }
}
