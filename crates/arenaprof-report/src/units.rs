//! Byte and time formatting, and size parsing for command-line limits.
//!
//! Sizes print in binary units (`762.9 MiB`). Parsing accepts plain byte
//! counts and both unit families: `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024),
//! `KB`/`MB`/`GB`/`TB` (powers of 1000), and the short `K`/`M`/`G`/`T`, which
//! mean powers of 1024 as in most memory tools. Case does not matter, and a
//! decimal fraction is allowed (`1.5GiB`).
//!
//! ```
//! use arenaprof_report::units::{format_bytes, parse_size};
//! assert_eq!(format_bytes(800_000_000), "762.9 MiB");
//! assert_eq!(parse_size("10MiB"), Ok(10 << 20));
//! assert_eq!(parse_size("16MB"), Ok(16_000_000));
//! ```

/// Formats a byte count with a binary unit and one decimal (`0 B`, `80 B`, `1.5 KiB`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

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

/// Why a size could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeError(pub String);

impl std::fmt::Display for SizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SizeError {}

/// Parses a size such as `10MiB`, `16MB`, `1.5G`, `4096` or `0`.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let bad = || {
        SizeError(format!(
            "invalid size {s:?}: expected a number with an optional unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, K, M, G, T)"
        ))
    };
    if num.is_empty() {
        return Err(bad());
    }
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    if let Ok(n) = num.parse::<u64>() {
        return n
            .checked_mul(mult)
            .ok_or_else(|| SizeError(format!("size {s:?} is too large")));
    }
    let f: f64 = num.parse().map_err(|_| bad())?;
    let v = f * mult as f64;
    if !v.is_finite() || v >= u64::MAX as f64 {
        return Err(SizeError(format!("size {s:?} is too large")));
    }
    Ok(v.round() as u64)
}

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
    fn parses_sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("10 mib"), Ok(10 << 20));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2kb"), Ok(2000));
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("10 furlongs").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999999TiB").is_err());
    }

    #[test]
    fn formats_counts_and_times() {
        assert_eq!(format_count(1_000_000), "1,000,000");
        assert_eq!(format_count(12), "12");
        assert_eq!(format_ns(1_200_000_000), "1.20 s");
        assert_eq!(format_ns(3_400_000), "3.4 ms");
    }
}
