//! Writes a synthetic snapshot (see `arenaprof_report::fixtures`).
//!
//! ```text
//! cargo run --release -p arenaprof-report --example make_snapshot -- pinned pinned.arenaprof
//! cargo run --release -p arenaprof-report --example make_snapshot -- fixed fixed.arenaprof
//! cargo run --release -p arenaprof-report --example make_snapshot -- large big.arenaprof 1000000 100000
//! ARENAPROF_OUT=pinned.arenaprof cargo run -p arenaprof-report --example make_snapshot -- pinned
//! ```

use arenaprof_report::fixtures;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: make_snapshot pinned|fixed|large [OUT] [SAMPLES VIEWS] (OUT defaults to $ARENAPROF_OUT)";
    let out = args
        .get(1)
        .cloned()
        .or_else(|| std::env::var("ARENAPROF_OUT").ok());
    let (Some(kind), Some(out)) = (args.first(), out) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let snap = match kind.as_str() {
        "pinned" => fixtures::pinned_views(),
        "fixed" => fixtures::fixed_views(),
        "large" => fixtures::large(num(2, 1_000_000), num(3, 100_000)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    if let Err(e) = snap.write(&out) {
        eprintln!("{out}: {e}");
        std::process::exit(2);
    }
    eprintln!(
        "wrote {out}: {} samples, {} views, {} arenas",
        snap.heap.samples.len(),
        snap.registry.views.len(),
        snap.registry.arenas.len()
    );
}
