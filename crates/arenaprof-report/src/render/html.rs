//! The HTML report: one self-contained page (inline CSS, inline SVG charts,
//! a few lines of inline script), no network access of any kind.
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let page = arenaprof_report::render::html::render(&r);
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(!page.contains(" src=") && !page.contains("<link"));
//! ```

use super::cells::{pct, peak_time, ShapeText};
use super::chart::{arenas_svg, esc, timeline_svg};
use super::sink::Sink;
use crate::budget::{Budget, BudgetError};
use crate::report::{CounterRow, Report, SiteRow};
use crate::units::{format_bytes, format_count, format_delta, format_ns};
use std::fmt::Write;

/// Arenas listed in full.
pub const MAX_ARENAS: usize = 50;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-bottom:14px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:140px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
.bad b{color:#c0392b}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}td.w{white-space:normal;text-align:left}
.arena{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:10px 0}
.chain{font-family:ui-monospace,Menlo,monospace;font-size:12px;margin:4px 0 4px 12px}
.dropped{color:#999}.fix{background:#eefbea;border-left:3px solid #2e9b4f;padding:4px 8px;margin:6px 0}
code{font-family:ui-monospace,Menlo,monospace}
.warn{color:#a15c00}
"#;

const SCRIPT: &str = r#"
(function(){
  var charts = document.querySelectorAll('svg.chart');
  var ok = 0;
  for (var i = 0; i < charts.length; i++) {
    var svg = charts[i], series = svg.querySelectorAll('.series'), drawn = 0;
    for (var k = 0; k < series.length; k++) {
      var b = series[k].getBBox();
      if (b.width > 0 || b.height > 0) drawn++;
    }
    var good = series.length > 0 && drawn === series.length;
    svg.setAttribute('data-rendered', good ? 'true' : 'false');
    if (good) ok++;
  }
  document.body.setAttribute('data-charts-rendered', ok + '/' + charts.length);
})();
"#;

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
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        format_bytes(c.live_bytes),
        format_bytes(c.peak_bytes),
        peak_time(c),
        format_bytes(c.allocated_bytes),
        format_count(c.alloc_count),
        format_count(c.free_count),
        format_count(c.live_count)
    )
}

const COUNTER_TH: &str =
    "<th>live</th><th>peak</th><th>at</th><th>allocated</th><th>allocs</th><th>frees</th><th>live #</th>";

fn card(out: &mut Sink<'_>, label: &str, value: &str, bad: bool) {
    let _ = write!(
        out,
        r#"<div class="card{}"><b>{}</b><span>{}</span></div>"#,
        if bad { " bad" } else { "" },
        esc(value),
        esc(label)
    );
}

fn sites(out: &mut Sink<'_>, title: &str, rows: &[SiteRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<h3>{}</h3><table><tr><th>bytes</th><th>objects</th><th class="l">tag</th><th class="l">site</th></tr>"#,
        esc(title)
    );
    for s in rows {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td class="l">{}</td><td class="w"><code title="{}">{}</code></td></tr>"#,
            format_bytes(s.bytes),
            format_count(s.objects),
            esc(&s.tag),
            esc(&s.frames.join("\n")),
            esc(&s.site)
        );
    }
    out.push_str("</table>");
}

/// Renders the page (no budget: the page is bounded by the report's size).
pub fn render(r: &Report) -> String {
    render_within(r, &mut Budget::unlimited()).unwrap_or_default()
}

/// Renders the page, charging every byte written to `budget`. Every field
/// is escaped ([`esc`]); the charts are bounded (see [`timeline_svg`]).
pub fn render_within(r: &Report, budget: &mut Budget) -> Result<String, BudgetError> {
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
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
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

    // Timeline.
    o.push_str("<h2>Live bytes per tag over time</h2>");
    o.push_str(&timeline_svg(&r.timeline));
    o.push_str(&super::native::process_svg(&r.timeline));
    if !r.timeline.jumps.is_empty() {
        o.push_str("<p>Biggest jumps:</p><ul>");
        for j in &r.timeline.jumps {
            let _ = write!(o, "<li>{}</li>", esc(&j.description));
        }
        o.push_str("</ul>");
    }

    // Retention.
    let s = &r.retention;
    let _ = write!(
        o,
        "<h2>Retention: what views keep alive</h2><p>{} arenas, {} pinned by views after their owner was dropped. Capacity {}, reachable by live views {}, <b>wasted {}</b>.</p>",
        s.arenas,
        s.pinned_arenas,
        format_bytes(s.capacity_bytes),
        format_bytes(s.reachable_bytes),
        format_bytes(s.wasted_bytes)
    );
    o.push_str(&arenas_svg(&r.arenas, 12));
    for a in r
        .arenas
        .iter()
        .filter(|a| a.live_views > 0)
        .take(MAX_ARENAS)
    {
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

    // Tags and threads.
    let _ = write!(
        o,
        r#"<h2>Tags</h2><table><tr><th class="l">tag</th>{COUNTER_TH}<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>"#
    );
    for t in &r.tags {
        let _ = write!(
            o,
            r#"<tr><td class="l">{}</td>{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&t.name),
            counter_tds(&t.counters),
            pct(&t.size_percentiles, 50.0),
            pct(&t.size_percentiles, 90.0),
            pct(&t.size_percentiles, 99.0),
            pct(&t.size_percentiles, 100.0)
        );
    }
    let _ = write!(
        o,
        r#"</table><h2>Threads</h2><table><tr><th class="l">thread</th>{COUNTER_TH}<th title="estimated from sampled records">p50~</th><th title="estimated from sampled records">p99~</th></tr>"#
    );
    for t in &r.threads {
        let _ = write!(
            o,
            r#"<tr><td class="l">#{} {}{}</td>{}<td>{}</td><td>{}</td></tr>"#,
            t.slot,
            esc(&t.name),
            if t.alive { "" } else { " (exited)" },
            counter_tds(&t.counters),
            pct(&t.sampled_size_percentiles, 50.0),
            pct(&t.sampled_size_percentiles, 99.0)
        );
    }
    o.push_str("</table>");

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
        "<p>Profiler overhead: {} ({:.1}% of tracked): headers {} ({} B each), tables {}, internal {}; {} backtraces in {}; snapshot built in {}.</p>",
        format_bytes(ov.total_bytes),
        ov.percent_of_tracked,
        format_bytes(ov.live_header_bytes),
        ov.header_bytes_per_alloc,
        format_bytes(ov.table_bytes),
        format_bytes(ov.internal_live_bytes),
        format_count(ov.backtraces_captured),
        format_ns(ov.backtrace_ns),
        format_ns(ov.snapshot_ns)
    );

    let mut native = String::new();
    super::native::html(&mut native, r);
    o.push_str(&native);

    // Sites.
    o.push_str("<h2>Allocation sites (sampled, unbiased estimates)</h2>");
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
