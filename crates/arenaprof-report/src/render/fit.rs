//! Fitting text to a terminal's width: long cells cut in the middle (a
//! path keeps its file name and line), long lines wrapped at spaces.

/// Narrowest a cut cell gets.
pub const MIN_CELL: usize = 16;

/// `s` cut to `width` characters with `…` in the middle. A site
/// (`function (path/file.rs:line)`) keeps its function and file name whole
/// when they fit and loses the path's directories; otherwise the end kept
/// is at least what follows the last `/` or `(` (a file name and line),
/// when that leaves a quarter of the room for the start.
pub fn ellipsize_middle(s: &str, width: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= width {
        return s.to_owned();
    }
    if let Some((func, loc)) = s.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        let file = loc.rsplit('/').next().unwrap_or(loc).chars().count();
        let func_len = func.chars().count();
        // `func (…` + the end of the location + `)`.
        let room = width.saturating_sub(func_len + 4);
        if room >= file && room > 0 {
            let loc: Vec<char> = loc.chars().collect();
            let tail: String = loc[loc.len().saturating_sub(room)..].iter().collect();
            return format!("{func} (…{tail})");
        }
    }
    if width <= 1 {
        return "…".chars().take(width).collect();
    }
    let room = width - 1;
    let file = chars
        .iter()
        .rposition(|&c| c == '/' || c == '(')
        .map_or(0, |i| chars.len() - i - 1);
    let tail = file.max(room / 2).min(room - room / 4).max(1);
    let head = room - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `line` wrapped at spaces to at most `width` characters a line, the
/// continuation lines indented four more than the first; a word longer than
/// a line is cut in the middle. Lines that fit are returned as they are.
pub fn wrap(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_owned();
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let next_indent = (indent + 4).min(width / 2);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = " ".repeat(indent);
    let mut cur_len = indent;
    let mut empty = true;
    for word in line.trim_start_matches(' ').split(' ') {
        let w = word.chars().count();
        if !empty && cur_len + 1 + w > width {
            lines.push(std::mem::take(&mut cur));
            cur = " ".repeat(next_indent);
            cur_len = next_indent;
            empty = true;
        }
        let room = width.saturating_sub(cur_len + usize::from(!empty));
        let word = ellipsize_middle(word, room.max(MIN_CELL));
        if !empty {
            cur.push(' ');
            cur_len += 1;
        }
        cur_len += word.chars().count();
        cur.push_str(&word);
        empty = false;
    }
    lines.push(cur);
    lines.join("\n")
}

/// Every line of `text` wrapped to `width` ([`wrap`]).
pub fn wrap_all(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&wrap(l, width));
    }
    out
}

#[cfg(test)]
mod doc_examples {
    #[test]
    fn example_0() {
        use crate::render::fit::{ellipsize_middle, wrap};
        let site = "my_app::decoder::Cache::load (/home/me/src/my_app/src/decoder/cache.rs:42)";
        assert_eq!(
            ellipsize_middle(site, 56),
            "my_app::decoder::Cache::load (…/src/decoder/cache.rs:42)"
        );
        let cut = ellipsize_middle(site, 30);
        assert_eq!(cut.chars().count(), 30);
        assert!(
            cut.starts_with("my_app::") && cut.ends_with("cache.rs:42)"),
            "{cut}"
        );
        assert_eq!(
            wrap("  one two three four", 12),
            "  one two\n      three\n      four"
        );
    }
}
