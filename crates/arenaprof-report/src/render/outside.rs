//! Memory outside the allocator, the BLAS runtimes, and VmSize/RSS over
//! time, for the text and HTML reports.

use super::chart::{esc, timeline_svg};
use super::sink::Sink;
use super::table::Table;
use crate::model::BlasRow;
use crate::model::{Report, TimelineInfo, TimelinePointRow};
use crate::sanitize::{line, name};
use crate::units::{format_bytes, format_ns};
use std::fmt::Write;

/// Rows printed in the text table of memory outside the allocator, and
/// most hooked objects, runtimes and notes printed in each list.
pub(crate) const MAX_TEXT_ROWS: usize = 24;
/// Rows of the HTML table of memory outside the allocator, and most
/// runtimes and notes listed.
pub(crate) const MAX_HTML_ROWS: usize = 200;

/// `... and N more` when `n > shown`.
fn more(n: usize, shown: usize) -> Option<String> {
    (n > shown).then(|| format!("... and {} more (see --format json)", n - shown))
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn short_object(o: &str) -> &str {
    if o.starts_with('/') {
        base(o)
    } else {
        o
    }
}

fn blas_line(b: &BlasRow) -> String {
    let mut s = format!(
        "{} {} {} ({}{}): {} thread{}",
        b.api,
        b.version.as_deref().unwrap_or("(version unknown)"),
        base(&b.library),
        b.threading_layer,
        b.architecture
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default(),
        b.threads,
        if b.threads == 1 { "" } else { "s" }
    );
    if b.buffers_known {
        let _ = write!(
            s,
            "; {} buffer{} of {} mapped: {} virtual, {} resident",
            b.buffers_mapped,
            if b.buffers_mapped == 1 { "" } else { "s" },
            format_bytes(b.buffer_size_bytes),
            format_bytes(b.buffers_virtual_bytes),
            format_bytes(b.buffers_resident_bytes)
        );
    }
    s
}

/// The text sections: memory outside the allocator by object, and BLAS,
/// their tables fitted to `width` characters a line.
pub(crate) fn text_width(out: &mut Sink<'_>, r: &Report, width: usize) {
    let m = &r.memory;
    if !m.measured {
        let _ = writeln!(
            out,
            "MEMORY OUTSIDE THE ALLOCATOR: not measured{}\n",
            m.notes
                .first()
                .map(|n| format!(" ({})", line(n)))
                .unwrap_or_default()
        );
        return;
    }
    let _ = writeln!(
        out,
        "MEMORY OUTSIDE THE ALLOCATOR ({} resident of {} in mappings; VmSize {}; by owner, from /proc/self/smaps in {})",
        format_bytes(m.outside_allocator_resident_bytes),
        format_bytes(m.mappings_rss_bytes),
        format_bytes(m.virtual_bytes),
        format_ns(m.measure_ns),
    );
    let mut t =
        Table::new(&["object", "maps", "virtual", "resident", "commit", "what"]).align_left(5);
    for o in m.outside_allocator.iter().take(MAX_TEXT_ROWS) {
        t.row(vec![
            name(short_object(&o.object)).into_owned(),
            o.mappings.to_string(),
            format_bytes(o.virtual_bytes),
            format_bytes(o.resident_bytes),
            format_bytes(o.commit_bytes),
            line(&o.label).into_owned(),
        ]);
    }
    out.push_str(&t.render_width("  ", width));
    if let Some(x) = more(m.outside_allocator.len(), MAX_TEXT_ROWS) {
        let _ = writeln!(out, "  {x}");
    }
    for h in m.hooked_objects.iter().take(MAX_TEXT_ROWS) {
        let _ = writeln!(
            out,
            "  mmap hooks: {}: {} live mapping{}, {} ({} resident); {} mmap, {} munmap, {} mremap calls{}",
            name(base(&h.object)),
            h.mappings,
            if h.mappings == 1 { "" } else { "s" },
            format_bytes(h.virtual_bytes),
            format_bytes(h.resident_bytes),
            h.mmap_calls,
            h.munmap_calls,
            h.mremap_calls,
            if h.adopted > 0 {
                format!(", {} adopted while it loaded", h.adopted)
            } else {
                String::new()
            }
        );
    }
    if let Some(x) = more(m.hooked_objects.len(), MAX_TEXT_ROWS) {
        let _ = writeln!(out, "  mmap hooks: {x}");
    }
    for n in m.notes.iter().take(MAX_TEXT_ROWS) {
        let _ = writeln!(out, "  note: {}", line(n));
    }
    out.push('\n');
    if r.blas.is_empty() {
        let _ = writeln!(out, "BLAS: no BLAS or OpenMP runtime loaded");
    } else {
        let _ = writeln!(out, "BLAS (runtimes loaded in the process)");
        for b in r.blas.iter().take(MAX_TEXT_ROWS) {
            let _ = writeln!(out, "  {}", line(&blas_line(b)));
            let _ = writeln!(out, "    lowering the thread count {}", line(&b.lowering));
            let _ = writeln!(out, "    what frees memory: {}", line(&b.advice));
        }
    }
    if let Some(x) = more(r.blas.len(), MAX_TEXT_ROWS) {
        let _ = writeln!(out, "  {x}");
    }
    for n in r.blas_notes.iter().take(MAX_TEXT_ROWS) {
        let _ = writeln!(out, "  note: {}", line(n));
    }
    if let Some(x) = more(r.blas_notes.len(), MAX_TEXT_ROWS) {
        let _ = writeln!(out, "  note: {x}");
    }
    out.push('\n');
}

/// `[VmSize]` and `[RSS]` sparklines under the per-tag ones (`width`: the
/// tag column's width).
pub(crate) fn timeline_rows(out: &mut Sink<'_>, tl: &TimelineInfo, width: usize) {
    let Some(p) = process_timeline(tl) else {
        return;
    };
    let w = width.max(8);
    for (col, name) in p.tags.iter().enumerate() {
        super::spark::write_column(out, &p, col, name, w);
    }
}

/// The timeline with VmSize and RSS as its two columns (`None` when the
/// snapshot has no readings).
pub(crate) fn process_timeline(tl: &TimelineInfo) -> Option<TimelineInfo> {
    if tl.vm_size_bytes.len() != tl.points.len() || tl.points.is_empty() {
        return None;
    }
    Some(TimelineInfo {
        tags: vec!["[VmSize]".into(), "[RSS]".into()],
        points: tl
            .points
            .iter()
            .zip(tl.vm_size_bytes.iter().zip(&tl.rss_bytes))
            .map(|(p, (&vm, &rss))| TimelinePointRow {
                t_ns: p.t_ns,
                live_bytes: vec![vm, rss],
                reason: p.reason.clone(),
            })
            .collect(),
        marks: tl.marks.clone(),
        dropped_points: tl.dropped_points,
        ..Default::default()
    })
}

/// The VmSize/RSS chart (empty when the snapshot has no readings).
pub(crate) fn process_svg(tl: &TimelineInfo) -> String {
    match process_timeline(tl) {
        Some(p) => timeline_svg(&p)
            .replacen(r#"id="timeline-chart""#, r#"id="process-chart""#, 1)
            .replacen(
                r#"aria-label="live bytes per tag over time""#,
                r#"aria-label="VmSize and RSS over time""#,
                1,
            ),
        None => String::new(),
    }
}

/// The HTML sections: memory outside the allocator and BLAS.
pub(crate) fn html(o: &mut Sink<'_>, r: &Report) {
    let m = &r.memory;
    o.push_str("<h2>Memory outside the allocator</h2>");
    if !m.measured {
        let _ = write!(
            o,
            "<p>Not measured{}.</p>",
            m.notes
                .first()
                .map(|n| format!(": {}", esc(n)))
                .unwrap_or_default()
        );
        return;
    }
    let _ = write!(
        o,
        "<p>{} resident outside the allocator, of {} resident in all mappings; VmSize {}. By owner, from <code>/proc/self/smaps</code>; <i>commit</i> is what Windows would commit at once.</p>",
        format_bytes(m.outside_allocator_resident_bytes),
        format_bytes(m.mappings_rss_bytes),
        format_bytes(m.virtual_bytes)
    );
    o.push_str(r#"<table id="outside-allocator"><tr><th class="l">object</th><th class="l">what</th><th>maps</th><th>virtual</th><th>resident</th><th>commit</th></tr>"#);
    for x in m.outside_allocator.iter().take(MAX_HTML_ROWS) {
        let _ = write!(
            o,
            r#"<tr><td class="l"><code title="{}">{}</code></td><td class="w">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&x.object),
            esc(short_object(&x.object)),
            esc(&x.label),
            x.mappings,
            format_bytes(x.virtual_bytes),
            format_bytes(x.resident_bytes),
            format_bytes(x.commit_bytes)
        );
    }
    o.push_str("</table>");
    if let Some(x) = more(m.outside_allocator.len(), MAX_HTML_ROWS) {
        let _ = write!(o, "<p>{}</p>", esc(&x));
    }
    if !m.notes.is_empty() {
        o.push_str("<ul>");
        for n in m.notes.iter().take(MAX_HTML_ROWS) {
            let _ = write!(o, r#"<li class="warn">{}</li>"#, esc(n));
        }
        o.push_str("</ul>");
    }
    o.push_str("<h2>BLAS runtimes</h2>");
    if r.blas.is_empty() {
        o.push_str("<p>No BLAS or OpenMP runtime loaded.</p>");
    }
    for b in r.blas.iter().take(MAX_HTML_ROWS) {
        let _ = write!(
            o,
            r#"<div class="arena"><b>{}</b><div>lowering the thread count {}</div><div class="fix">what frees memory: {}</div></div>"#,
            esc(&blas_line(b)),
            esc(&b.lowering),
            esc(&b.advice)
        );
    }
    if !r.blas_notes.is_empty() {
        o.push_str("<ul>");
        for n in r.blas_notes.iter().take(MAX_HTML_ROWS) {
            let _ = write!(o, r#"<li class="warn">{}</li>"#, esc(n));
        }
        o.push_str("</ul>");
    }
}
