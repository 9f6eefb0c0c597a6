//! Strided footprints: which bytes of an arena a set of views can reach.
//!
//! Shared by the array registry (live figures) and the report tool (from a
//! snapshot), so both compute `reachable` and `wasted` the same way.
//!
//! Every function here is exact. The work is bounded by the *runs* of a layout,
//! not by its elements: a layout is first reduced to a canonical form
//! ([`Runs`]): axes of length 1 and stride 0 are dropped, negative strides are
//! flipped, axes are sorted by stride, every axis whose stride does not exceed
//! the current contiguous run is folded into the run, and axes that continue
//! each other (`stride[k+1] == dim[k] * stride[k]`) are merged. A contiguous
//! 800 MB buffer is one run; `a[::2, :]` of a C-ordered matrix is one run per
//! row. Then:
//!
//! - one non-self-overlapping layout costs O(ndim) (its byte count is
//!   `runs * run_bytes`);
//! - layouts whose byte hulls do not overlap are counted independently;
//! - a layout that is one run covering the hulls of the others it overlaps
//!   (an owner that is still alive) settles its cluster in O(1);
//! - anything else is a k-way merge of sorted run streams: O(R log S) time for
//!   R runs in S streams, O(S) memory, never a per-element bitmap.
//!
//! Negative offsets and strides are allowed (positions are computed in 128-bit
//! integers, saturating, so a corrupt snapshot cannot overflow or panic).
//!
//! ```
//! use arenaprof_snapshot::{footprint, Layout};
//! let owner = Layout { offset: 0, shape: vec![1000], strides: vec![1], elem_size: 8 };
//! let head = Layout { offset: 0, shape: vec![10], strides: vec![1], elem_size: 8 };
//! let evens = Layout { offset: 0, shape: vec![500], strides: vec![2], elem_size: 8 };
//! assert_eq!(footprint::reachable_bytes([&owner]), 8000);
//! assert_eq!(footprint::reachable_bytes([&head, &evens]), 10 * 8 + 495 * 8);
//! assert!(footprint::overlaps(&head, &evens));
//! ```

use crate::Layout;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A layout in canonical run form: runs of `run` bytes starting at
/// `base + sum(i[k] * axes[k].1)` for `i[k] < axes[k].0`.
///
/// `axes` are sorted by stride ascending; every dim is at least 2 and every
/// stride is greater than `run` (axes with smaller strides were folded into
/// the run).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Runs {
    /// Byte position of the lowest element.
    pub base: i128,
    /// Bytes in one contiguous run.
    pub run: u128,
    /// Outer axes `(dim, stride_bytes)`, stride ascending.
    pub axes: Vec<(u128, u128)>,
}

impl Runs {
    /// The canonical form of `layout`, or `None` when it reaches no byte
    /// (a zero-length axis or zero-sized elements).
    ///
    /// ```
    /// use arenaprof_snapshot::{footprint::Runs, Layout};
    /// // A 4x3 C-ordered matrix transposed: still one 96-byte run.
    /// let t = Layout { offset: 0, shape: vec![3, 4], strides: vec![1, 3], elem_size: 8 };
    /// let r = Runs::of(&t).unwrap();
    /// assert_eq!((r.base, r.run, r.axes.len()), (0, 96, 0));
    /// ```
    pub fn of(layout: &Layout) -> Option<Runs> {
        if layout.elem_size == 0 || layout.shape.contains(&0) {
            return None;
        }
        let es = layout.elem_size as i128;
        let mut base = (layout.offset as i128).saturating_mul(es);
        let mut axes: Vec<(u128, u128)> = Vec::with_capacity(layout.shape.len());
        for (k, &d) in layout.shape.iter().enumerate() {
            let s = layout.strides.get(k).copied().unwrap_or(0) as i128;
            if d <= 1 || s == 0 {
                continue;
            }
            let sb = s.saturating_mul(es);
            if sb < 0 {
                base = base.saturating_add(sb.saturating_mul(d as i128 - 1));
            }
            axes.push((d as u128, sb.unsigned_abs()));
        }
        axes.sort_unstable_by_key(|&(d, s)| (s, d));
        let mut run = es as u128;
        loop {
            // Fold axes whose stride does not exceed the run into the run:
            // the union of [i*s, i*s + run) for s <= run is one interval.
            let fold = axes.iter().take_while(|&&(_, s)| s <= run).count();
            for &(d, s) in &axes[..fold] {
                run = run.saturating_add((d - 1).saturating_mul(s));
            }
            axes.drain(..fold);
            // Merge an axis that continues the one below it.
            let merge =
                (1..axes.len()).find(|&i| axes[i].1 == axes[i - 1].0.saturating_mul(axes[i - 1].1));
            match merge {
                Some(i) => {
                    axes[i - 1].0 = axes[i - 1].0.saturating_mul(axes[i].0);
                    axes.remove(i);
                }
                None if fold == 0 => break,
                None => {}
            }
        }
        Some(Runs { base, run, axes })
    }

    /// One past the highest byte reached.
    pub fn end(&self) -> i128 {
        let span = self.axes.iter().fold(self.run, |acc, &(d, s)| {
            acc.saturating_add((d - 1).saturating_mul(s))
        });
        self.base
            .saturating_add(span.min(i128::MAX as u128) as i128)
    }

    /// Number of runs (saturating).
    pub fn count(&self) -> u128 {
        self.axes
            .iter()
            .fold(1u128, |acc, &(d, _)| acc.saturating_mul(d))
    }

    /// How many inner axes are *ordered*: iterating them lexicographically
    /// (outermost slowest) yields runs with strictly increasing, disjoint
    /// starts. Equal to `axes.len()` when the layout never overlaps itself.
    fn ordered_prefix(&self) -> usize {
        let mut extent = self.run;
        for (k, &(d, s)) in self.axes.iter().enumerate() {
            if s < extent {
                return k;
            }
            extent = extent.saturating_add((d - 1).saturating_mul(s));
        }
        self.axes.len()
    }

    /// Bytes reached by this layout alone.
    pub fn bytes(&self) -> u128 {
        if self.ordered_prefix() == self.axes.len() {
            return self.count().saturating_mul(self.run);
        }
        if self.too_many_streams() {
            return (self.end() - self.base) as u128;
        }
        union_of_streams(self.streams())
    }

    /// A self-overlapping layout with more than [`MAX_STREAMS`] outer
    /// offsets (only a corrupt or adversarial snapshot has one).
    fn too_many_streams(&self) -> bool {
        let k = self.ordered_prefix();
        self.axes[k..]
            .iter()
            .fold(1u128, |acc, &(d, _)| acc.saturating_mul(d))
            > MAX_STREAMS
    }

    /// [`Runs::streams`], or the hull as one run past [`MAX_STREAMS`].
    fn bounded_streams(&self) -> Vec<Stream> {
        if self.too_many_streams() {
            let run = (self.end() - self.base) as u128;
            return vec![Stream::new(self.base, run, Vec::new())];
        }
        self.streams()
    }

    /// Splits the layout into sorted streams: the ordered inner block, placed
    /// at every offset of the remaining (overlapping) outer axes.
    fn streams(&self) -> Vec<Stream> {
        let k = self.ordered_prefix();
        let inner = self.axes[..k].to_vec();
        let outer = &self.axes[k..];
        let mut out = Vec::new();
        let mut idx = vec![0u128; outer.len()];
        loop {
            let off = outer
                .iter()
                .zip(&idx)
                .fold(self.base, |acc, (&(_, s), &i)| {
                    acc.saturating_add(i.saturating_mul(s) as i128)
                });
            out.push(Stream::new(off, self.run, inner.clone()));
            if !increment(&mut idx, outer.iter().map(|a| a.0)) {
                return out;
            }
        }
    }
}

/// Most sorted streams one self-overlapping layout is split into; beyond it
/// the layout counts as its whole hull (an upper bound). Arrays made by this
/// project never overlap themselves (zero strides are dropped first).
pub const MAX_STREAMS: u128 = 1 << 20;

/// Advances a little-endian multi-index (`idx[0]` fastest). Returns false
/// when it wrapped around.
fn increment(idx: &mut [u128], dims: impl Iterator<Item = u128>) -> bool {
    for (i, d) in idx.iter_mut().zip(dims) {
        *i += 1;
        if *i < d {
            return true;
        }
        *i = 0;
    }
    false
}

/// Runs of an ordered block in increasing order.
#[derive(Clone, Debug)]
struct Stream {
    base: i128,
    run: u128,
    axes: Vec<(u128, u128)>,
    idx: Vec<u128>,
    /// Start of the current run, `None` when exhausted.
    cur: Option<i128>,
}

impl Stream {
    fn new(base: i128, run: u128, axes: Vec<(u128, u128)>) -> Stream {
        let n = axes.len();
        Stream {
            base,
            run,
            axes,
            idx: vec![0; n],
            cur: Some(base),
        }
    }

    fn run_i(&self) -> i128 {
        self.run.min(i128::MAX as u128) as i128
    }

    fn position(&self) -> i128 {
        self.axes
            .iter()
            .zip(&self.idx)
            .fold(self.base, |acc, (&(_, s), &i)| {
                acc.saturating_add(i.saturating_mul(s) as i128)
            })
    }

    /// Moves to the next run.
    fn advance(&mut self) {
        if increment(&mut self.idx, self.axes.iter().map(|a| a.0)) {
            self.cur = Some(self.position());
        } else {
            self.cur = None;
        }
    }

    /// Skips to the first run that ends after byte `x`.
    fn seek(&mut self, x: i128) {
        let Some(c) = self.cur else { return };
        if c.saturating_add(self.run_i()) > x {
            return;
        }
        // Greedy from the outermost axis: the largest run start <= x - run.
        let mut rem = (x.saturating_sub(self.run_i())).saturating_sub(self.base);
        if rem < 0 {
            return;
        }
        for k in (0..self.axes.len()).rev() {
            let (d, s) = self.axes[k];
            let i = ((rem as u128) / s).min(d - 1);
            self.idx[k] = i;
            rem -= i.saturating_mul(s) as i128;
        }
        self.advance();
    }
}

/// Total bytes covered by the union of sorted streams.
fn union_of_streams(streams: Vec<Stream>) -> u128 {
    let mut total = 0u128;
    let mut cover: Option<(i128, i128)> = None;
    merge_streams(streams, |s, e| match &mut cover {
        Some((_, ce)) if s <= *ce => *ce = (*ce).max(e),
        _ => {
            if let Some((cs, ce)) = cover {
                total = total.saturating_add((ce - cs) as u128);
            }
            cover = Some((s, e));
        }
    });
    if let Some((cs, ce)) = cover {
        total = total.saturating_add((ce - cs) as u128);
    }
    total
}

/// Calls `f(start, end)` for every run of every stream, in start order.
fn merge_streams(mut streams: Vec<Stream>, mut f: impl FnMut(i128, i128)) {
    if streams.len() == 1 {
        let s = &mut streams[0];
        while let Some(c) = s.cur {
            f(c, c.saturating_add(s.run_i()));
            s.advance();
        }
        return;
    }
    let mut heap: BinaryHeap<Reverse<(i128, usize)>> = streams
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.cur.map(|c| Reverse((c, i))))
        .collect();
    while let Some(Reverse((c, i))) = heap.pop() {
        let s = &mut streams[i];
        f(c, c.saturating_add(s.run_i()));
        s.advance();
        if let Some(n) = s.cur {
            heap.push(Reverse((n, i)));
        }
    }
}

/// Byte ranges `[start, end)` that one layout touches, merged and sorted.
/// Positions below zero are clamped to zero.
///
/// Cost: one step per run of the canonical form (see [`Runs`]), so a
/// contiguous layout is one step however large it is.
pub fn runs(layout: &Layout) -> Vec<(u64, u64)> {
    let Some(r) = Runs::of(layout) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, u64)> = Vec::new();
    let clamp = |x: i128| x.clamp(0, u64::MAX as i128) as u64;
    merge_streams(r.bounded_streams(), |s, e| {
        let (s, e) = (clamp(s), clamp(e));
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    });
    out
}

/// Byte hull `[lowest, one past highest)` of a layout, `None` when empty.
/// Positions below zero are clamped to zero.
///
/// ```
/// use arenaprof_snapshot::{footprint, Layout};
/// let rev = Layout { offset: 9, shape: vec![10], strides: vec![-1], elem_size: 4 };
/// assert_eq!(footprint::bounds(&rev), Some((0, 40)));
/// ```
pub fn bounds(layout: &Layout) -> Option<(u64, u64)> {
    let r = Runs::of(layout)?;
    let clamp = |x: i128| x.clamp(0, u64::MAX as i128) as u64;
    Some((clamp(r.base), clamp(r.end())))
}

/// Bytes reachable by one layout.
///
/// ```
/// use arenaprof_snapshot::{footprint, Layout};
/// // A sliding window (overlapping strides) over 12 f64: 12 * 8 bytes.
/// let w = Layout { offset: 0, shape: vec![10, 3], strides: vec![1, 1], elem_size: 8 };
/// assert_eq!(footprint::layout_bytes(&w), 96);
/// ```
pub fn layout_bytes(layout: &Layout) -> u64 {
    Runs::of(layout).map_or(0, |r| r.bytes().min(u64::MAX as u128) as u64)
}

/// Bytes reachable by the union of `layouts` (exact).
pub fn reachable_bytes<'a>(layouts: impl IntoIterator<Item = &'a Layout>) -> u64 {
    let mut all: Vec<Runs> = layouts.into_iter().filter_map(Runs::of).collect();
    all.sort_unstable();
    all.dedup();
    all.sort_by_key(|r| r.base);
    let mut total = 0u128;
    let mut i = 0;
    while i < all.len() {
        // A cluster: layouts whose hulls overlap, transitively.
        let mut end = all[i].end();
        let mut j = i + 1;
        while j < all.len() && all[j].base < end {
            end = end.max(all[j].end());
            j += 1;
        }
        total = total.saturating_add(cluster_bytes(&all[i..j], all[i].base, end));
        i = j;
    }
    total.min(u64::MAX as u128) as u64
}

fn cluster_bytes(cluster: &[Runs], lo: i128, hi: i128) -> u128 {
    if cluster.len() == 1 {
        return cluster[0].bytes();
    }
    if cluster
        .iter()
        .any(|r| r.axes.is_empty() && r.base <= lo && r.end() >= hi)
    {
        return (hi - lo) as u128;
    }
    if let Some(b) = lattice_union(cluster) {
        return b;
    }
    // Drop layouts that lie inside a single-run layout of the cluster.
    let solid = Solid::new(cluster);
    let streams: Vec<Stream> = cluster
        .iter()
        .filter(|r| !r.axes.is_empty() && !solid.contains(r.base, r.end()))
        .chain(cluster.iter().filter(|r| r.axes.is_empty()))
        .flat_map(Runs::bounded_streams)
        .collect();
    union_of_streams(streams)
}

/// The single-run layouts of a cluster, sorted by start with the furthest
/// end so far, so that "does one of them contain `[s, e)`" is a binary
/// search (a cluster may hold many of them and many strided layouts).
struct Solid {
    starts: Vec<i128>,
    max_end: Vec<i128>,
}

impl Solid {
    fn new(cluster: &[Runs]) -> Solid {
        let mut v: Vec<(i128, i128)> = cluster
            .iter()
            .filter(|r| r.axes.is_empty())
            .map(|r| (r.base, r.end()))
            .collect();
        v.sort_unstable();
        let mut furthest = i128::MIN;
        let max_end = v
            .iter()
            .map(|&(_, e)| {
                furthest = furthest.max(e);
                furthest
            })
            .collect();
        Solid {
            starts: v.into_iter().map(|(s, _)| s).collect(),
            max_end,
        }
    }

    /// Whether some single run starts at or before `s` and ends at or after `e`.
    fn contains(&self, s: i128, e: i128) -> bool {
        let n = self.starts.partition_point(|&x| x <= s);
        n > 0 && self.max_end[n - 1] >= e
    }
}

/// Layouts that share their outer axes and differ only in base and run
/// (columns of a matrix, `a[::2]` and `a[1::2]`): when the widened run still
/// keeps the lattice ordered, the union is `runs * |union of the shifted
/// runs|`, in O(k log k) for k layouts whatever their size.
fn lattice_union(cluster: &[Runs]) -> Option<u128> {
    let axes = &cluster[0].axes;
    if axes.is_empty() || cluster.iter().any(|r| &r.axes != axes) {
        return None;
    }
    let bmin = cluster.iter().map(|r| r.base).min()?;
    let mut iv: Vec<(i128, i128)> = cluster
        .iter()
        .map(|r| {
            let s = r.base - bmin;
            (s, s.saturating_add(r.run.min(i128::MAX as u128) as i128))
        })
        .collect();
    iv.sort_unstable();
    let (mut u, mut width) = (0u128, 0i128);
    let mut cur: Option<(i128, i128)> = None;
    for (s, e) in iv {
        width = width.max(e);
        match &mut cur {
            Some((_, ce)) if s <= *ce => *ce = (*ce).max(e),
            _ => {
                if let Some((cs, ce)) = cur {
                    u += (ce - cs) as u128;
                }
                cur = Some((s, e));
            }
        }
    }
    if let Some((cs, ce)) = cur {
        u += (ce - cs) as u128;
    }
    let widened = Runs {
        base: 0,
        run: width as u128,
        axes: axes.clone(),
    };
    (widened.ordered_prefix() == axes.len()).then(|| widened.count().saturating_mul(u))
}

/// Whether two layouts on the same buffer share at least one byte (exact,
/// like NumPy's `shares_memory`). Work is bounded by the runs inside the
/// overlap of their hulls.
///
/// ```
/// use arenaprof_snapshot::{footprint, Layout};
/// let evens = Layout { offset: 0, shape: vec![5], strides: vec![2], elem_size: 8 };
/// let odds = Layout { offset: 1, shape: vec![5], strides: vec![2], elem_size: 8 };
/// assert!(footprint::may_overlap(&evens, &odds));
/// assert!(!footprint::overlaps(&evens, &odds));
/// ```
pub fn overlaps(a: &Layout, b: &Layout) -> bool {
    let (Some(ra), Some(rb)) = (Runs::of(a), Runs::of(b)) else {
        return false;
    };
    let lo = ra.base.max(rb.base);
    let hi = ra.end().min(rb.end());
    if lo >= hi {
        return false;
    }
    if ra.axes.is_empty() && rb.axes.is_empty() {
        return true;
    }
    let tagged: Vec<(usize, Stream)> = ra
        .bounded_streams()
        .into_iter()
        .map(|s| (0, s))
        .chain(rb.bounded_streams().into_iter().map(|s| (1, s)))
        .collect();
    let mut streams = Vec::with_capacity(tagged.len());
    let mut side = Vec::with_capacity(tagged.len());
    for (t, mut s) in tagged {
        s.seek(lo);
        side.push(t);
        streams.push(s);
    }
    let mut heap: BinaryHeap<Reverse<(i128, usize)>> = streams
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.cur.map(|c| Reverse((c, i))))
        .collect();
    // Runs arrive by start; a run overlaps an earlier run of the other side
    // exactly when it starts before that side's furthest end so far.
    let mut max_end = [i128::MIN; 2];
    while let Some(Reverse((c, i))) = heap.pop() {
        if c >= hi {
            return false;
        }
        let t = side[i];
        if c < max_end[1 - t] {
            return true;
        }
        let s = &mut streams[i];
        max_end[t] = max_end[t].max(c.saturating_add(s.run_i()));
        s.advance();
        if let Some(n) = s.cur {
            heap.push(Reverse((n, i)));
        }
    }
    false
}

/// Whether the byte hulls of two layouts intersect (like NumPy's
/// `may_share_memory`): `false` means they certainly share nothing.
pub fn may_overlap(a: &Layout, b: &Layout) -> bool {
    match (Runs::of(a), Runs::of(b)) {
        (Some(ra), Some(rb)) => ra.base.max(rb.base) < ra.end().min(rb.end()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn naive(layouts: &[Layout]) -> BTreeSet<i64> {
        let mut set = BTreeSet::new();
        for l in layouts {
            if l.shape.contains(&0) {
                continue;
            }
            let n = l.shape.len();
            let mut idx = vec![0usize; n];
            loop {
                let off = l.offset
                    + idx
                        .iter()
                        .zip(&l.strides)
                        .map(|(&i, &s)| i as i64 * s as i64)
                        .sum::<i64>();
                for b in 0..l.elem_size as i64 {
                    set.insert(off * l.elem_size as i64 + b);
                }
                let mut k = n;
                let done = loop {
                    if k == 0 {
                        break true;
                    }
                    k -= 1;
                    idx[k] += 1;
                    if idx[k] < l.shape[k] {
                        break false;
                    }
                    idx[k] = 0;
                };
                if done {
                    break;
                }
            }
        }
        set
    }

    fn layout() -> impl Strategy<Value = Layout> {
        (1usize..4, prop::sample::select(vec![1u64, 2, 4, 8]))
            .prop_flat_map(|(nd, es)| {
                (
                    -20i64..20,
                    prop::collection::vec(0usize..5, nd),
                    prop::collection::vec(-7isize..8, nd),
                    Just(es),
                )
            })
            .prop_map(|(offset, shape, strides, elem_size)| Layout {
                offset: offset + 200,
                shape,
                strides,
                elem_size,
            })
    }

    proptest! {
        #[test]
        fn lattice_translates_match_enumeration(
            l in layout(),
            shifts in prop::collection::vec((0i64..12, 0usize..3), 1..4),
        ) {
            // The same strides at several offsets, some with a shorter last axis.
            let ls: Vec<Layout> = shifts
                .iter()
                .map(|&(d, cut)| {
                    let mut m = l.clone();
                    m.offset += d;
                    if let Some(last) = m.shape.last_mut() {
                        *last = last.saturating_sub(cut).max(1);
                    }
                    m
                })
                .collect();
            let want = naive(&ls).len() as u64;
            prop_assert_eq!(reachable_bytes(&ls), want);
        }

        #[test]
        fn union_matches_enumeration(ls in prop::collection::vec(layout(), 1..4)) {
            let es = ls[0].elem_size;
            let ls: Vec<Layout> = ls.into_iter().map(|mut l| { l.elem_size = es; l }).collect();
            let want = naive(&ls).len() as u64;
            prop_assert_eq!(reachable_bytes(&ls), want);
        }

        #[test]
        fn contiguous_and_strided_clusters_match_enumeration(
            solid in prop::collection::vec((0i64..60, 1usize..12), 1..6),
            strided in prop::collection::vec((0i64..60, 1usize..6, 2isize..4), 1..6),
        ) {
            // Many single runs beside strided views, some inside a run and
            // some not: the containment search must drop exactly the former.
            let ls: Vec<Layout> = solid
                .iter()
                .map(|&(o, n)| Layout { offset: o, shape: vec![n], strides: vec![1], elem_size: 2 })
                .chain(strided.iter().map(|&(o, n, st)| Layout {
                    offset: o,
                    shape: vec![n],
                    strides: vec![st],
                    elem_size: 2,
                }))
                .collect();
            prop_assert_eq!(reachable_bytes(&ls), naive(&ls).len() as u64);
        }

        #[test]
        fn runs_match_enumeration(l in layout()) {
            let want = naive(std::slice::from_ref(&l));
            let got: BTreeSet<i64> = runs(&l)
                .into_iter()
                .flat_map(|(s, e)| (s as i64)..(e as i64))
                .collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn overlaps_matches_enumeration(a in layout(), b in layout()) {
            let mut b = b;
            b.elem_size = a.elem_size;
            let sa = naive(std::slice::from_ref(&a));
            let sb = naive(std::slice::from_ref(&b));
            prop_assert_eq!(overlaps(&a, &b), !sa.is_disjoint(&sb));
            if overlaps(&a, &b) {
                prop_assert!(may_overlap(&a, &b));
            }
        }
    }

    #[test]
    fn huge_contiguous_and_strided_layouts_are_cheap() {
        let owner = Layout {
            offset: 0,
            shape: vec![100_000_000],
            strides: vec![1],
            elem_size: 8,
        };
        let evens = Layout {
            offset: 0,
            shape: vec![50_000_000],
            strides: vec![2],
            elem_size: 8,
        };
        let big = Layout {
            offset: 0,
            shape: vec![1 << 20, 1 << 20],
            strides: vec![1 << 21, 1],
            elem_size: 8,
        };
        assert_eq!(reachable_bytes([&owner]), 800_000_000);
        assert_eq!(reachable_bytes([&evens]), 400_000_000);
        assert_eq!(reachable_bytes([&owner, &evens]), 800_000_000);
        // Interleaved halves and matrix columns: O(1) through the lattice rule.
        let odds = Layout {
            offset: 1,
            ..evens.clone()
        };
        assert_eq!(reachable_bytes([&evens, &odds]), 800_000_000);
        let col = |c| Layout {
            offset: c,
            shape: vec![10_000],
            strides: vec![10_000],
            elem_size: 8,
        };
        assert_eq!(reachable_bytes([&col(0), &col(1), &col(3)]), 3 * 80_000);
        assert_eq!(layout_bytes(&big), 8u64 << 40);
        let head = Layout {
            offset: 0,
            shape: vec![10],
            strides: vec![1],
            elem_size: 8,
        };
        assert_eq!(reachable_bytes([&head]), 80);
        assert!(overlaps(&owner, &evens));
        let last = Layout {
            offset: 99_999_999,
            shape: vec![1],
            strides: vec![1],
            elem_size: 8,
        };
        assert!(overlaps(
            &evens,
            &Layout {
                offset: 99_999_998,
                ..last.clone()
            }
        ));
        assert!(!overlaps(&evens, &last));
    }

    #[test]
    fn zero_and_negative_strides() {
        let bcast = Layout {
            offset: 3,
            shape: vec![1000, 4],
            strides: vec![0, 1],
            elem_size: 8,
        };
        assert_eq!(layout_bytes(&bcast), 32);
        let rev = Layout {
            offset: 9,
            shape: vec![5],
            strides: vec![-2],
            elem_size: 8,
        };
        assert_eq!(
            runs(&rev),
            vec![(8, 16), (24, 32), (40, 48), (56, 64), (72, 80)]
        );
        let empty = Layout {
            offset: 0,
            shape: vec![0, 5],
            strides: vec![5, 1],
            elem_size: 8,
        };
        assert_eq!(reachable_bytes([&empty]), 0);
        assert_eq!(bounds(&empty), None);
    }

    #[test]
    fn corrupt_layouts_do_not_panic() {
        let l = Layout {
            offset: i64::MIN,
            shape: vec![usize::MAX, usize::MAX],
            strides: vec![isize::MIN, isize::MAX],
            elem_size: u64::MAX,
        };
        let _ = Runs::of(&l).map(|r| (r.end(), r.count()));
        let _ = bounds(&l);
        let short = Layout {
            offset: 0,
            shape: vec![3, 3],
            strides: vec![1],
            elem_size: 8,
        };
        assert_eq!(layout_bytes(&short), 24);
    }
}
