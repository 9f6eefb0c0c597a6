//! The one size grammar of the workspace, and its one byte formatter
//! ([`format_bytes`]), for command-line thresholds
//! (`check --max-wasted 1.5GiB`) and environment variables
//! (`ARENAPROF_SAMPLE=bytes:512KiB`, `ARENAPROF_WARN_PINNED=64MiB`,
//! `ARENAPROF_GEMM_WORKSPACE_CAP=16MiB`).
//!
//! A size is a plain byte count or a number with a unit: `KiB`/`MiB`/`GiB`/
//! `TiB` (powers of 1024), `KB`/`MB`/`GB`/`TB` (powers of 1000), or the short
//! `K`/`M`/`G`/`T`, which mean powers of 1024 as in most memory tools; `B`
//! for bytes. Case does not matter, a space may stand before the unit, and
//! a decimal fraction is allowed (`1.5GiB`, rounded to the nearest byte).
//!
//! ```
//! use arenaprof_snapshot::size::parse_size;
//! assert_eq!(parse_size("10MiB"), Ok(10 << 20));
//! assert_eq!(parse_size("16MB"), Ok(16_000_000));
//! assert_eq!(parse_size("1.5G"), Ok(3 << 29));
//! assert!(parse_size("10 furlongs").is_err());
//! ```

/// Formats a byte count with a binary unit and one decimal (`0 B`, `80 B`,
/// `1.5 KiB`, `762.9 MiB`): every figure the workspace prints for people.
///
/// ```
/// use arenaprof_snapshot::size::format_bytes;
/// assert_eq!(format_bytes(80), "80 B");
/// assert_eq!(format_bytes(3 << 29), "1.5 GiB");
/// assert_eq!(format_bytes(800_000_000), "762.9 MiB");
/// ```
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

/// Why a size could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SizeError(String);

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

/// Reads a size from environment variable `var`: `None` when unset; when set
/// but not a size, one line on stderr (`arenaprof: VAR=...: invalid size
/// ...; ignored`) and `None`. A closed stderr is ignored.
///
/// ```
/// assert_eq!(arenaprof_snapshot::size::from_env("ARENAPROF_DOC_UNSET_SIZE"), None);
/// ```
pub fn from_env(var: &str) -> Option<u64> {
    let v = std::env::var(var).ok()?;
    match parse_size(&v) {
        Ok(n) => Some(n),
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "arenaprof: {var}={v:?}: {e}; ignored"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("10 mib"), Ok(10 << 20));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2kb"), Ok(2000));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("10 furlongs").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1.2.3").is_err());
        assert!(parse_size("99999999999999TiB").is_err());
    }
}
