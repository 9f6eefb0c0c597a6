//! Names and messages made safe to show: control characters escaped, long
//! names cut.
//!
//! Tag, thread, program, op, site and frame names come from the profiled
//! program (or from a hand-written file). In a terminal an escape sequence in
//! one would retitle the window or clear the screen; in SVG a control
//! character makes the document ill-formed XML, which browsers refuse. Text
//! and SVG output therefore show every *unsafe* character as a visible escape
//! (`\x1b`, `\u{202e}`): C0 controls (newline and tab included, inside a
//! name), DEL, C1 controls, the bidirectional overrides and isolates (which
//! reorder what a terminal shows), and U+FFFE/U+FFFF (not XML characters).
//! Names longer than [`MAX_NAME_CHARS`] are cut with an ellipsis, and
//! free-form lines (fixes, warnings, errors) at [`MAX_LINE_CHARS`]. JSON
//! output is never cut and escapes control characters itself; HTML escapes
//! them as character references ([`crate::render::html`]).
//!
//! The work is bounded by the length kept, not by the input: a 1 MiB name
//! costs [`MAX_NAME_CHARS`] steps each time it is shown.
//!
//! ```
//! use arenaprof_report::sanitize::{name, MAX_NAME_CHARS};
//! assert_eq!(name("tag\x1b]0;pwned\x07"), "tag\\x1b]0;pwned\\x07");
//! assert_eq!(name(&"a".repeat(1000)).chars().count(), MAX_NAME_CHARS);
//! assert_eq!(name("plain"), "plain");
//! ```

use std::borrow::Cow;
use std::fmt::Write;

/// Longest name shown in text and SVG output, in characters (escapes count
/// by their length).
pub const MAX_NAME_CHARS: usize = 256;
/// Longest free-form line (a fix, a warning, an error message).
pub const MAX_LINE_CHARS: usize = 2048;

/// Whether `c` is shown as an escape (see the [module documentation](self)).
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{fffe}'
            | '\u{ffff}'
    )
}

fn escape_len(c: char) -> usize {
    if (c as u32) < 0x80 {
        4
    } else {
        // \u{xxx} with 2 to 6 hex digits.
        5 + format!("{:x}", c as u32).len()
    }
}

fn push_escape(out: &mut String, c: char) {
    if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// `s` with unsafe characters escaped and cut to at most `max` characters,
/// the last an ellipsis when something was cut. Costs O(`max`).
pub(crate) fn name_max(s: &str, max: usize) -> Cow<'_, str> {
    let max = max.max(1);
    if s.len() <= max && !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut width = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let w = if is_unsafe(c) { escape_len(c) } else { 1 };
        let last = chars.peek().is_none();
        if width + w > max - 1 && !(last && width + w <= max) {
            out.push('…');
            break;
        }
        if w == 1 {
            out.push(c);
        } else {
            push_escape(&mut out, c);
        }
        width += w;
    }
    Cow::Owned(out)
}

/// A name for text or SVG: escaped, and cut at [`MAX_NAME_CHARS`] characters.
pub fn name(s: &str) -> Cow<'_, str> {
    name_max(s, MAX_NAME_CHARS)
}

/// A free-form line: escaped, and cut at [`MAX_LINE_CHARS`] characters.
pub fn line(s: &str) -> Cow<'_, str> {
    name_max(s, MAX_LINE_CHARS)
}

/// Escapes the unsafe characters of a whole text, newlines excepted, and
/// cuts nothing: the last line of defence of text output.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c != '\n' && is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_and_noncharacters() {
        assert_eq!(name("a\nb\tc\r"), "a\\x0ab\\x09c\\x0d");
        assert_eq!(name("x\u{9b}2J"), "x\\u{9b}2J");
        assert_eq!(name("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(name("\u{fffe}"), "\\u{fffe}");
        assert_eq!(name("ünïcode → ok"), "ünïcode → ok");
        assert_eq!(text("line\x1b[2J\nnext"), "line\\x1b[2J\nnext");
    }

    #[test]
    fn cuts_at_the_limit_counting_escapes() {
        assert_eq!(name_max("abcde", 5), "abcde");
        assert_eq!(name_max("abcdef", 5), "abcd…");
        assert_eq!(name_max("ab\x1bcd", 5), "ab…");
        assert_eq!(name_max("ab\x1b", 6), "ab\\x1b");
        assert_eq!(name_max("ééééé", 5), "ééééé");
        assert_eq!(name_max("éééééé", 5), "éééé…");
        assert_eq!(name_max("", 5), "");
        let long = "x".repeat(1 << 20);
        assert_eq!(name(&long).chars().count(), MAX_NAME_CHARS);
        for max in 1..12 {
            for s in ["", "a", "\x1b\x1b\x1b", "abc\u{202e}def", "ab", "éé\x07é"] {
                let n = name_max(s, max);
                let count: usize = n.chars().count();
                assert!(count <= max, "{s:?} {max}: {n:?}");
                assert!(!n.chars().any(is_unsafe), "{n:?}");
            }
        }
    }
}
