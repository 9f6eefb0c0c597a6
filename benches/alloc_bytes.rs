//! Memory per iteration beside (instead of) time, with criterion and
//! `arenaprof::bench` (feature `bench`): bytes allocated, allocations and
//! peak live bytes of three workloads, one criterion group per figure.
//!
//! Run: `cargo bench -p arenaprof-benches --bench alloc_bytes`
//!
//! Each figure is exact for these deterministic workloads: criterion's
//! "time" column reads, e.g., `1000.0 B` for `vec_with_capacity_1000` under
//! `alloc-bytes` and `1.0000 allocs` under `alloc-count` (no spread).

use arenaprof::array::{s, Array};
use arenaprof::bench::{iter_peak, Alloc};
use arenaprof::Tag;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

fn vec_1000() -> Vec<u8> {
    Vec::with_capacity(black_box(1000))
}

fn grow_to_4096() -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..black_box(512u64) {
        v.push(i);
    }
    v
}

fn array_copy() -> Array<f64> {
    Array::<f64>::arange(1000).slice(s![..100]).to_owned()
}

fn per_figure(c: &mut Criterion<Alloc>, group: &str, m: Alloc) {
    let mut g = c.benchmark_group(group);
    g.bench_function("vec_with_capacity_1000", |b| iter_peak(b, m, vec_1000));
    g.bench_function("push_512_u64", |b| iter_peak(b, m, grow_to_4096));
    g.bench_function("array_slice_to_owned", |b| iter_peak(b, m, array_copy));
    g.finish();
}

fn bytes(c: &mut Criterion<Alloc>) {
    let mut g = c.benchmark_group("alloc-bytes");
    g.bench_function("vec_with_capacity_1000", |b| b.iter(vec_1000));
    g.bench_function("push_512_u64", |b| b.iter(grow_to_4096));
    g.finish();
}

fn count(c: &mut Criterion<Alloc>) {
    let mut g = c.benchmark_group("alloc-count");
    g.bench_function("vec_with_capacity_1000", |b| b.iter(vec_1000));
    g.bench_function("push_512_u64", |b| b.iter(grow_to_4096));
    g.finish();
}

fn peak(c: &mut Criterion<Alloc>) {
    per_figure(c, "peak-bytes", Alloc::peak());
}

fn array_base(c: &mut Criterion<Alloc>) {
    // Only the arrays' buffers (registry bookkeeping is the profiler's):
    // 8,000 B of `arange(1000)` and 800 B of the copy per iteration.
    let mut g = c.benchmark_group("array-base-bytes");
    g.bench_function("array_slice_to_owned", |b| b.iter(array_copy));
    g.finish();
}

criterion_group! {
    name = by_bytes;
    config = Criterion::default().with_measurement(Alloc::bytes());
    targets = bytes
}
criterion_group! {
    name = by_count;
    config = Criterion::default().with_measurement(Alloc::count());
    targets = count
}
criterion_group! {
    name = by_peak;
    config = Criterion::default().with_measurement(Alloc::peak());
    targets = peak
}
criterion_group! {
    name = by_tag;
    config = Criterion::default().with_measurement(Alloc::bytes().tag(Tag::ARRAY_BASE));
    targets = array_base
}
criterion_main!(by_bytes, by_count, by_peak, by_tag);
