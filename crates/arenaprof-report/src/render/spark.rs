//! Sparklines: a timeline column or the wasted-bytes series resampled to a
//! row of cells, drawn with block characters (the text report's timeline and
//! its BLAS section share them).

use super::sink::Sink;
use crate::model::{TimelineInfo, WastedRow};
use crate::units::format_bytes;
use std::fmt::Write;

/// Sparkline width in cells.
pub(crate) const SPARK_WIDTH: usize = 48;

/// Resamples one column of the timeline to `width` cells (the maximum in each cell).
pub(crate) fn resample(tl: &TimelineInfo, col: usize, width: usize) -> Vec<u64> {
    let (Some(first), Some(last)) = (tl.points.first(), tl.points.last()) else {
        return Vec::new();
    };
    let span = last.t_ns.saturating_sub(first.t_ns).max(1) as u128;
    let mut out: Vec<Option<u64>> = vec![None; width];
    for p in &tl.points {
        let x = ((p.t_ns.saturating_sub(first.t_ns) as u128 * (width as u128 - 1)) / span) as usize;
        let v = p.live_bytes.get(col).copied().unwrap_or(0);
        let cell = &mut out[x.min(width - 1)];
        *cell = Some(cell.map_or(v, |c| c.max(v)));
    }
    let mut prev = 0;
    out.into_iter()
        .map(|c| {
            prev = c.unwrap_or(prev);
            prev
        })
        .collect()
}

/// A sparkline of `values` scaled to their maximum.
pub(crate) fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if max == 0 {
                BARS[0]
            } else {
                let i = ((v as u128 * 8).div_ceil(max as u128)) as usize;
                BARS[i.min(8)]
            }
        })
        .collect()
}

/// The wasted-bytes series as `width` columns over `[from, to]`: each
/// column the highest value in force during it (a step function: a value
/// holds until the next point).
pub(crate) fn resample_wasted(series: &[WastedRow], from: u64, to: u64, width: usize) -> Vec<u64> {
    let span = to.saturating_sub(from).max(1) as u128;
    let mut out = vec![0u64; width];
    if width == 0 {
        return out;
    }
    let col = |t: u64| {
        ((t.saturating_sub(from) as u128 * width as u128 / (span + 1)) as usize).min(width - 1)
    };
    for (i, p) in series.iter().enumerate() {
        let start = col(p.t_ns.max(from));
        let end = series.get(i + 1).map_or(width - 1, |n| {
            col(n.t_ns.max(from)).saturating_sub(1).max(start)
        });
        for v in &mut out[start..=end] {
            *v = (*v).max(p.wasted_bytes);
        }
    }
    out
}

/// One sparkline row, `  LABEL |▁▂█| max M, end E`, the label padded to
/// `width` characters.
pub(crate) fn write_row(
    out: &mut Sink<'_>,
    label: &str,
    width: usize,
    vals: &[u64],
    max: u64,
    end: u64,
) {
    let _ = writeln!(
        out,
        "  {label:<width$} |{}| max {}, end {}",
        sparkline(vals),
        format_bytes(max),
        format_bytes(end)
    );
}

/// The row of timeline column `col`: its values resampled to
/// [`SPARK_WIDTH`] cells, their maximum and the last point's value.
pub(crate) fn write_column(
    out: &mut Sink<'_>,
    tl: &TimelineInfo,
    col: usize,
    label: &str,
    width: usize,
) {
    let vals = resample(tl, col, SPARK_WIDTH);
    let max = vals.iter().copied().max().unwrap_or(0);
    let end = tl
        .points
        .last()
        .and_then(|p| p.live_bytes.get(col))
        .copied()
        .unwrap_or(0);
    write_row(out, label, width, &vals, max, end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_max() {
        assert_eq!(sparkline(&[0, 4, 8]), " ▄█");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline(&[1, u64::MAX]), "▁█");
    }

    #[test]
    fn wasted_series_is_a_step_function() {
        let p = |t_ns, wasted_bytes| WastedRow { t_ns, wasted_bytes };
        assert_eq!(
            resample_wasted(&[p(10, 5), p(30, 0)], 0, 39, 4),
            vec![0, 5, 5, 0]
        );
    }
}
