//! Strided footprints: which bytes of an arena a set of views can reach.
//!
//! Shared by the array registry (live figures) and the report tool (from a
//! snapshot), so both compute `reachable` and `wasted` the same way.

use crate::Layout;

/// Byte ranges `[start, end)` that one layout touches, merged and sorted.
pub fn runs(layout: &Layout) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if layout.shape.iter().any(|&d| d == 0) {
        return out;
    }
    let es = layout.elem_size as i64;
    let n = layout.shape.len();
    let mut idx = vec![0usize; n];
    loop {
        let mut off = layout.offset;
        for k in 0..n {
            off += idx[k] as i64 * layout.strides[k] as i64;
        }
        let s = (off * es) as u64;
        out.push((s, s + es as u64));
        let mut k = n;
        loop {
            if k == 0 {
                return merge(out);
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < layout.shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

fn merge(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Bytes reachable by the union of `layouts`.
pub fn reachable_bytes<'a>(layouts: impl IntoIterator<Item = &'a Layout>) -> u64 {
    let all: Vec<(u64, u64)> = layouts.into_iter().flat_map(runs).collect();
    merge(all).iter().map(|(s, e)| e - s).sum()
}
