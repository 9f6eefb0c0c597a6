//! Table cells shared by the text and HTML renderers.

use crate::model::{CounterRow, Percentile};
use crate::units::{format_bytes, format_ns};

/// Percentile `p` of a size distribution as bytes; `-` when absent.
pub(crate) fn pct(ps: &[Percentile], p: f64) -> String {
    ps.iter()
        .find(|x| x.p == p)
        .map(|x| format_bytes(x.value))
        .unwrap_or_else(|| "-".to_owned())
}

/// The overhead line's note on the header-free tracker's address windows
/// (`, address windows 128.0 GiB reserved`), empty without any.
pub(crate) fn windows_note(reserved: u64) -> String {
    if reserved == 0 {
        String::new()
    } else {
        format!(
            ", address windows {} reserved (address space only)",
            crate::units::format_bytes(reserved)
        )
    }
}

/// When the peak happened; `-` when the writer did not record it (0 with a
/// nonzero peak: per-thread rows carry no peak time).
pub(crate) fn peak_time(c: &CounterRow) -> String {
    if c.peak_at_ns == 0 && c.peak_bytes > 0 {
        "-".to_owned()
    } else {
        format_ns(c.peak_at_ns)
    }
}

/// A shape as `[2, 3]`, at most eight dimensions spelled out.
pub(crate) struct ShapeText<'a>(pub(crate) &'a [usize]);

impl std::fmt::Display for ShapeText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 8;
        f.write_str("[")?;
        for (i, d) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > SHOWN {
            write!(f, ", ... {} more", self.0.len() - SHOWN)?;
        }
        f.write_str("]")
    }
}
