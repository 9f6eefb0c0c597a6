//! Memory beside time in `cargo bench`: criterion measurements of what the
//! benchmarked code allocates (feature `bench`).
//!
//! [`Alloc`] implements criterion's
//! [`Measurement`](criterion::measurement::Measurement): instead of time,
//! each sample records the bytes allocated, the number of allocations, or
//! the peak live bytes of the benchmark thread, exactly (the tracking
//! allocator's per-thread counters, through [`testing::begin`]), for all
//! tags or one. Criterion divides a sample's value by its iteration count,
//! so a deterministic workload reports exact figures per iteration: bytes
//! and counts add up over iterations; for the peak, which does not, use
//! [`iter_peak`]. Only the benchmark thread is counted (threads the
//! routine starts are not).
//!
//! The program must use [`TrackingAlloc`](crate::TrackingAlloc) as its
//! global allocator. Enable with `arenaprof = { version = "0.1", features =
//! ["bench"] }` (criterion 0.8 comes with it; without the feature criterion
//! is not a dependency).
//!
//! ```no_run
//! use arenaprof::bench::Alloc;
//! use criterion::{criterion_group, criterion_main, Criterion};
//!
//! #[global_allocator]
//! static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();
//!
//! fn bytes(c: &mut Criterion<Alloc>) {
//!     c.bench_function("vec 1000", |b| b.iter(|| Vec::<u8>::with_capacity(1000)));
//! }
//!
//! criterion_group! {
//!     name = benches;
//!     config = Criterion::default().with_measurement(Alloc::bytes());
//!     targets = bytes
//! }
//! criterion_main!(benches);
//! ```

use crate::testing;
use crate::Tag;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Bencher, Throughput};

/// The figure an [`Alloc`] measurement records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Bytes allocated (reallocations count their new size).
    AllocBytes,
    /// Allocations made (`alloc`, `alloc_zeroed`, `realloc`).
    AllocCount,
    /// Highest live bytes above the sample's start (see [`iter_peak`]).
    PeakBytes,
}

/// A criterion measurement of the benchmark thread's allocations: one
/// [`Figure`], over all tags or one [`Tag`].
///
/// ```
/// use arenaprof::bench::{Alloc, Figure};
/// let m = Alloc::count().tag(arenaprof::Tag::ARRAY_BASE);
/// assert_eq!((m.figure(), m.only_tag()), (Figure::AllocCount, Some(arenaprof::Tag::ARRAY_BASE)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alloc {
    figure: Figure,
    tag: Option<Tag>,
}

impl Alloc {
    /// Bytes allocated, all tags.
    ///
    /// ```
    /// assert_eq!(arenaprof::bench::Alloc::bytes().figure(), arenaprof::bench::Figure::AllocBytes);
    /// ```
    pub const fn bytes() -> Alloc {
        Alloc {
            figure: Figure::AllocBytes,
            tag: None,
        }
    }

    /// Allocations made, all tags.
    ///
    /// ```
    /// assert_eq!(arenaprof::bench::Alloc::count().figure(), arenaprof::bench::Figure::AllocCount);
    /// ```
    pub const fn count() -> Alloc {
        Alloc {
            figure: Figure::AllocCount,
            tag: None,
        }
    }

    /// Peak live bytes above the start, all tags (the highest of the tags'
    /// peaks when restricted to none); use with [`iter_peak`].
    ///
    /// ```
    /// assert_eq!(arenaprof::bench::Alloc::peak().figure(), arenaprof::bench::Figure::PeakBytes);
    /// ```
    pub const fn peak() -> Alloc {
        Alloc {
            figure: Figure::PeakBytes,
            tag: None,
        }
    }

    /// The same figure, counting only allocations made under `tag`.
    ///
    /// ```
    /// let m = arenaprof::bench::Alloc::bytes().tag(arenaprof::Tag::ARRAY_BASE);
    /// assert_eq!(m.only_tag(), Some(arenaprof::Tag::ARRAY_BASE));
    /// ```
    pub const fn tag(self, tag: Tag) -> Alloc {
        Alloc {
            figure: self.figure,
            tag: Some(tag),
        }
    }

    /// The figure recorded.
    ///
    /// ```
    /// assert_eq!(arenaprof::bench::Alloc::peak().figure(), arenaprof::bench::Figure::PeakBytes);
    /// ```
    pub const fn figure(&self) -> Figure {
        self.figure
    }

    /// The tag counted, or `None` for all.
    ///
    /// ```
    /// assert_eq!(arenaprof::bench::Alloc::bytes().only_tag(), None);
    /// ```
    pub const fn only_tag(&self) -> Option<Tag> {
        self.tag
    }

    /// This measurement's figure out of a [`testing::Measurement`].
    ///
    /// ```
    /// let (_, m) = arenaprof::testing::measure(|| ());
    /// assert_eq!(arenaprof::bench::Alloc::bytes().of(&m), 0);
    /// ```
    pub fn of(&self, m: &testing::Measurement) -> u64 {
        let c = match self.tag {
            Some(t) => m.tag(t),
            None => m.total,
        };
        match self.figure {
            Figure::AllocBytes => c.alloc_bytes,
            Figure::AllocCount => c.alloc_count,
            Figure::PeakBytes => c.peak_bytes,
        }
    }

    /// Runs `routine` `iters` times, each measured on its own, and returns
    /// what [`iter_peak`] hands criterion: the highest single-iteration
    /// figure times `iters` (criterion divides by `iters`), or for bytes
    /// and counts their sum.
    ///
    /// ```no_run
    /// // (with `TrackingAlloc` as the global allocator)
    /// let v = arenaprof::bench::Alloc::peak().each(4, || vec![0u8; 100]);
    /// assert_eq!(v, 400); // 100 B per iteration, times 4
    /// ```
    pub fn each<O>(&self, iters: u64, mut routine: impl FnMut() -> O) -> u64 {
        let mut acc = 0u64;
        for _ in 0..iters {
            let (_, m) = testing::measure(|| drop(std::hint::black_box(routine())));
            let v = self.of(&m);
            acc = match self.figure {
                Figure::PeakBytes => acc.max(v),
                _ => acc.saturating_add(v),
            };
        }
        match self.figure {
            Figure::PeakBytes => acc.saturating_mul(iters),
            _ => acc,
        }
    }
}

/// Benchmarks `routine` so that criterion reports the highest peak of one
/// iteration ([`Alloc::peak`]; with the other figures, their value per
/// iteration, as `b.iter` would): each iteration is measured on its own
/// (criterion's `iter_custom`).
///
/// ```no_run
/// use arenaprof::bench::{iter_peak, Alloc};
/// use criterion::Criterion;
/// let mut c = Criterion::default().with_measurement(Alloc::peak());
/// c.bench_function("two vecs", |b| {
///     iter_peak(b, Alloc::peak(), || (vec![0u8; 100], vec![0u8; 50]))
/// });
/// ```
pub fn iter_peak<O>(b: &mut Bencher<'_, Alloc>, m: Alloc, mut routine: impl FnMut() -> O) {
    b.iter_custom(|iters| m.each(iters, &mut routine))
}

impl Measurement for Alloc {
    type Intermediate = testing::Span;
    type Value = u64;

    fn start(&self) -> testing::Span {
        testing::begin()
    }

    fn end(&self, span: testing::Span) -> u64 {
        self.of(&span.end())
    }

    fn add(&self, v1: &u64, v2: &u64) -> u64 {
        v1.saturating_add(*v2)
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        match self.figure {
            Figure::AllocCount => &Units {
                one: "allocs",
                binary: false,
            },
            _ => &Units {
                one: "B",
                binary: true,
            },
        }
    }
}

/// Criterion's value formatting for bytes (B, KiB, MiB, GiB) and counts.
struct Units {
    one: &'static str,
    binary: bool,
}

impl Units {
    fn scale(&self, typical: f64) -> (f64, &'static str) {
        if !self.binary {
            return (1.0, self.one);
        }
        const UNITS: [(f64, &str); 4] = [
            (1024.0 * 1024.0 * 1024.0, "GiB"),
            (1024.0 * 1024.0, "MiB"),
            (1024.0, "KiB"),
            (1.0, "B"),
        ];
        UNITS
            .iter()
            .copied()
            .find(|(d, _)| typical.abs() >= *d)
            .unwrap_or((1.0, "B"))
    }
}

impl ValueFormatter for Units {
    fn scale_values(&self, typical_value: f64, values: &mut [f64]) -> &'static str {
        let (d, unit) = self.scale(typical_value);
        for v in values {
            *v /= d;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        _typical_value: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        // Per element or byte of throughput: the figure divided by it.
        let per = match throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Elements(n) => *n,
            Throughput::Bits(n) => *n,
            Throughput::ElementsAndBytes { elements, .. } => *elements,
        }
        .max(1) as f64;
        for v in values {
            *v /= per;
        }
        if self.binary {
            "B/unit"
        } else {
            "allocs/unit"
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        self.one
    }
}
