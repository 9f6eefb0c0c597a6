//! The HTML report: one self-contained page (inline CSS, inline SVG charts,
//! an inline script), no network access of any kind.
//!
//! The page is static first: every chart, table and the flame graph is in
//! the markup and reads without script. The script (`html/script.js`) adds a time
//! zoom shared by the timeline charts (drag across a chart, or the range
//! inputs; a reset button), a search box that marks matching flame graph
//! frames and filters the site and tag tables, a click on a flame graph
//! frame to widen it, and sorting by any column header. A URL fragment such
//! as `#zoom=100,300&search=main&flame=main&sort=tags-table.1.asc` (zoom in
//! milliseconds) sets them on load, through the same functions as the
//! controls. A Content-Security-Policy meta tag forbids every load but the
//! page's own inline style, script and `data:` images.
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let page = arenaprof_report::render::html::render(&r, Default::default()).unwrap();
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(!page.contains(" src=") && !page.contains("<link"));
//! assert!(!page.contains("http://") && !page.contains("https://"));
//! ```

mod flamegraph;
#[cfg(all(test, feature = "fixtures"))]
mod tests;

use super::cells::{pct, peak_time, windows_note, ShapeText};
use super::chart::{arenas_svg, combined_svg, esc, legend_html, timeline_svg};
use super::sink::Sink;
use super::Options;
use crate::budget::{Budget, BudgetError};
use crate::model::{ArenaRow, CounterRow, Report, RetentionSummary, SiteRow};
use crate::sanitize;
use crate::units::{format_bytes, format_count, format_delta, format_ns};
use std::fmt::Write;

/// Arenas listed in full.
pub(crate) const MAX_ARENAS: usize = 50;

/// The page's style sheet.
pub(crate) const STYLE: &str = include_str!("html/style.css");

/// The page's script: zoom, search, sorting (see the module documentation).
pub(crate) const SCRIPT: &str = include_str!("html/script.js");

/// The page's Content-Security-Policy: nothing may be loaded, only the
/// inline style and script run, images only from `data:` URLs.
pub(crate) const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// Escapes `s` and sets `back-quoted` parts in `<code>`.
fn esc_code(s: &str) -> String {
    esc(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

fn counter_tds(c: &CounterRow) -> String {
    format!(
        r#"<td data-v="{}">{}</td><td data-v="{}">{}</td><td data-v="{}">{}</td><td data-v="{}">{}</td><td data-v="{}">{}</td><td data-v="{}">{}</td><td data-v="{}">{}</td>"#,
        c.live_bytes,
        format_bytes(c.live_bytes),
        c.peak_bytes,
        format_bytes(c.peak_bytes),
        c.peak_at_ns,
        peak_time(c),
        c.allocated_bytes,
        format_bytes(c.allocated_bytes),
        c.alloc_count,
        format_count(c.alloc_count),
        c.free_count,
        format_count(c.free_count),
        c.live_count,
        format_count(c.live_count)
    )
}

const COUNTER_TH: &str =
    "<th>live</th><th>peak</th><th>at</th><th>allocated</th><th>allocs</th><th>frees</th><th>live #</th>";

/// A percentile cell, sortable by its value in bytes.
fn pct_td(ps: &[crate::model::Percentile], p: f64) -> String {
    let v = ps.iter().find(|x| x.p == p).map_or(0, |x| x.value);
    format!(r#"<td data-v="{v}">{}</td>"#, pct(ps, p))
}

fn card(out: &mut Sink<'_>, label: &str, value: &str, bad: bool) {
    let _ = write!(
        out,
        r#"<div class="card{}"><b>{}</b><span>{}</span></div>"#,
        if bad { " bad" } else { "" },
        esc(value),
        esc(label)
    );
}

/// One retention section: its heading (`title`, HTML), the totals, the
/// arena bars and each arena's details.
fn retention_section(
    o: &mut Sink<'_>,
    id: &str,
    title: &str,
    s: &RetentionSummary,
    arenas: &[ArenaRow],
) {
    let _ = write!(
        o,
        "<h2 id=\"{id}\">{title}</h2><p>{} arenas, {} pinned by views after their owner was dropped. Capacity {}, reachable by live views {}, <b>wasted {}</b>.</p>",
        s.arenas,
        s.pinned_arenas,
        format_bytes(s.capacity_bytes),
        format_bytes(s.reachable_bytes),
        format_bytes(s.wasted_bytes)
    );
    o.push_str(&arenas_svg(arenas, 12));
    arena_details(o, arenas);
}

/// Each arena with live views: its figures, retainers, chains and fixes.
fn arena_details(o: &mut Sink<'_>, arenas: &[ArenaRow]) {
    for a in arenas.iter().filter(|a| a.live_views > 0).take(MAX_ARENAS) {
        let _ = write!(
            o,
            r#"<div class="arena"><b>arena #{} <code>{}</code></b> {}{} at <code>{}</code>: capacity {}, reachable {}, <b>wasted {}</b>, owner {}, {} live view(s)"#,
            a.id,
            esc(&a.op),
            esc(&a.elem_type),
            ShapeText(&a.shape),
            esc(&a.site),
            format_bytes(a.capacity_bytes),
            format_bytes(a.reachable_bytes),
            format_bytes(a.wasted_bytes),
            if a.owner_alive { "alive" } else { "dropped" },
            a.live_views
        );
        for rt in a.retainers.iter().take(10) {
            let _ = write!(
                o,
                r#"<div>view #{} <code>{}</code> at <code>{}</code>: footprint {}, exclusive retained <b>{}</b></div><div class="chain">"#,
                rt.view,
                esc(&rt.op),
                esc(&rt.site),
                format_bytes(rt.footprint_bytes),
                format_bytes(rt.exclusive_retained_bytes)
            );
            for (k, st) in rt.chain.iter().enumerate() {
                let _ = write!(
                    o,
                    r#"<div class="{}">{}#{} {} at {}{}</div>"#,
                    if st.alive { "" } else { "dropped" },
                    if k == 0 { "" } else { "&rarr; " },
                    st.view,
                    esc(&st.op),
                    esc(&st.site),
                    if st.alive { "" } else { " (dropped)" }
                );
                if k == 0 && rt.chain_elided > 0 {
                    let _ = write!(o, "<div>… {} steps …</div>", rt.chain_elided);
                }
            }
            o.push_str("</div>");
            if let Some(f) = &rt.fix {
                let _ = write!(o, r#"<div class="fix">{}</div>"#, esc_code(&f.text));
            }
        }
        if a.live_views > 1 {
            if let Some(f) = &a.fix {
                let _ = write!(o, r#"<div class="fix">{}</div>"#, esc_code(&f.text));
            }
        }
        o.push_str("</div>");
    }
}

fn sites(out: &mut Sink<'_>, title: &str, rows: &[SiteRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<h3>{}</h3><table class="sortable searchable sites"><thead><tr><th>bytes</th><th>objects</th><th title="95% interval of the estimated objects (Poisson and Horvitz-Thompson; see docs/JSON.md)">objects 95%</th><th>samples</th><th class="l">tag</th><th class="l">site</th></tr></thead><tbody>"#,
        esc(title)
    );
    for s in rows {
        let _ = write!(
            out,
            r#"<tr><td data-v="{}">{}</td><td data-v="{}">{}</td><td data-v="{}" title="bytes 95%: {}">{}</td><td data-v="{}">{}</td><td class="l name" title="{}">{}</td><td class="w"><code title="{}">{}</code></td></tr>"#,
            s.bytes,
            format_bytes(s.bytes),
            s.objects,
            format_count(s.objects),
            s.objects_high.saturating_sub(s.objects_low),
            if s.samples == 0 || s.bytes_low == s.bytes_high {
                "-".to_owned()
            } else {
                format!(
                    "{}-{}",
                    format_bytes(s.bytes_low),
                    format_bytes(s.bytes_high)
                )
            },
            if s.samples == 0 {
                "-".to_owned()
            } else if s.objects_low == s.objects_high {
                "exact".to_owned()
            } else {
                format!(
                    "{}-{}",
                    format_count(s.objects_low),
                    format_count(s.objects_high)
                )
            },
            s.samples,
            if s.samples == 0 {
                "-".to_owned()
            } else {
                format_count(s.samples)
            },
            esc(&sanitize::name(&s.tag)),
            esc(&sanitize::name(&s.tag)),
            esc(&s.frames.join("\n")),
            esc(&s.site)
        );
    }
    out.push_str("</tbody></table>");
}

/// The search and zoom controls: hidden until the script shows them (they
/// do nothing without it).
const CONTROLS: &str = r#"<div class="controls" id="controls" hidden><label>search <input type="search" id="search" placeholder="frame, site, tag" autocomplete="off"></label><span id="search-info"></span><span id="zoom">time <input type="range" id="zoom-from" min="0" max="1000" value="0" aria-label="zoom from"> <input type="range" id="zoom-to" min="0" max="1000" value="1000" aria-label="zoom to"> <output id="zoom-range">whole run</output> <button type="button" id="zoom-reset">reset zoom</button></span></div>"#;

const NAV: &str = r##"<nav><a href="#timeline">timeline</a><a href="#flame">flame graph</a><a href="#retention">retention</a><a href="#tags">tags</a><a href="#threads">threads</a><a href="#sites">sites</a></nav>"##;

/// Renders the self-contained page, charging every byte written to
/// `opts.budget`, with the flame graph of `opts.stacks` when given (a
/// report read from JSON carries no stacks). Every field is escaped; the
/// charts are bounded.
///
/// ```
/// use arenaprof_report::render::{html, Options};
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// let page = html::render(&r, Options::default()).unwrap();
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// ```
pub fn render(r: &Report, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let flame = match opts.stacks {
        Some(folded) => flamegraph::section(folded),
        None => r#"<h2 id="flame">Flame graph</h2><p>This report was read from JSON, which carries no stacks: make the page from the snapshot for a flame graph.</p>"#.to_owned(),
    };
    let mut o = Sink::markup(budget, "the HTML report");
    let m = &r.meta;
    let title = format!(
        "arenaprof: {}",
        if m.program.is_empty() {
            "report"
        } else {
            &m.program
        }
    );
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(&title)
    );
    let _ = write!(
        o,
        r#"<h1>{}</h1><div class="sub">pid {} · {} allocator · {} elapsed · sampling {} · snapshot format v{} · report schema v{}</div>"#,
        esc(&title),
        m.pid,
        esc(&m.allocator),
        esc(&format_ns(m.elapsed_ns)),
        esc(&m.sampling_mode),
        m.format_version,
        r.schema_version
    );
    o.push_str(r#"<div class="cards">"#);
    card(
        &mut o,
        "live at the end",
        &format_bytes(r.totals.live_bytes),
        false,
    );
    card(
        &mut o,
        &format!("peak, at {}", format_ns(r.totals.peak_at_ns)),
        &format_bytes(r.totals.peak_bytes),
        false,
    );
    card(
        &mut o,
        &format!("wasted in {} pinned arenas", r.retention.pinned_arenas),
        &format_bytes(r.retention.wasted_bytes),
        r.retention.wasted_bytes > 0,
    );
    card(
        &mut o,
        "resident (RSS)",
        &format_bytes(r.memory.rss_bytes),
        false,
    );
    card(
        &mut o,
        "profiler overhead",
        &format_bytes(r.overhead.total_bytes),
        false,
    );
    o.push_str("</div>");
    o.push_str(CONTROLS);
    o.push_str(NAV);

    // Timeline.
    o.push_str(r#"<h2 id="timeline">Live bytes over time</h2><p class="hint">All tags on one scale, stacked, with their total. Drag across any timeline chart (or use the time sliders above) to zoom every chart to that range.</p>"#);
    o.push_str(&combined_svg(&r.timeline));
    o.push_str(&legend_html(&r.timeline));
    o.push_str(r#"<h3>Each tag on its own scale</h3><p class="hint">Every strip is scaled to its own maximum, printed beside it; the bar under it is that maximum against the largest strip's.</p>"#);
    o.push_str(&timeline_svg(&r.timeline));
    o.push_str(&super::outside::process_svg(&r.timeline));
    if !r.timeline.jumps.is_empty() {
        o.push_str("<p>Biggest jumps:</p><ul>");
        for j in &r.timeline.jumps {
            let _ = write!(o, "<li>{}</li>", esc(&j.description));
        }
        o.push_str("</ul>");
    }

    o.push_str(&flame);

    // Retention: at its worst moment (when the run kept it), then at the end.
    if let Some(w) = &r.retention_worst {
        let mark = w.from_mark().map_or(String::new(), |(m, d, side)| {
            format!(
                " ({} {side} mark <code>{}</code>)",
                format_ns(d),
                esc(&m.label)
            )
        });
        let title = format!("Retention at its worst: {}{mark}", format_ns(w.t_ns));
        retention_section(&mut o, "retention", &title, &w.summary, &w.arena_rows);
    }
    let end_id = if r.retention_worst.is_some() {
        "retention-end"
    } else {
        "retention"
    };
    retention_section(
        &mut o,
        end_id,
        "Retention at the end: what views keep alive",
        &r.retention,
        &r.arenas,
    );

    // Tags and threads.
    let _ = write!(
        o,
        r#"<h2 id="tags">Tags</h2><table class="sortable searchable" id="tags-table"><thead><tr><th class="l">tag</th>{COUNTER_TH}<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr></thead><tbody>"#
    );
    for t in &r.tags {
        let _ = write!(
            o,
            r#"<tr><td class="l name" title="{}">{}</td>{}{}{}{}{}</tr>"#,
            esc(&sanitize::name(&t.name)),
            esc(&sanitize::name(&t.name)),
            counter_tds(&t.counters),
            pct_td(&t.size_percentiles, 50.0),
            pct_td(&t.size_percentiles, 90.0),
            pct_td(&t.size_percentiles, 99.0),
            pct_td(&t.size_percentiles, 100.0)
        );
    }
    let _ = write!(
        o,
        r#"</tbody></table><h2 id="threads">Threads</h2><p class="note">{figures}</p><table class="sortable" id="threads-table"><thead><tr><th class="l">thread</th>{COUNTER_TH}<th title="estimated from sampled records">p50~</th><th title="estimated from sampled records">p99~</th></tr></thead><tbody>"#,
        figures = esc(r.thread_figures())
    );
    for t in &r.threads {
        let _ = write!(
            o,
            r#"<tr><td class="l name" data-v="{}" title="{}">#{} {}{}</td>{}{}{}</tr>"#,
            t.slot,
            esc(&sanitize::name(&t.name)),
            t.slot,
            esc(&sanitize::name(&t.name)),
            match (t.alive, t.exited_folded) {
                (true, _) => String::new(),
                (false, 0) => " (exited)".to_owned(),
                (false, n) => format!(" (exited, {n} threads)"),
            },
            counter_tds(&t.counters),
            pct_td(&t.sampled_size_percentiles, 50.0),
            pct_td(&t.sampled_size_percentiles, 99.0)
        );
    }
    o.push_str("</tbody></table>");

    // Memory account.
    o.push_str(r#"<h2>Tracked bytes up to RSS</h2><table><tr><th class="l">rung</th><th>bytes</th><th class="l">what it is</th></tr>"#);
    for g in &r.memory.gap {
        let _ = write!(
            o,
            r#"<tr><td class="l">{}</td><td>{}</td><td class="w">{}</td></tr>"#,
            esc(&g.name),
            esc(&format_delta(g.bytes)),
            esc(&g.explanation)
        );
    }
    let _ = write!(
        o,
        r#"<tr><th class="l">RSS</th><th>{}</th><th class="l">peak RSS {}</th></tr></table>"#,
        format_bytes(if r.memory.gap_source == "mappings" {
            r.memory.mappings_rss_bytes
        } else {
            r.memory.rss_bytes
        }),
        format_bytes(r.memory.peak_rss_bytes)
    );
    let ov = &r.overhead;
    let _ = write!(
        o,
        "<p>Profiler overhead: {} resident ({:.1}% of RSS): headers {} ({} B each), heap {} ({} live), caches {}, tables {} of {} reserved{}; {} backtraces in {}; snapshot built in {}.</p>",
        format_bytes(ov.total_bytes),
        ov.percent_of_rss,
        format_bytes(ov.live_header_bytes),
        ov.header_bytes_per_alloc,
        format_bytes(ov.heap_resident_bytes),
        format_bytes(ov.internal_live_bytes),
        format_bytes(ov.cached_bytes),
        format_bytes(ov.tables_resident_bytes),
        format_bytes(ov.table_bytes),
        windows_note(ov.windows_reserved_bytes),
        format_count(ov.backtraces_captured),
        format_ns(ov.backtrace_ns),
        format_ns(ov.snapshot_ns)
    );

    super::outside::html(&mut o, r);

    // Sites.
    o.push_str(r#"<h2 id="sites">Allocation sites (sampled, unbiased estimates)</h2>"#);
    if r.sites.sampled_records == 0 {
        o.push_str("<p>No sampled stacks in this snapshot.</p>");
    }
    sites(&mut o, "Live at the end", &r.sites.live);
    sites(
        &mut o,
        &format!("Live at the peak ({})", format_ns(r.sites.peak_at_ns)),
        &r.sites.at_peak,
    );
    sites(&mut o, "Allocated (cumulative)", &r.sites.allocated);

    for sec in &r.sections {
        let _ = write!(o, "<h2>{}</h2><table>", esc(&sec.name));
        for kv in &sec.entries {
            let _ = write!(
                o,
                r#"<tr><td class="l">{}</td><td class="w">{}</td></tr>"#,
                esc(&kv.key),
                esc(&kv.value)
            );
        }
        o.push_str("</table>");
    }
    if !r.warnings.is_empty() {
        o.push_str("<h2>Warnings</h2><ul>");
        for w in &r.warnings {
            let _ = write!(o, r#"<li class="warn">{}</li>"#, esc(w));
        }
        o.push_str("</ul>");
    }
    let _ = writeln!(o, "<script>{SCRIPT}</script></body></html>");
    o.finish()
}
