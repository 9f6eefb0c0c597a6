//! The flame graph inside the HTML report: laid out here from the same
//! folded stacks `arenaprof flame` draws ([`crate::passes::stacks::page`]), as
//! plain HTML boxes (`<div class="fr">`) so that it reads without script,
//! scales with the page and its labels end in an ellipsis rather than
//! overflow. Each box carries its frame's name (`data-n`), its share of the
//! total (`data-x`, `data-w`) and a tooltip; the page's search marks the
//! boxes whose name matches with `class="fr match"`.

use crate::model::{Folded, Kind};
use crate::render::chart::esc;
use crate::sanitize;
use crate::units::format_bytes;
use std::fmt::Write;

/// Height of one frame's row, in pixels.
const ROW_PX: usize = 17;
/// Frames narrower than this share of the total are not drawn (nor their
/// callees, which are narrower still): at most this many boxes per row.
const MIN_SHARE: f64 = 1.0 / 2000.0;
/// Most boxes drawn; a line says when more were left out.
pub(crate) const MAX_FRAMES_DRAWN: usize = 10_000;

/// One box of the flame graph: a frame, its row (0 is the root) and its
/// extent, in the folded counts.
#[derive(Debug, PartialEq)]
struct FrameBox<'a> {
    name: &'a str,
    depth: usize,
    x: u64,
    w: u64,
}

/// Lays out folded lines (`a;b;c 123`): the stacks sorted frame by frame (so
/// that a frame's callees are contiguous, in name order, as inferno draws
/// them), each frame one box over the stacks that pass through it, under a
/// root `all` over everything. Returns the boxes at least `min_share` of the
/// total wide, at most `max` of them (the shallowest), the total, and how
/// many frames were left out. Holds only the open stack and the kept boxes
/// besides the sorted lines, not a tree of every frame.
fn layout(lines: &[String], min_share: f64, max: usize) -> (Vec<FrameBox<'_>>, u64, usize) {
    let mut stacks: Vec<(Vec<&str>, u64)> = lines
        .iter()
        .filter_map(|l| {
            let (path, count) = l.rsplit_once(' ')?;
            Some((path.split(';').collect(), count.parse().ok()?))
        })
        .collect();
    stacks.sort_by(|a, b| a.0.cmp(&b.0));
    let total = stacks.iter().fold(0u64, |a, s| a.saturating_add(s.1));
    let min_w = total as f64 * min_share;
    let mut boxes = vec![FrameBox {
        name: "all",
        depth: 0,
        x: 0,
        w: total,
    }];
    let mut left_out = 0usize;
    let mut open: Vec<(&str, u64)> = Vec::new();
    /// Closes the open frames above `keep` at `x`, keeping the wide ones.
    fn close<'a>(
        open: &mut Vec<(&'a str, u64)>,
        keep: usize,
        x: u64,
        min_w: f64,
        boxes: &mut Vec<FrameBox<'a>>,
        left_out: &mut usize,
    ) {
        while open.len() > keep {
            let (name, start) = open.pop().unwrap_or_default();
            let w = x - start;
            if w as f64 >= min_w {
                boxes.push(FrameBox {
                    name,
                    depth: open.len() + 1,
                    x: start,
                    w,
                });
            } else {
                *left_out += 1;
            }
        }
    }
    let mut x = 0u64;
    for (frames, count) in &stacks {
        let common = open
            .iter()
            .zip(frames)
            .take_while(|(o, f)| o.0 == **f)
            .count();
        close(&mut open, common, x, min_w, &mut boxes, &mut left_out);
        open.extend(frames[common..].iter().map(|f| (*f, x)));
        x = x.saturating_add(*count);
    }
    close(&mut open, 0, x, min_w, &mut boxes, &mut left_out);
    boxes.sort_by_key(|b| (b.depth, b.x));
    left_out += boxes.len().saturating_sub(max);
    boxes.truncate(max);
    (boxes, total, left_out)
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

/// The flame graph's section (heading included), from the stacks
/// [`crate::passes::stacks::page`] chose; a paragraph saying why when no
/// stack was sampled or the stacks were left out.
pub(crate) fn section(folded: &Folded) -> String {
    let mut s = String::from(r#"<h2 id="flame">Flame graph</h2>"#);
    if let Some(why) = &folded.omitted {
        let _ = write!(
            s,
            "<p>The flame graph is left out: {}.</p>",
            esc(&sanitize::line(why))
        );
        return s;
    }
    let (Some(kind), false) = (folded.kind, folded.lines.is_empty()) else {
        s.push_str("<p>No sampled stacks in this snapshot (sampling was off: set <code>ARENAPROF_SAMPLE=bytes</code>).</p>");
        return s;
    };
    let (lines, scale) = (&folded.lines, folded.scale.max(1));
    let what = match kind {
        Kind::Live => "Live bytes at the snapshot",
        Kind::Peak => "Nothing sampled was live at the snapshot; live bytes at the peak",
        _ => "Nothing sampled was live at the snapshot or the peak; bytes allocated (cumulative)",
    };
    let (boxes, total, narrow) = layout(lines, MIN_SHARE, MAX_FRAMES_DRAWN);
    let bytes = |v: u64| format_bytes(v.saturating_mul(scale));
    let _ = write!(
        s,
        r#"<p>{what} by allocation stack (sampled, unbiased estimates; {} in all), each stack rooted at its tag. Hover a frame for its bytes; the search box marks matching frames. The same stacks: <code>arenaprof flame</code> (SVG, <code>--peak</code>, <code>--alloc</code>, <code>--leaks</code>).</p>"#,
        bytes(total)
    );
    let whole = total.max(1) as f64;
    let mut html = String::new();
    let depth_max = boxes.iter().map(|b| b.depth).max().unwrap_or(0);
    for b in &boxes {
        let name = esc(b.name);
        let (x, share) = (b.x as f64 / whole, b.w as f64 / whole);
        let _ = write!(
            html,
            r#"<div class="fr" data-n="{name}" data-x="{x:.6}" data-w="{share:.6}" style="left:{:.4}%;width:{:.4}%;bottom:{}px;background:{}" title="{name}: {} ({:.2}%)">{name}</div>"#,
            x * 100.0,
            share * 100.0,
            b.depth * ROW_PX,
            colour(b.name),
            bytes(b.w),
            share * 100.0
        );
    }
    let _ = write!(
        s,
        r#"<div class="flame" id="flame-graph" data-kind="{}" style="height:{}px">{html}</div>"#,
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

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn frames_merge_over_their_stacks_in_name_order() {
        // `main::x` sorts between `main 2` and `main;f` as text; frame by
        // frame, `main` stays one box.
        let l = lines(&[
            "[t];main 2",
            "[t];main::x;g 4",
            "[t];main;f 10",
            "[t];main;e 5",
            "bad",
        ]);
        let (boxes, total, left_out) = layout(&l, 0.0, 100);
        assert_eq!((total, left_out), (21, 0));
        let b = |name: &str| boxes.iter().filter(|b| b.name == name).collect::<Vec<_>>();
        assert_eq!(b("main").len(), 1, "{boxes:?}");
        assert_eq!(
            *b("main")[0],
            FrameBox {
                name: "main",
                depth: 2,
                x: 0,
                w: 17
            }
        );
        // Callees in name order: e before f.
        assert_eq!(
            *b("e")[0],
            FrameBox {
                name: "e",
                depth: 3,
                x: 2,
                w: 5
            }
        );
        assert_eq!(
            *b("f")[0],
            FrameBox {
                name: "f",
                depth: 3,
                x: 7,
                w: 10
            }
        );
        assert_eq!(
            *b("main::x")[0],
            FrameBox {
                name: "main::x",
                depth: 2,
                x: 17,
                w: 4
            }
        );
        assert_eq!(
            *b("all")[0],
            FrameBox {
                name: "all",
                depth: 0,
                x: 0,
                w: 21
            }
        );
    }

    #[test]
    fn narrow_frames_and_frames_past_the_cap_are_left_out_and_counted() {
        let l = lines(&["a;b 1000", "a;c 1", "a;d;e 1"]);
        let (boxes, _, left_out) = layout(&l, 0.01, 100);
        let names: Vec<&str> = boxes.iter().map(|b| b.name).collect();
        assert_eq!(names, ["all", "a", "b"]);
        assert_eq!(left_out, 3);
        // The cap keeps the shallowest.
        let (boxes, _, left_out) = layout(&l, 0.0, 3);
        let names: Vec<&str> = boxes.iter().map(|b| b.name).collect();
        assert_eq!(names, ["all", "a", "b"]);
        assert_eq!(left_out, 3);
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
