//! The text report, for a terminal.
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let out = arenaprof_report::render::text::render(&r, Default::default()).unwrap();
//! assert!(out.contains("RETENTION"));
//! ```

use super::cells::{pct, peak_time, windows_note, ShapeText};
use super::sink::Sink;
use super::spark::{resample_wasted, write_column, write_row, SPARK_WIDTH};
use super::table::Table;
use super::Options;
use crate::budget::{Budget, BudgetError, MAX_CHART_TAGS, MAX_MARKS_SHOWN};
use crate::model::{ArenaRow, CounterRow, Report, SiteRow};
use crate::sanitize::{line, name};
use crate::units::{format_bytes, format_count, format_delta, format_ns};
use std::fmt::Write;

/// Arenas printed in full; the rest are summed up in one line.
pub(crate) const MAX_ARENAS: usize = 10;
/// Retainers printed per arena.
pub(crate) const MAX_RETAINERS: usize = 5;
/// Sites printed per table.
pub(crate) const MAX_SITES: usize = 10;
/// Timeline jumps listed.
pub(crate) const MAX_JUMPS_SHOWN: usize = 20;

/// Column heads of [`counter_cells`], in its order.
const COUNTER_HEAD: [&str; 7] = [
    "live",
    "peak",
    "at",
    "allocated",
    "allocs",
    "frees",
    "live#",
];

/// A table's heads: `first`, the counter columns, then `rest`.
fn heads<'a>(first: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    std::iter::once(first)
        .chain(COUNTER_HEAD)
        .chain(rest.iter().copied())
        .collect()
}

fn counter_cells(c: &CounterRow) -> Vec<String> {
    vec![
        format_bytes(c.live_bytes),
        format_bytes(c.peak_bytes),
        peak_time(c),
        format_bytes(c.allocated_bytes),
        format_count(c.alloc_count),
        format_count(c.free_count),
        format_count(c.live_count),
    ]
}

fn header(out: &mut Sink<'_>, r: &Report) {
    let m = &r.meta;
    let _ = writeln!(
        out,
        "arenaprof report: {} (pid {}, {} allocator, {} elapsed, sampling {}{})",
        if m.program.is_empty() {
            "?".into()
        } else {
            name(&m.program)
        },
        m.pid,
        if m.allocator.is_empty() {
            "?".into()
        } else {
            name(&m.allocator)
        },
        format_ns(m.elapsed_ns),
        name(&m.sampling_mode),
        if m.sampling_mode == "bytes" {
            format!(" every {} on average", format_bytes(m.sampling_mean_bytes))
        } else {
            String::new()
        }
    );
    let t = &r.totals;
    let _ = writeln!(
        out,
        "total: live {} in {} allocations, peak {} at {}, allocated {} in {} allocations\n",
        format_bytes(t.live_bytes),
        format_count(t.live_count),
        format_bytes(t.peak_bytes),
        format_ns(t.peak_at_ns),
        format_bytes(t.allocated_bytes),
        format_count(t.alloc_count)
    );
}

fn tags(out: &mut Sink<'_>, r: &Report) {
    let mut t = Table::new(&heads("tag", &["p50", "p90", "p99", "max"]));
    for g in &r.tags {
        let mut cells = vec![name(&g.name).into_owned()];
        cells.extend(counter_cells(&g.counters));
        for p in [50.0, 90.0, 99.0, 100.0] {
            cells.push(pct(&g.size_percentiles, p));
        }
        t.row(cells);
    }
    let _ = writeln!(out, "TAGS (exact; sizes are allocation-size percentiles)");
    out.push_str(&t.render_width("  ", out.width));
    out.push('\n');
}

fn threads(out: &mut Sink<'_>, r: &Report) {
    let mut t = Table::new(&heads("thread", &["p50~", "p99~", "top tag"]));
    for th in &r.threads {
        let label = if th.exited_folded > 0 {
            let n = if th.name.is_empty() {
                "(unnamed)".into()
            } else {
                name(&th.name)
            };
            format!("{n} x{}", th.exited_folded)
        } else if th.name.is_empty() {
            format!("#{} (tid {})", th.slot, th.os_tid)
        } else {
            format!("#{} {}", th.slot, name(&th.name))
        };
        let mut cells = vec![format!(
            "{label}{}",
            if th.alive { "" } else { " [exited]" }
        )];
        cells.extend(counter_cells(&th.counters));
        for p in [50.0, 99.0] {
            cells.push(pct(&th.sampled_size_percentiles, p));
        }
        let top = th
            .tags
            .iter()
            .max_by_key(|c| (c.counters.peak_bytes, c.counters.live_bytes))
            .map(|c| name(&c.tag).into_owned())
            .unwrap_or_default();
        cells.push(top);
        t.row(cells);
    }
    let _ = writeln!(
        out,
        "THREADS ({}; p50~/p99~ are allocation sizes estimated from sampled records)",
        r.thread_figures()
    );
    out.push_str(&t.render_width("  ", out.width));
    out.push('\n');
}

fn memory(out: &mut Sink<'_>, r: &Report) {
    let m = &r.memory;
    let _ = writeln!(out, "MEMORY (tracked bytes up to RSS)");
    let mut t = Table::new(&["rung", "bytes", "what it is"]).align_left(2);
    for g in &m.gap {
        t.row(vec![
            name(&g.name).into_owned(),
            format_delta(g.bytes),
            line(&g.explanation).into_owned(),
        ]);
    }
    t.row(vec![
        "= rss".into(),
        format_bytes(if m.gap_source == "mappings" {
            m.mappings_rss_bytes
        } else {
            m.rss_bytes
        }),
        format!("peak RSS {}", format_bytes(m.peak_rss_bytes)),
    ]);
    out.push_str(&t.render_width("  ", out.width));
    if let Some(j) = &m.jemalloc {
        let _ = writeln!(
            out,
            "  jemalloc: allocated {}, active {}, resident {}, metadata {}, mapped {}, retained {}",
            format_bytes(j.allocated_bytes),
            format_bytes(j.active_bytes),
            format_bytes(j.resident_bytes),
            format_bytes(j.metadata_bytes),
            format_bytes(j.mapped_bytes),
            format_bytes(j.retained_bytes)
        );
    }
    let o = &r.overhead;
    let _ = writeln!(
        out,
        "  profiler overhead: {} resident ({:.1}% of RSS): headers {} ({} B each), heap {} ({} live), caches {}, tables {} of {} reserved{}; {} backtraces in {}, snapshot built in {}\n",
        format_bytes(o.total_bytes),
        o.percent_of_rss,
        format_bytes(o.live_header_bytes),
        o.header_bytes_per_alloc,
        format_bytes(o.heap_resident_bytes),
        format_bytes(o.internal_live_bytes),
        format_bytes(o.cached_bytes),
        format_bytes(o.tables_resident_bytes),
        format_bytes(o.table_bytes),
        windows_note(o.windows_reserved_bytes),
        format_count(o.backtraces_captured),
        format_ns(o.backtrace_ns),
        format_ns(o.snapshot_ns)
    );
}

fn timeline(out: &mut Sink<'_>, r: &Report) {
    let tl = &r.timeline;
    let (Some(first), Some(last)) = (tl.points.first(), tl.points.last()) else {
        let _ = writeln!(out, "TIMELINE: no points recorded\n");
        return;
    };
    let _ = writeln!(
        out,
        "TIMELINE (live bytes per tag, {} .. {}, {} points{})",
        format_ns(first.t_ns),
        format_ns(last.t_ns),
        tl.points.len(),
        if tl.dropped_points > 0 {
            format!(", {} merged", tl.dropped_points)
        } else {
            String::new()
        }
    );
    let shown = tl.tags.len().min(MAX_CHART_TAGS);
    let labels: Vec<_> = tl.tags[..shown].iter().map(|t| name(t)).collect();
    let w = labels.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    for (col, tag) in labels.iter().enumerate() {
        write_column(out, tl, col, tag, w);
    }
    super::outside::timeline_rows(out, tl, w);
    if !tl.wasted.is_empty() {
        let vals = resample_wasted(&tl.wasted, first.t_ns, last.t_ns, SPARK_WIDTH);
        let max = tl.wasted.iter().map(|p| p.wasted_bytes).max().unwrap_or(0);
        let end = tl.wasted.last().map_or(0, |p| p.wasted_bytes);
        write_row(out, "wasted", w, &vals, max, end);
    }
    if tl.tags.len() > shown {
        let _ = writeln!(
            out,
            "  ... and {} more tags (see --format json)",
            tl.tags.len() - shown
        );
    }
    for m in tl.marks.iter().take(MAX_MARKS_SHOWN) {
        let _ = writeln!(out, "  mark at {}: {}", format_ns(m.t_ns), name(&m.label));
    }
    if tl.marks.len() > MAX_MARKS_SHOWN {
        let _ = writeln!(
            out,
            "  ... and {} more marks (see --format json)",
            tl.marks.len() - MAX_MARKS_SHOWN
        );
    }
    if !tl.jumps.is_empty() {
        let _ = writeln!(out, "  biggest jumps:");
        for j in tl.jumps.iter().take(MAX_JUMPS_SHOWN) {
            let _ = writeln!(out, "    {}", line(&j.description));
        }
    }
    out.push('\n');
}

fn arena(out: &mut Sink<'_>, a: &ArenaRow) {
    let _ = writeln!(
        out,
        "  arena #{} {} {}{} at {}: capacity {}, reachable {}, wasted {}, owner {}, {} live view{}",
        a.id,
        if a.op.is_empty() {
            "?".into()
        } else {
            name(&a.op)
        },
        name(&a.elem_type),
        ShapeText(&a.shape),
        name(&a.site),
        format_bytes(a.capacity_bytes),
        format_bytes(a.reachable_bytes),
        format_bytes(a.wasted_bytes),
        if a.owner_alive { "alive" } else { "dropped" },
        a.live_views,
        if a.live_views == 1 { "" } else { "s" }
    );
    for rt in a.retainers.iter().take(MAX_RETAINERS) {
        let _ = writeln!(
            out,
            "    view #{} {} at {}: footprint {}, exclusive retained {}",
            rt.view,
            name(&rt.op),
            name(&rt.site),
            format_bytes(rt.footprint_bytes),
            format_bytes(rt.exclusive_retained_bytes)
        );
        for (k, s) in rt.chain.iter().enumerate() {
            let lead = if k == 0 { "chain:" } else { "    ->" };
            let _ = writeln!(
                out,
                "      {lead} #{} {} at {}{}",
                s.view,
                name(&s.op),
                name(&s.site),
                if s.alive { "" } else { " [dropped]" }
            );
            if k == 0 && rt.chain_elided > 0 {
                let _ = writeln!(out, "          ... {} steps", rt.chain_elided);
            }
        }
        if let Some(f) = &rt.fix {
            let _ = writeln!(out, "      fix: {}", line(&f.text));
        }
    }
    if a.retainers.len() > MAX_RETAINERS {
        let _ = writeln!(
            out,
            "    ... and {} more live views",
            a.retainers.len() - MAX_RETAINERS
        );
    }
    if let (Some(f), true) = (&a.fix, a.live_views > 1) {
        let _ = writeln!(out, "    fix: {}", line(&f.text));
    }
}

/// Retention at its worst moment: when, the nearest mark, the totals and
/// the arenas wasted then.
fn retention_worst(out: &mut Sink<'_>, r: &Report) {
    let Some(w) = &r.retention_worst else {
        return;
    };
    let near = w
        .from_mark()
        .map(|(m, d, rel)| format!(" ({} {rel} mark \"{}\")", format_ns(d), name(&m.label)))
        .unwrap_or_default();
    let s = &w.summary;
    let _ = writeln!(
        out,
        "RETENTION AT WORST: at {}{near}: {} arenas wasted ({} pinned by views after their owner was dropped), capacity {}, reachable {}, wasted {}",
        format_ns(w.t_ns),
        s.arenas,
        s.pinned_arenas,
        format_bytes(s.capacity_bytes),
        format_bytes(s.reachable_bytes),
        format_bytes(s.wasted_bytes)
    );
    for a in w.arena_rows.iter().take(MAX_ARENAS) {
        arena(out, a);
    }
    if w.arena_rows.len() > MAX_ARENAS {
        let _ = writeln!(
            out,
            "  ... and {} more arenas (see --format json)",
            w.arena_rows.len() - MAX_ARENAS
        );
    }
    out.push('\n');
}

fn retention(out: &mut Sink<'_>, r: &Report) {
    retention_worst(out, r);
    let s = &r.retention;
    let _ = writeln!(
        out,
        "RETENTION AT END: {} arenas ({} pinned by views after their owner was dropped), capacity {}, reachable {}, wasted {}",
        s.arenas,
        s.pinned_arenas,
        format_bytes(s.capacity_bytes),
        format_bytes(s.reachable_bytes),
        format_bytes(s.wasted_bytes)
    );
    let shown: Vec<&ArenaRow> = r
        .arenas
        .iter()
        .filter(|a| a.live_views > 0)
        .take(MAX_ARENAS)
        .collect();
    for a in &shown {
        arena(out, a);
    }
    let rest = r
        .arenas
        .iter()
        .filter(|a| a.live_views > 0)
        .count()
        .saturating_sub(shown.len());
    if rest > 0 {
        let _ = writeln!(
            out,
            "  ... and {rest} more arenas with live views (see --format json)"
        );
    }
    out.push('\n');
}

/// `low-high` of an estimate's 95% interval, or `-` without samples (or
/// when the figure is exact: every sample taken with near certainty).
fn interval_cell(samples: u64, low: u64, high: u64, fmt: fn(u64) -> String) -> String {
    if samples == 0 {
        "-".to_owned()
    } else if low == high {
        "exact".to_owned()
    } else {
        format!("{}-{}", fmt(low), fmt(high))
    }
}

fn site_table(out: &mut Sink<'_>, title: &str, rows: &[SiteRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}");
    // The interval columns come last: a narrow terminal leaves them out
    // before it cuts the site.
    let mut t = Table::new(&["bytes", "objects", "tag", "site", "objects 95%", "samples"])
        .align_left(2)
        .align_left(3);
    for s in rows.iter().take(MAX_SITES) {
        t.row(vec![
            format_bytes(s.bytes),
            format_count(s.objects),
            name(&s.tag).into_owned(),
            name(&s.site).into_owned(),
            interval_cell(s.samples, s.objects_low, s.objects_high, format_count),
            if s.samples == 0 {
                "-".to_owned()
            } else {
                format_count(s.samples)
            },
        ]);
    }
    out.push_str(&t.render_width("  ", out.width));
    out.push('\n');
}

fn sites(out: &mut Sink<'_>, r: &Report) {
    let s = &r.sites;
    if s.sampled_records == 0 {
        let _ = writeln!(
            out,
            "SITES: no sampled stacks (run with ARENAPROF_SAMPLE=bytes or set_sampling)\n"
        );
        return;
    }
    site_table(
        out,
        &format!(
            "TOP SITES BY LIVE BYTES (estimated from {} samples, {} live)",
            format_count(s.sampled_records),
            format_bytes(s.live_estimated_bytes)
        ),
        &s.live,
    );
    site_table(
        out,
        &format!("TOP SITES AT THE PEAK ({})", format_ns(s.peak_at_ns)),
        &s.at_peak,
    );
    site_table(out, "TOP SITES BY BYTES ALLOCATED", &s.allocated);
}

/// Renders the whole report as text, charging every byte written to
/// `opts.budget`. Unsafe characters in names are escaped, names cut at
/// [`MAX_NAME_CHARS`](crate::sanitize::MAX_NAME_CHARS) (see
/// [`crate::sanitize`]). With `opts.width`, table columns are narrowed and
/// long cells cut in the middle (sites keep their file and line), other long
/// lines wrapped at spaces.
///
/// ```
/// use arenaprof_report::render::{text, Options};
/// let r = arenaprof_report::analyze(&arenaprof_report::fixtures::pinned_views(), &Default::default());
/// let text = text::render(&r, Options { width: Some(80), ..Default::default() }).unwrap();
/// assert!(text.lines().all(|l| l.chars().count() <= 80));
/// ```
pub fn render(r: &Report, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let width = opts.width.unwrap_or(usize::MAX);
    let mut out = Sink::text(budget, "the text report");
    out.width = width;
    header(&mut out, r);
    tags(&mut out, r);
    threads(&mut out, r);
    memory(&mut out, r);
    let width = out.width;
    super::outside::text_width(&mut out, r, width);
    timeline(&mut out, r);
    retention(&mut out, r);
    sites(&mut out, r);
    for s in &r.sections {
        let _ = writeln!(out, "SECTION {}", name(&s.name));
        for kv in &s.entries {
            let _ = writeln!(out, "  {}: {}", name(&kv.key), line(&kv.value));
        }
        out.push('\n');
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "WARNINGS");
        for w in &r.warnings {
            let _ = writeln!(out, "  {}", line(w));
        }
    }
    let text = out.finish()?;
    if width == usize::MAX {
        Ok(text)
    } else {
        Ok(super::fit::wrap_all(&text, width))
    }
}
