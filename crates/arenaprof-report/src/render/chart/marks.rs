//! Label placement for timeline marks: labels that would collide are moved
//! into further rows, so no two ever overlap. The page's script runs the same
//! rule again when the time range is zoomed (`script.js`, `stagger`).

/// Pixels per character assumed for an 11 px label (a little wider than the
/// average glyph, so an estimate never underlaps).
pub const CHAR_PX: f64 = 6.6;
/// Horizontal space kept between two labels of one row.
pub const PAD_PX: f64 = 6.0;

/// Where one label goes: its row (0 is the top one) and whether it is drawn
/// to the right of its line (`true`, `text-anchor="start"`) or to the left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Row, counted from the top of the band.
    pub row: usize,
    /// Drawn right of the line (else left of it, at the chart's right edge).
    pub right: bool,
}

/// Places labels of estimated widths `w` at line positions `x` (pixels,
/// any order) inside `[0, right_edge]`: each goes right of its line unless
/// that would cross the right edge, in the first row where it overlaps no
/// label already placed. Labels that fit in none of `max_rows` rows are
/// `None` (their line stays, with its tooltip).
pub fn stagger(labels: &[(f64, f64)], right_edge: f64, max_rows: usize) -> Vec<Option<Placed>> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| labels[a].0.total_cmp(&labels[b].0));
    let mut rows: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut out = vec![None; labels.len()];
    for i in order {
        let (x, w) = labels[i];
        let right = x + 3.0 + w <= right_edge;
        let span = if right {
            (x + 3.0, x + 3.0 + w)
        } else {
            (x - 3.0 - w, x - 3.0)
        };
        let free = |row: &Vec<(f64, f64)>| {
            row.iter()
                .all(|&(a, b)| span.1 + PAD_PX <= a || b + PAD_PX <= span.0)
        };
        let row = match rows.iter().position(free) {
            Some(r) => r,
            None if rows.len() < max_rows => {
                rows.push(Vec::new());
                rows.len() - 1
            }
            None => continue,
        };
        rows[row].push(span);
        out[i] = Some(Placed { row, right });
    }
    out
}

/// Rows [`stagger`] used.
pub fn rows_used(placed: &[Option<Placed>]) -> usize {
    placed
        .iter()
        .flatten()
        .map(|p| p.row + 1)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(labels: &[(f64, f64)], placed: &[Option<Placed>]) -> Vec<(usize, f64, f64)> {
        labels
            .iter()
            .zip(placed)
            .filter_map(|(&(x, w), p)| {
                p.map(|p| {
                    if p.right {
                        (p.row, x + 3.0, x + 3.0 + w)
                    } else {
                        (p.row, x - 3.0 - w, x - 3.0)
                    }
                })
            })
            .collect()
    }

    #[test]
    fn placed_labels_never_overlap_and_stay_inside() {
        // 60 labels of mixed widths, clustered: many collisions.
        let labels: Vec<(f64, f64)> = (0..60)
            .map(|i| (((i * 37) % 200) as f64 * 4.0, 20.0 + (i % 7) as f64 * 15.0))
            .collect();
        let placed = stagger(&labels, 960.0, 6);
        let s = spans(&labels, &placed);
        assert!(s.len() > 20, "most labels placed: {}", s.len());
        assert!(
            placed.iter().any(Option::is_none),
            "some did not fit in 6 rows"
        );
        for (i, a) in s.iter().enumerate() {
            assert!(
                a.1 >= -100.0 && a.2 <= 960.0,
                "{a:?} crosses the right edge"
            );
            for b in &s[i + 1..] {
                if a.0 == b.0 {
                    assert!(
                        a.2 + PAD_PX <= b.1 || b.2 + PAD_PX <= a.1,
                        "{a:?} overlaps {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_label_at_the_right_edge_is_drawn_left_of_its_line() {
        let p = stagger(&[(950.0, 80.0)], 960.0, 2);
        assert_eq!(
            p,
            [Some(Placed {
                row: 0,
                right: false
            })]
        );
        assert_eq!(rows_used(&p), 1);
    }
}

#[cfg(test)]
mod doc_examples {
    #[test]
    fn example_0() {
        use crate::render::chart::marks::stagger;
        // Two labels 10 px apart collide: the second goes one row down.
        let p = stagger(&[(100.0, 50.0), (110.0, 50.0), (400.0, 50.0)], 960.0, 3);
        assert_eq!(
            p.iter().map(|p| p.unwrap().row).collect::<Vec<_>>(),
            [0, 1, 0]
        );
    }
}
