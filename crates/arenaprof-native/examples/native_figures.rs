//! The figures in docs/native.md:
//!
//! ```text
//! cargo run --release -p arenaprof-native --example native_figures -- 8
//! cargo run --release -p arenaprof-native --example native_figures -- 16
//! ```
//!
//! Loads the system OpenBLAS at run time with the hooks installed, runs one
//! 1024³ dgemm with N threads, and prints VmSize/RSS, what the hooks
//! attributed, the grouped mappings and the ladder, what lowering the count
//! freed, and the costs (statm, smaps, process_memory, a hooked mmap+munmap
//! pair through a small C object built with `cc`).

use std::ffi::{c_int, c_void};
use std::time::Instant;

use arenaprof_native::{blas, hooks, maps};
use arenaprof_snapshot::size::format_bytes as fmt_bytes;

type SetFn = unsafe extern "C" fn(c_int);
type MapFn = unsafe extern "C" fn(usize) -> *mut c_void;
type UnmapFn = unsafe extern "C" fn(*mut c_void, usize) -> c_int;

fn median_ns(mut f: impl FnMut(), n: usize) -> u64 {
    let mut v: Vec<u64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as u64
        })
        .collect();
    v.sort_unstable();
    v[n / 2]
}

fn hooked_pair_ns() -> Option<()> {
    let dir = std::env::temp_dir().join(format!("arenaprof-native-fig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let c = dir.join("m.c");
    std::fs::write(
        &c,
        "#include <sys/mman.h>\n#include <stddef.h>\nvoid*m(size_t n){return mmap(0,n,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);}\nint u(void*p,size_t n){return munmap(p,n);}\n",
    )
    .ok()?;
    let so = dir.join("libfigmap.so");
    let ok = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&so)
        .arg(&c)
        .status()
        .ok()?;
    if !ok.success() {
        return None;
    }
    let lib = blas::open(&[so.to_str()?]).ok()?;
    // SAFETY: the two functions above, with these signatures.
    let (m, u) = unsafe {
        (
            std::mem::transmute::<*mut c_void, MapFn>(lib.symbol("m")?),
            std::mem::transmute::<*mut c_void, UnmapFn>(lib.symbol("u")?),
        )
    };
    let run = || {
        const N: usize = 20_000;
        let t = Instant::now();
        for _ in 0..N {
            // SAFETY: map then unmap 64 KiB through the test object.
            unsafe {
                let p = m(64 << 10);
                u(p, 64 << 10);
            }
        }
        t.elapsed().as_nanos() as f64 / N as f64
    };
    // Alternate hooked and bare rounds (the host is shared): best of each.
    let (mut hooked, mut bare) = (f64::MAX, f64::MAX);
    for _ in 0..9 {
        hooked = hooked.min(run());
        hooks::uninstall();
        bare = bare.min(run());
        hooks::install().ok()?;
    }
    // The same with `live` other mappings of this object in the table.
    let live = 1000;
    // SAFETY: 64 KiB mappings through the test object, unmapped below.
    let kept: Vec<*mut c_void> = (0..live).map(|_| unsafe { m(64 << 10) }).collect();
    let (mut hooked_k, mut bare_k) = (f64::MAX, f64::MAX);
    for _ in 0..9 {
        hooked_k = hooked_k.min(run());
        hooks::uninstall();
        bare_k = bare_k.min(run());
        hooks::install().ok()?;
    }
    for p in kept {
        // SAFETY: mapped above.
        unsafe { u(p, 64 << 10) };
    }
    println!(
        "  mmap+munmap 64 KiB pair: hooked {hooked:.0} ns, bare {bare:.0} ns (+{:.0} ns); with {live} live mappings in the table: hooked {hooked_k:.0} ns, bare {bare_k:.0} ns (+{:.0} ns)",
        hooked - bare,
        hooked_k - bare_k
    );
    let _ = std::fs::remove_dir_all(&dir);
    Some(())
}

fn main() {
    let threads: c_int = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let p = hooks::install().expect("hooks");
    println!(
        "hooks: {} objects, {} GOT slots patched at start",
        p.objects, p.slots
    );
    let lib = match blas::open(&["libopenblas.so.0", "libopenblas.so"]) {
        Ok(l) => l,
        Err(e) => {
            println!("no OpenBLAS: {e}");
            return;
        }
    };
    println!(
        "loaded {} ({} adopted: mapped while it loaded)",
        lib.name(),
        fmt_bytes(lib.adopted())
    );
    let s0 = maps::read_statm().unwrap();
    // SAFETY: openblas_set_num_threads(int).
    let set: SetFn = unsafe {
        std::mem::transmute::<*mut c_void, SetFn>(lib.symbol("openblas_set_num_threads").unwrap())
    };
    // SAFETY: plain int.
    unsafe { set(threads) };
    let n = 1024usize;
    let a = vec![1.0f64; n * n];
    let b = vec![0.5f64; n * n];
    let mut c = vec![0.0f64; n * n];
    let t = Instant::now();
    lib.dgemm_square(n, &a, &b, &mut c).expect("cblas_dgemm");
    let dg = t.elapsed();
    let s1 = maps::read_statm().unwrap();
    println!(
        "OpenBLAS {threads} threads, one {n}³ dgemm ({:.1} ms): VmSize {} -> {} (+{}), RSS {} -> {} (+{})",
        dg.as_secs_f64() * 1e3,
        fmt_bytes(s0.size),
        fmt_bytes(s1.size),
        fmt_bytes(s1.size - s0.size),
        fmt_bytes(s0.resident),
        fmt_bytes(s1.resident),
        fmt_bytes(s1.resident.saturating_sub(s0.resident)),
    );
    for s in hooks::summary() {
        println!("  attributed: {s}");
    }
    if std::env::var_os("NATIVE_FIGURES_DEBUG").is_some() {
        for o in hooks::objects() {
            println!("  {o:?}");
        }
        for m in hooks::mappings() {
            println!("  table: {:x}-{:x} obj {}", m.start, m.end(), m.object);
        }
        for v in maps::read_smaps()
            .unwrap()
            .vmas
            .iter()
            .filter(|v| v.is_anonymous() && v.size() >= 64 << 20)
        {
            println!(
                "  smaps: {:x}-{:x} {} rss {}",
                v.start, v.end, v.perms, v.rss
            );
        }
    }
    let info = blas::info();
    for r in &info.runtimes {
        println!(
            "  runtime: {:?} {} version {:?} layer {} threads {} arch {:?} buffers {:?}",
            r.kind, r.path, r.version, r.threading_layer, r.num_threads, r.architecture, r.buffers
        );
    }
    for note in &info.notes {
        println!("  note: {note}");
    }

    let pm = arenaprof_native::process_memory(&[], &[], 0, None).unwrap();
    println!("groups ({} mappings):", pm.vmas);
    for (g, u) in &pm.grouped.groups {
        println!(
            "  {:<40} {:>4} maps  virt {:>10}  rss {:>10}  private {:>10}  commit {:>10}",
            g.label(),
            u.mappings,
            fmt_bytes(u.virtual_bytes),
            fmt_bytes(u.resident_bytes),
            fmt_bytes(u.private_bytes),
            fmt_bytes(u.commit_bytes)
        );
    }
    println!("ladder (sums to {}):", fmt_bytes(pm.ladder.rss));
    for r in &pm.ladder.rungs {
        println!("  {:<58} {:>10}", r.name, fmt_bytes(r.bytes));
    }

    let ch = blas::set_threads(1);
    for c in ch.iter().filter(|c| c.kind == blas::Kind::OpenBlas) {
        println!(
            "set_threads(1): {} -> {}, mapped {:?} -> {:?}: freed {:?} B",
            c.previous,
            c.now,
            c.mapped_before,
            c.mapped_after,
            c.freed_bytes()
        );
    }
    let s2 = maps::read_statm().unwrap();
    println!(
        "after set_threads(1): VmSize {}, RSS {}",
        fmt_bytes(s2.size),
        fmt_bytes(s2.resident)
    );

    println!("costs (median of 50):");
    println!(
        "  read_statm        {:>9} ns",
        median_ns(|| drop(maps::read_statm()), 50)
    );
    println!(
        "  read_smaps_rollup {:>9} ns",
        median_ns(|| drop(maps::read_smaps_rollup()), 50)
    );
    println!(
        "  read_maps         {:>9} ns",
        median_ns(|| drop(maps::read_maps()), 50)
    );
    println!(
        "  read_smaps        {:>9} ns ({} mappings)",
        median_ns(|| drop(maps::read_smaps()), 50),
        pm.vmas
    );
    println!(
        "  process_memory    {:>9} ns",
        median_ns(
            || drop(arenaprof_native::process_memory(&[], &[], 0, None)),
            50
        )
    );
    println!(
        "  hooks::mappings   {:>9} ns",
        median_ns(|| drop(hooks::mappings()), 50)
    );
    println!(
        "  blas::info        {:>9} ns",
        median_ns(|| drop(blas::info()), 50)
    );
    if hooked_pair_ns().is_none() {
        println!("  (no cc: hooked-call cost not measured)");
    }
    std::hint::black_box(&c);
}
