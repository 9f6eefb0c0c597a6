//! The flame graph inside the HTML report: laid out here from the same
//! folded stacks `arenaprof flame` draws ([`flame::folded_within`]), as
//! plain HTML boxes (`<div class="fr">`) so that it reads without script,
//! scales with the page and its labels end in an ellipsis rather than
//! overflow. Each box carries its frame's name (`data-n`), its share of the
//! total (`data-x`, `data-w`) and a tooltip; the page's search marks the
//! boxes whose name matches with `class="fr match"`.

use crate::budget::Budget;
use crate::render::chart::esc;
use crate::render::flame::{self, FlameError, Kind};
use crate::report::ArenaRow;
use crate::sanitize;
use crate::units::format_bytes;
use arenaprof_snapshot::Snapshot;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Height of one frame's row, in pixels.
const ROW_PX: usize = 17;
/// Frames narrower than this share of the total are not drawn (nor their
/// callees, which are narrower still): at most this many boxes per row.
const MIN_SHARE: f64 = 1.0 / 2000.0;
/// Most boxes drawn; a line says when more were left out.
pub const MAX_FRAMES_DRAWN: usize = 10_000;

/// One frame of the merged stacks.
#[derive(Default)]
struct Node {
    value: u64,
    children: BTreeMap<String, usize>,
}

/// The merged tree of folded lines (`a;b;c 123`): node 0 is the root.
fn tree(lines: &[String]) -> Vec<(String, Node)> {
    let mut nodes = vec![("all".to_owned(), Node::default())];
    for line in lines {
        let Some((path, count)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue;
        };
        let mut at = 0;
        nodes[0].1.value = nodes[0].1.value.saturating_add(count);
        for frame in path.split(';') {
            let next = match nodes[at].1.children.get(frame) {
                Some(&i) => i,
                None => {
                    nodes.push((frame.to_owned(), Node::default()));
                    let i = nodes.len() - 1;
                    nodes[at].1.children.insert(frame.to_owned(), i);
                    i
                }
            };
            nodes[next].1.value = nodes[next].1.value.saturating_add(count);
            at = next;
        }
    }
    nodes
}

/// A colour for a frame, the same for the same name: allocation tags
/// orange, everything else from greens to blues (inferno's memory palette).
fn colour(name: &str) -> String {
    if name == "all" {
        return "#c8c8c8".to_owned();
    }
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    if name.starts_with("[tag ") {
        return format!("hsl({},80%,65%)", 25 + h % 20);
    }
    format!(
        "hsl({},{}%,{}%)",
        95 + h % 100,
        45 + (h >> 8) % 20,
        60 + (h >> 16) % 12
    )
}

/// The flame graph's section (heading included): live bytes by allocation
/// stack, else (nothing live was sampled) the bytes live at the peak, else
/// the cumulative allocated bytes; a paragraph saying why when no stack was
/// sampled. The folded stacks are charged to `budget` when they fit in it;
/// when they do not, the section says so and the rest of the page is made
/// as without a snapshot (nothing charged).
pub(crate) fn section(snap: &Snapshot, arenas: &[ArenaRow], budget: &mut Budget) -> String {
    let mut s = String::from(r#"<h2 id="flame">Flame graph</h2>"#);
    let mut found = None;
    let mut trial = budget.clone();
    for kind in [Kind::Live, Kind::Peak, Kind::Alloc] {
        match flame::folded_within(snap, Some(arenas), kind, &mut trial) {
            Ok((lines, scale)) if !lines.is_empty() => {
                found = Some((kind, lines, scale));
                break;
            }
            Ok(_) => {}
            Err(FlameError::Budget(e)) => {
                let _ = write!(
                    s,
                    "<p>The flame graph is left out: {}.</p>",
                    esc(&sanitize::line(&e.to_string()))
                );
                return s;
            }
            Err(_) => {}
        }
    }
    let Some((kind, lines, scale)) = found else {
        s.push_str("<p>No sampled stacks in this snapshot (sampling was off: set <code>ARENAPROF_SAMPLE=bytes</code>).</p>");
        return s;
    };
    *budget = trial;
    let what = match kind {
        Kind::Live => "Live bytes at the snapshot",
        Kind::Peak => "Nothing sampled was live at the snapshot; live bytes at the peak",
        _ => "Nothing sampled was live at the snapshot or the peak; bytes allocated (cumulative)",
    };
    let nodes = tree(&lines);
    let total = nodes[0].1.value.max(1);
    let bytes = |v: u64| format_bytes(v.saturating_mul(scale));
    let _ = write!(
        s,
        r#"<p>{what} by allocation stack (sampled, unbiased estimates; {} in all), each stack rooted at its tag. Hover a frame for its bytes; the search box marks matching frames. The same stacks: <code>arenaprof flame</code> (SVG, <code>--peak</code>, <code>--alloc</code>, <code>--leaks</code>).</p>"#,
        bytes(nodes[0].1.value)
    );
    // Depth-first from the root, callees in name order (inferno's layout),
    // leaving out boxes too narrow to see.
    let mut boxes = String::new();
    let mut drawn = 0usize;
    let mut narrow = 0usize;
    let mut depth_max = 0usize;
    let mut stack = vec![(0usize, 0u64, 0usize)];
    while let Some((i, x, depth)) = stack.pop() {
        let (name, node) = &nodes[i];
        let share = node.value as f64 / total as f64;
        if share < MIN_SHARE || drawn >= MAX_FRAMES_DRAWN {
            narrow += 1;
            continue;
        }
        drawn += 1;
        depth_max = depth_max.max(depth);
        let name = esc(name);
        let _ = write!(
            boxes,
            r#"<div class="fr" data-n="{name}" data-x="{:.6}" data-w="{share:.6}" style="left:{:.4}%;width:{:.4}%;bottom:{}px;background:{}" title="{name}: {} ({:.2}%)">{name}</div>"#,
            x as f64 / total as f64,
            x as f64 / total as f64 * 100.0,
            share * 100.0,
            depth * ROW_PX,
            colour(&nodes[i].0),
            bytes(node.value),
            share * 100.0
        );
        let mut cx = x;
        let mut kids = Vec::new();
        for &c in node.children.values() {
            kids.push((c, cx, depth + 1));
            cx = cx.saturating_add(nodes[c].1.value);
        }
        stack.extend(kids.into_iter().rev());
    }
    let _ = write!(
        s,
        r#"<div class="flame" id="flame-graph" data-kind="{}" style="height:{}px">{boxes}</div>"#,
        match kind {
            Kind::Live => "live",
            Kind::Peak => "peak",
            Kind::Alloc => "alloc",
            Kind::Leaks => "leaks",
        },
        (depth_max + 1) * ROW_PX
    );
    if narrow > 0 {
        let _ = write!(
            s,
            r#"<p class="note">{narrow} frames narrower than {:.2}% of the total (or past {MAX_FRAMES_DRAWN} frames) are not drawn; <code>arenaprof flame</code> draws them all.</p>"#,
            MIN_SHARE * 100.0
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_merges_common_prefixes_and_sums_counts() {
        let lines = [
            "[tag a];main;f 10",
            "[tag a];main;g 5",
            "[tag b];main 1",
            "bad",
            "x y",
        ]
        .map(String::from);
        let t = tree(&lines);
        assert_eq!(t[0].1.value, 16);
        let a = t[0].1.children["[tag a]"];
        assert_eq!(t[a].1.value, 15);
        let main = t[a].1.children["main"];
        assert_eq!(t[main].1.children.len(), 2);
        assert_eq!(t[t[main].1.children["g"]].1.value, 5);
    }

    #[test]
    fn colours_are_stable_per_name_and_tags_stand_out() {
        assert_eq!(colour("main"), colour("main"));
        let hue = |c: String| -> u64 { c[4..c.find(',').unwrap()].parse().unwrap() };
        for name in ["[tag a]", "[tag gemm-workspace]", "[tag untagged]"] {
            assert!((25..45).contains(&hue(colour(name))), "{name}");
        }
        for name in ["main", "demo::load", "alloc::vec::Vec<T>::push"] {
            assert!((95..195).contains(&hue(colour(name))), "{name}");
        }
    }
}
