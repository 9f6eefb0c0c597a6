//! Aligned plain-text tables.

use super::fit::{ellipsize_middle, MIN_CELL};

/// A table whose first column is left-aligned and the others right-aligned.
#[derive(Clone, Debug, Default)]
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    left: Vec<bool>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(head: &[&str]) -> Table {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            left: (0..head.len()).map(|c| c == 0).collect(),
        }
    }

    /// Left-aligns column `col` too.
    pub fn align_left(mut self, col: usize) -> Table {
        if let Some(l) = self.left.get_mut(col) {
            *l = true;
        }
        self
    }

    /// Adds a row (missing cells print empty, extra ones are dropped).
    pub fn row(&mut self, mut cells: Vec<String>) {
        debug_assert!(
            cells.len() <= self.head.len(),
            "{} cells for {} columns",
            cells.len(),
            self.head.len()
        );
        cells.resize(self.head.len(), String::new());
        self.rows.push(cells);
    }

    /// Renders with `indent` before each line.
    pub fn render(&self, indent: &str) -> String {
        self.render_width(indent, usize::MAX)
    }

    /// Renders with `indent` before each line, in at most `max` characters
    /// a line where cutting allows: the widest left-aligned column is
    /// narrowed first (not below [`MIN_CELL`]), and its longer cells are cut
    /// in the middle ([`ellipsize_middle`]: a site keeps its file and line);
    /// when that is not enough, columns are left out from the right (a last
    /// line names them).
    pub fn render_width(&self, indent: &str, max: usize) -> String {
        let n = self.head.len();
        let width = |c: usize| {
            std::iter::once(&self.head)
                .chain(&self.rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        };
        let mut widths: Vec<usize> = (0..n).map(width).collect();
        // Columns shown: all, less those dropped from the right when
        // narrowing is not enough (never the first two).
        let mut shown = n;
        let total = |w: &[usize], k: usize| {
            indent.len() + w[..k].iter().sum::<usize>() + 2 * k.saturating_sub(1)
        };
        loop {
            while total(&widths, shown) > max {
                let over = total(&widths, shown) - max;
                let Some(c) = (0..shown)
                    .filter(|&c| self.left[c] && widths[c] > MIN_CELL)
                    .max_by_key(|&c| (widths[c], c))
                else {
                    break;
                };
                widths[c] = widths[c].saturating_sub(over).max(MIN_CELL);
            }
            if total(&widths, shown) <= max || shown <= 2 {
                break;
            }
            shown -= 1;
        }
        let mut out = String::new();
        for r in std::iter::once(&self.head).chain(&self.rows) {
            let mut line = indent.to_owned();
            for (c, cell) in r.iter().take(shown).enumerate() {
                let cut = ellipsize_middle(cell, widths[c]);
                let pad = widths[c].saturating_sub(cut.chars().count());
                if c > 0 {
                    line.push_str("  ");
                }
                if self.left[c] {
                    line.push_str(&cut);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(&cut);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if shown < n {
            out.push_str(&format!(
                "{indent}(not shown: {}; widen with --width)\n",
                self.head[shown..].join(", ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod doc_examples {
    #[test]
    fn example_0() {
        let mut t = crate::render::table::Table::new(&["tag", "live"]);
        t.row(vec!["array-base".into(), "1.0 MiB".into()]);
        assert_eq!(
            t.render("  "),
            "  tag            live\n  array-base  1.0 MiB\n"
        );
    }

    #[test]
    fn example_1() {
        let mut t = crate::render::table::Table::new(&["bytes", "site"]).align_left(1);
        t.row(vec![
            "1.0 MiB".into(),
            "my_app::load (/very/long/path/to/the/source/of/load.rs:7)".into(),
        ]);
        let out = t.render_width("  ", 40);
        assert!(out.lines().all(|l| l.chars().count() <= 40), "{out}");
        assert!(out.contains("load.rs:7)"));
    }
}
