//! The HTML page's static content: the flame graph, the combined chart,
//! labels that neither overlap nor get cut without their full text, and no
//! URL. (tools/arenaprof/tests/cli_html.rs drives the script in Chromium.)
//! Unit tests: the charts are private to the renderers.

use crate::budget::Budget;
use crate::fixtures;
use crate::model::{Kind, MarkRow, Report};
use crate::passes::stacks;
use crate::render::{chart, html};
use crate::{analyze, Options};
use arenaprof_snapshot::Snapshot;

fn page_of(r: &Report, snap: &Snapshot) -> String {
    let folded = stacks::page(snap, &r.arenas, &mut Budget::unlimited());
    html::render(
        r,
        crate::render::Options {
            stacks: Some(&folded),
            ..Default::default()
        },
    )
    .unwrap()
}

fn page() -> (Report, String) {
    let snap = fixtures::pinned_views();
    let r = analyze(&snap, &Options::default());
    let page = page_of(&r, &snap);
    (r, page)
}

#[test]
fn the_page_embeds_the_flame_graph_of_the_live_stacks() {
    let (_, page) = page();
    let snap = fixtures::pinned_views();
    let flame = &page[page.find(r#"id="flame-graph""#).unwrap()..];
    let flame = &flame[..flame.find("</div></div>").unwrap()];
    // Every frame of every live folded stack is a box (the fixture's stacks
    // are all wide enough to draw).
    let live = stacks::fold(&snap, None, Kind::Live, &mut Budget::unlimited()).unwrap();
    for line in live.lines {
        let (path, _) = line.rsplit_once(' ').unwrap();
        for frame in path.split(';') {
            let needle = format!(r#"data-n="{}""#, chart::esc(frame));
            assert!(flame.contains(&needle), "{needle}");
        }
    }
    assert!(flame.contains(r#"data-kind="live""#));
    // The root is the whole: 100% wide, at the bottom.
    assert!(flame.contains(
        r#"data-n="all" data-x="0.000000" data-w="1.000000" style="left:0.0000%;width:100.0000%;bottom:0px"#
    ));
    // Without a snapshot (a JSON report) the page says why there is none.
    let r = analyze(&snap, &Options::default());
    assert!(html::render(&r, Default::default())
        .unwrap()
        .contains("carries no stacks"));
    assert!(!html::render(&r, Default::default())
        .unwrap()
        .contains(r#"id="flame-graph""#));
}

#[test]
fn the_page_loads_nothing_and_says_so() {
    let (_, page) = page();
    assert!(page.contains(&format!(
        r#"<meta http-equiv="Content-Security-Policy" content="{}">"#,
        html::CSP
    )));
    for needle in ["http://", "https://", " src=", "<link", "url(", "@import"] {
        assert!(!page.contains(needle), "{needle}");
    }
    // The controls need the script: hidden until it runs.
    assert!(page.contains(r#"<div class="controls" id="controls" hidden>"#));
}

#[test]
fn one_scale_chart_stacks_every_tag_under_the_total() {
    let (r, page) = page();
    let combined = chart::combined_svg(&r.timeline);
    assert!(page.contains(&combined));
    for tag in &r.timeline.tags {
        assert!(combined.contains(&format!(r#"class="series area" data-tag="{tag}""#)));
    }
    assert!(combined.contains(r#"class="series total" data-tag="total""#));
    // The byte axis goes up to the largest total (811 MiB in the fixture).
    assert!(combined.contains(">811.0 MiB</text>"), "{combined}");
    // Each strip of the per-tag chart says its own maximum.
    let strips = chart::timeline_svg(&r.timeline);
    for max in ["max 763.0 MiB", "max 48.0 MiB", "max 1.0 MiB"] {
        assert!(strips.contains(max), "{max}");
    }
}

#[test]
fn mark_labels_at_one_moment_go_into_separate_rows() {
    let (mut r, _) = page();
    r.timeline.marks = (0..4)
        .map(|i| MarkRow {
            t_ns: 700_000_000 + i,
            label: format!("mark number {i}"),
        })
        .collect();
    let svg = chart::timeline_svg(&r.timeline);
    let mut ys: Vec<String> = svg
        .split(r#"<text class="ml""#)
        .skip(1)
        .map(|t| {
            assert!(!t[..t.find('>').unwrap()].contains("hidden"));
            let y = &t[t.find(" y=\"").unwrap() + 4..];
            y[..y.find('"').unwrap()].to_owned()
        })
        .collect();
    assert_eq!(ys.len(), 4);
    ys.dedup();
    assert_eq!(ys.len(), 4, "two labels share a row: {ys:?}");
}

#[test]
fn long_names_are_cut_with_the_whole_name_in_a_tooltip() {
    let mut snap = fixtures::pinned_views();
    let long = format!("decoder-cache-{}", "x".repeat(100));
    snap.tags[0].name = long.clone();
    let r = analyze(&snap, &Options::default());
    let page = page_of(&r, &snap);
    // The strip label is cut, its tooltip is whole.
    let strips = chart::timeline_svg(&r.timeline);
    assert!(strips.contains("decoder-cache-xxx…<title>"));
    assert!(strips.contains(&format!("<title>{long}</title>")));
    // Legend and tag table: the style sheet ends the name with an
    // ellipsis; the title has it whole.
    assert!(page.contains(&format!(r#"<li title="{long}">"#)));
    assert!(page.contains(&format!(r#"<td class="l name" title="{long}">{long}</td>"#)));
    assert!(html::STYLE.contains("td.name{max-width:260px;overflow:hidden;text-overflow:ellipsis}"));
}

#[test]
fn arena_labels_fit_inside_the_chart() {
    let (r, _) = page();
    let svg = chart::arenas_svg(&r.arenas, 12);
    // Each label starts at the left margin, on its own line above its bar.
    for t in svg.split(r#"<text class="alab" x=""#).skip(1) {
        assert!(t.starts_with("10\""), "{t}");
    }
    // The "wasted" label right of the longest bar ends inside 960 px.
    for t in svg.split(r#"<text class="wasted" x=""#).skip(1) {
        let x: f64 = t[..t.find('"').unwrap()].parse().unwrap();
        let text = &t[t.find('>').unwrap() + 1..t.find('<').unwrap()];
        assert!(x + text.chars().count() as f64 * 6.6 <= 960.0, "{x} {text}");
    }
}

#[test]
fn jump_labels_that_would_overlap_are_hidden_not_stacked() {
    let (mut r, _) = page();
    let tag = r.timeline.tags[0].clone();
    let jump = |t: u64| crate::model::Jump {
        tag: tag.clone(),
        delta_bytes: 160 << 10,
        from_ns: t - 1,
        to_ns: t,
        from_bytes: 0,
        to_bytes: 1 << 20,
        mark: None,
        description: format!("{tag} +160.0 KiB at {t} ns"),
    };
    // 1 ms apart on a 1.5 s axis: less than a pixel, the labels would overlap.
    r.timeline.jumps = vec![jump(800_000_000), jump(801_000_000), jump(1_400_000_000)];
    let svg = chart::timeline_svg(&r.timeline);
    let labels: Vec<&str> = svg
        .split(r#"<text class="jl""#)
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap()])
        .collect();
    assert_eq!(labels.len(), 3);
    assert!(!labels[0].contains("hidden"));
    assert!(
        labels[1].contains(r#"visibility="hidden""#),
        "{}",
        labels[1]
    );
    assert!(!labels[2].contains("hidden"));
}

/// Retention at its worst moment comes before the end state: its time, the
/// nearest mark, the wasted figure, and each arena's chain with its sites.
#[test]
fn the_page_shows_retention_at_its_worst_and_at_the_end() {
    let (r, page) = page();
    let w = r
        .retention_worst
        .as_ref()
        .expect("the fixture has a worst picture");
    let worst = page
        .find("Retention at its worst")
        .expect("no worst section");
    let end = page.find("Retention at the end").expect("no end section");
    assert!(worst < end);
    let section = &page[worst..end];
    assert!(
        section.contains(&crate::units::format_bytes(w.summary.wasted_bytes)),
        "{section}"
    );
    if let Some(m) = &w.nearest_mark {
        assert!(section.contains(&chart::esc(&m.label)), "{section}");
    }
    for a in w.arena_rows.iter().filter(|a| a.live_views > 0) {
        for rt in &a.retainers {
            for st in &rt.chain {
                assert!(section.contains(&chart::esc(&st.site)), "{}", st.site);
            }
        }
    }
}
