//! Retention at its worst moment: a view pins a 100 MB arena for most of
//! the run and is dropped before `main` returns, so the snapshot written
//! at the end finds no arena at all; the registry's high-water mark still
//! has the picture (the arena, its bytes, the chain with each file:line).
//!
//! Run:
//!
//! ```text
//! ARENAPROF_OUT=worst.arenaprof cargo run --release --example retention_worst
//! arenaprof report worst.arenaprof          # RETENTION AT WORST ... at the end: 0 arenas
//! arenaprof check worst.arenaprof --max-wasted 10MiB   # exits 1
//! ```
//!
//! `tools/arenaprof/tests/retention_worst.rs` runs this program and checks
//! the report and `check`.

use arenaprof::array::{s, Array};
use arenaprof::timeline::mark;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

/// Elements of the pinned arena: 100 MB of `f64`.
pub const N: usize = 12_500_000;

/// A 2x5 corner of a 100 MB arena, through reshape, slice and `t()`; the
/// owner and the intermediate views are dropped on return.
pub fn pin() -> Array<f64> {
    let a = Array::<f64>::arange(N);
    let m = a.reshape(&[2_500, 5_000]);
    let corner = m.slice(s![..2, ..5]);
    corner.t()
}

/// Some work while the corner is held: sums of fresh arrays.
fn work(rounds: usize) -> f64 {
    let mut acc = 0.0;
    for r in 0..rounds {
        let x = Array::<f64>::arange(100_000 + r);
        acc += x.slice(s![..;3]).to_vec().iter().sum::<f64>();
    }
    acc
}

/// The program: `Profiler::from_env()` first, a plateau between marks.
pub fn main() {
    let _profiler = arenaprof::Profiler::from_env();
    mark("pinning");
    let corner = pin();
    mark("pinned");
    let acc = work(200);
    mark("releasing");
    let kept = corner.to_vec();
    drop(corner);
    mark("released");
    let acc = acc + work(20);
    println!("corner {kept:?}, work {acc}");
}
