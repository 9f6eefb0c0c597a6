//! Table cells shared by the text and HTML renderers.

use crate::report::{CounterRow, Percentile};
use crate::units::{format_bytes, format_ns};

/// Percentile `p` of a size distribution as bytes; `-` when absent.
pub(crate) fn pct(ps: &[Percentile], p: f64) -> String {
    ps.iter()
        .find(|x| x.p == p)
        .map(|x| format_bytes(x.value))
        .unwrap_or_else(|| "-".to_owned())
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
