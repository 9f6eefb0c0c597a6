//! Byte and time formatting. Size parsing (for command-line thresholds) and
//! the byte formatter are the workspace's one grammar,
//! [`arenaprof_snapshot::size`], re-exported here.
//!
//! Sizes print in binary units (`762.9 MiB`).
//!
//! ```
//! use arenaprof_report::units::{format_bytes, parse_size};
//! assert_eq!(format_bytes(800_000_000), "762.9 MiB");
//! assert_eq!(parse_size("10MiB"), Ok(10 << 20));
//! assert_eq!(parse_size("16MB"), Ok(16_000_000));
//! ```

/// Formats a signed byte difference with an explicit sign (`+48.0 MiB`, `-80 B`, `0 B`).
pub fn format_delta(delta: i64) -> String {
    match delta {
        0 => "0 B".to_owned(),
        d if d > 0 => format!("+{}", format_bytes(d as u64)),
        d => format!("-{}", format_bytes(d.unsigned_abs())),
    }
}

/// Formats nanoseconds since start as seconds (`1.20 s`) or milliseconds (`3.4 ms`).
pub fn format_ns(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{:.2} s", ns as f64 / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

/// Formats a count with thousands separators (`1,000,000`).
pub fn format_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub use arenaprof_snapshot::size::{format_bytes, parse_size, SizeError};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_bytes() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(48 << 20), "48.0 MiB");
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
        assert_eq!(format_delta(-80), "-80 B");
        assert_eq!(format_delta(48 << 20), "+48.0 MiB");
    }

    #[test]
    fn formats_counts_and_times() {
        assert_eq!(format_count(1_000_000), "1,000,000");
        assert_eq!(format_count(12), "12");
        assert_eq!(format_ns(1_200_000_000), "1.20 s");
        assert_eq!(format_ns(3_400_000), "3.4 ms");
    }
}
