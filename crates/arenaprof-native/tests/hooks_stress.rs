//! 8 threads map, split, remap and unmap through shared objects (one with
//! lazy binding, one with full RELRO) while another thread reads the table:
//! nothing deadlocks, and every counter ends exactly where the threads'
//! own bookkeeping says.

mod common;

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use arenaprof_native::{blas, hooks, maps};

type MapFn = unsafe extern "C" fn(usize) -> *mut c_void;
type UnmapFn = unsafe extern "C" fn(*mut c_void, usize) -> i32;
type RemapFn = unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void;
type FixedFn = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;

#[derive(Clone, Copy)]
struct Lib {
    map: MapFn,
    unmap: UnmapFn,
    remap: RemapFn,
    fixed: FixedFn,
}

fn load(path: &std::path::Path) -> (blas::Library, Lib) {
    let l = blas::open(&[path.to_str().unwrap()]).expect("dlopen test library");
    let f = |n: &str| l.symbol(n).unwrap_or_else(|| panic!("{n}"));
    // SAFETY: the symbols are the C functions of MAPPER_C with these types.
    let lib = unsafe {
        Lib {
            map: std::mem::transmute::<*mut c_void, MapFn>(f("tl_map")),
            unmap: std::mem::transmute::<*mut c_void, UnmapFn>(f("tl_unmap")),
            remap: std::mem::transmute::<*mut c_void, RemapFn>(f("tl_remap")),
            fixed: std::mem::transmute::<*mut c_void, FixedFn>(f("tl_map_fixed")),
        }
    };
    (l, lib)
}

fn page() -> usize {
    arenaprof_native::page_size()
}

fn round(n: usize) -> usize {
    n.div_ceil(page()) * page()
}

#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    mmap: u64,
    munmap: u64,
    mremap: u64,
    live: u64,
    live_bytes: u64,
}

const ITERS: usize = 1500;

/// The two tests share the process's hooks (one uninstalls them for a
/// moment): run them one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn worker(tid: usize, lib: Lib) -> (Expect, Vec<(usize, usize)>) {
    let mut e = Expect::default();
    let mut kept = Vec::new();
    let ps = page();
    for i in 0..ITERS {
        let len = ((tid * 7 + i) % 16 + 1) * ps - (i % 3) * 17; // not always page multiples
                                                                // SAFETY: the test library's functions; pointers come from them.
        unsafe {
            let p = (lib.map)(len);
            assert!(!p.is_null());
            e.mmap += 1;
            *(p as *mut u8) = 1;
            match i % 10 {
                0 => {
                    kept.push((p as usize, len));
                    e.live += 1;
                    e.live_bytes += round(len) as u64;
                }
                3 if len > 3 * ps => {
                    // Split: unmap the second page, then the two pieces.
                    assert_eq!((lib.unmap)((p as usize + ps) as *mut c_void, ps), 0);
                    assert_eq!((lib.unmap)(p, ps), 0);
                    assert_eq!(
                        (lib.unmap)((p as usize + 2 * ps) as *mut c_void, round(len) - 2 * ps),
                        0
                    );
                    e.munmap += 3;
                }
                5 => {
                    let q = (lib.remap)(p, len, len + 3 * ps);
                    assert!(!q.is_null());
                    e.mremap += 1;
                    assert_eq!((lib.unmap)(q, len + 3 * ps), 0);
                    e.munmap += 1;
                }
                7 => {
                    // Map again over the same range with MAP_FIXED.
                    let q = (lib.fixed)(p, len);
                    assert_eq!(q, p);
                    e.mmap += 1;
                    assert_eq!((lib.unmap)(q, len), 0);
                    e.munmap += 1;
                }
                _ => {
                    assert_eq!((lib.unmap)(p, len), 0);
                    e.munmap += 1;
                }
            }
        }
    }
    (e, kept)
}

#[test]
fn eight_threads_exact_totals_while_reading() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (lazy, now) = match (
        common::build_so("tl_lazy", common::MAPPER_C, &[]),
        common::build_so("tl_now", common::MAPPER_C, &["-Wl,-z,relro,-z,now"]),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            println!("SKIPPED: cannot build the test library: {e}");
            return;
        }
    };
    let p = hooks::install().expect("install");
    assert_eq!(p.failed, 0);
    // Loaded after install: patched by the dlopen hook.
    let (l1, lib1) = load(&lazy);
    let (l2, lib2) = load(&now);
    let objs = hooks::objects();
    let id_of = |name: &str| {
        objs.iter()
            .find(|o| o.name.ends_with(name))
            .map(|o| o.id)
            .expect(name)
    };
    let (id1, id2) = (id_of("libtl_lazy.so"), id_of("libtl_now.so"));
    assert!(hooks::object(id1).unwrap().got_slots >= 3);
    assert!(hooks::object(id2).unwrap().got_slots >= 3);

    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (done, reads) = (done.clone(), reads.clone());
        std::thread::spawn(move || {
            let mut busy = 0;
            while !done.load(Ordering::SeqCst) {
                let mut n = 0usize;
                let st = hooks::for_each_mapping(|m| {
                    assert!(m.len > 0 && m.start % page() == 0);
                    n += 1;
                });
                busy += st.busy_skipped;
                let _ = hooks::objects();
                if reads.fetch_add(1, Ordering::SeqCst) % 50 == 0 {
                    let _ = maps::read_smaps().unwrap();
                }
            }
            busy
        })
    };
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let lib = if t % 2 == 0 { lib1 } else { lib2 };
            std::thread::spawn(move || worker(t, lib))
        })
        .collect();
    let results: Vec<(Expect, Vec<(usize, usize)>)> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    done.store(true, Ordering::SeqCst);
    let busy = reader.join().unwrap();
    println!(
        "reader: {} passes, {busy} busy entries skipped",
        reads.load(Ordering::SeqCst)
    );

    for (id, parity) in [(id1, 0), (id2, 1)] {
        let mut e = Expect::default();
        let mut kept = Vec::new();
        for (t, (x, k)) in results.iter().enumerate() {
            if t % 2 == parity {
                e.mmap += x.mmap;
                e.munmap += x.munmap;
                e.mremap += x.mremap;
                e.live += x.live;
                e.live_bytes += x.live_bytes;
                kept.extend_from_slice(k);
            }
        }
        let o = hooks::object(id).unwrap();
        println!("{o:?}");
        let got = Expect {
            mmap: o.mmap_calls,
            munmap: o.munmap_calls,
            mremap: o.mremap_calls,
            live: o.live_mappings,
            live_bytes: o.live_bytes,
        };
        assert_eq!(got, e, "object {}", o.name);
        assert_eq!(
            (o.failed_calls, o.unmatched_unmaps, o.dropped, o.stale),
            (0, 0, 0, 0)
        );
        assert_eq!(o.mapped_bytes_total - o.unmapped_bytes_total, o.live_bytes);
        // The table holds exactly the kept mappings.
        let mut table: Vec<(usize, usize)> = hooks::mappings()
            .into_iter()
            .filter(|m| m.object == id)
            .map(|m| (m.start, m.len))
            .collect();
        table.sort_unstable();
        let mut want: Vec<(usize, usize)> = kept.iter().map(|&(p, l)| (p, round(l))).collect();
        want.sort_unstable();
        assert_eq!(table, want);
    }

    // Unmap the rest: back to zero live.
    for (t, (_, kept)) in results.iter().enumerate() {
        let lib = if t % 2 == 0 { lib1 } else { lib2 };
        for &(p, l) in kept {
            // SAFETY: mappings made by the library above, still mapped.
            assert_eq!(unsafe { (lib.unmap)(p as *mut c_void, l) }, 0);
        }
    }
    for id in [id1, id2] {
        let o = hooks::object(id).unwrap();
        assert_eq!((o.live_mappings, o.live_bytes), (0, 0));
    }
    assert!(hooks::mappings()
        .iter()
        .all(|m| m.object != id1 && m.object != id2));

    // Uninstalled: calls are no longer seen; reinstalled: seen again.
    assert!(hooks::uninstall() >= 6);
    let before = hooks::object(id1).unwrap().mmap_calls;
    // SAFETY: test library functions.
    unsafe {
        let p = (lib1.map)(page());
        (lib1.unmap)(p, page());
    }
    assert_eq!(hooks::object(id1).unwrap().mmap_calls, before);
    hooks::install().unwrap();
    // SAFETY: as above.
    unsafe {
        let p = (lib1.map)(page());
        (lib1.unmap)(p, page());
    }
    assert_eq!(hooks::object(id1).unwrap().mmap_calls, before + 1);
    drop((l1, l2));
}

#[test]
fn forked_child_keeps_counting() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let path = match common::build_so("tl_fork", common::MAPPER_C, &[]) {
        Ok(p) => p,
        Err(e) => {
            println!("SKIPPED: cannot build the test library: {e}");
            return;
        }
    };
    hooks::install().expect("install");
    let (_l, lib) = load(&path);
    let id = hooks::objects()
        .iter()
        .find(|o| o.name.ends_with("libtl_fork.so"))
        .unwrap()
        .id;
    // Threads hammering the hooks while the process forks.
    let stop = Arc::new(AtomicBool::new(false));
    let hammer: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    // SAFETY: test library functions.
                    unsafe {
                        let p = (lib.map)(page());
                        (lib.unmap)(p, page());
                    }
                }
            })
        })
        .collect();
    for _ in 0..20 {
        // SAFETY: the child only calls the hooked functions (atomics and
        // syscalls, no locks, no allocation) and _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let before = hooks::object(id).map(|o| o.mmap_calls).unwrap_or(0);
            // SAFETY: test library functions, then _exit.
            unsafe {
                let p = (lib.map)(page());
                let ok = !p.is_null() && (lib.unmap)(p, page()) == 0;
                let after = hooks::object(id).map(|o| o.mmap_calls).unwrap_or(0);
                libc::_exit(if ok && after == before + 1 { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child status {status}"
        );
    }
    stop.store(true, Ordering::SeqCst);
    for h in hammer {
        h.join().unwrap();
    }
}
