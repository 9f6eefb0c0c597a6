//! The NumPy pitfall, found and fixed: `arange(100_000_000)[..10]` keeps
//! 800 MB alive after the base is dropped.
//!
//! Run: `ARENAPROF_WARN_PINNED=64MiB cargo run --release --example array_pinned`
//! (with `ARENAPROF_OUT=pinned.arenaprof`, a snapshot is written at the end).

use arenaprof::array::{registry, s, Array};
use arenaprof::Tag;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

fn main() {
    let _profiler = arenaprof::Profiler::from_env(); // writes $ARENAPROF_OUT when main ends
    let arr = Array::<f64>::arange(100_000_000);
    let head = arr.slice(s![..10]).t(); // a view of a view
    drop(arr); // with ARENAPROF_WARN_PINNED set, this prints the warning line

    for a in registry::arenas() {
        println!(
            "arena {} ({} {} at {}): {:.1} MB, reachable {} B, wasted {:.1} MB, owner alive: {}",
            a.id,
            a.elem_type,
            a.op,
            a.site,
            mb(a.capacity_bytes),
            a.reachable_bytes,
            mb(a.wasted_bytes),
            a.owner_alive
        );
        for r in &a.retainers {
            println!("  retained by {r}");
        }
        println!("  fix: to_owned() frees {:.1} MB", mb(a.to_owned_frees()));
    }
    println!(
        "array-base live: {:.1} MB, RSS {:.1} MB",
        mb(arenaprof::stats().tag(Tag::ARRAY_BASE).live_bytes),
        mb(arenaprof::process::rss_bytes())
    );

    let owned = head.to_owned(); // the fix: copy the 10 elements...
    drop(head); // ...and drop the view: the 800 MB arena is freed
    arenaprof::process::purge(); // return jemalloc's dirty pages to the OS now
    println!(
        "after to_owned(): array-base live: {} B, RSS {:.1} MB, head = {:?}",
        arenaprof::stats().tag(Tag::ARRAY_BASE).live_bytes,
        mb(arenaprof::process::rss_bytes()),
        owned.to_vec()
    );
}
