//! 8 threads, over a million random operations: alloc, realloc (grow and
//! shrink), free; sizes 1 B to 4 MiB; alignments 1 to 4096; a third of frees
//! on another thread than the allocation; several tags. Every (thread, tag)
//! cell's live bytes and counts are checked against an independent ledger,
//! at three quiescent points mid-run and at the end, exactly.
//!
//! With the header-free tracker (jemalloc inside, no `header` feature) the
//! ledger also runs in its address mode: every free checks that the block's
//! address names the tag it was counted under, and at each quiescent point
//! every tag's jemalloc arena holds exactly the ledger's live blocks of that
//! tag (`nallocx` of each, caches flushed). Thread cells are then net flow:
//! a free is the freeing thread's.

use arenaprof_alloc::{stats, Tag, TrackingAlloc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::alloc::Layout;
use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

const THREADS: usize = 8;
const OPS_PER_THREAD: usize = 131_072; // 8 * 131,072 = 1,048,576 operations
const CHECKPOINTS: usize = 4; // three mid-run, one at the end
const MAX_LIVE_PER_THREAD: usize = 48;
/// Header-free: frees count on the freeing thread, tags are in addresses.
const NET_FLOW: bool = cfg!(feature = "jemalloc") && !cfg!(feature = "header");

/// Expected counters of one (thread slot, tag) cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expect {
    allocated: u64,
    freed: u64,
    allocs: u64,
    frees: u64,
    reallocs: u64,
}

type Ledger = HashMap<(u32, u16), Expect>;

/// A live block and the cell it is counted in.
struct Block {
    ptr: usize,
    layout: Layout,
    slot: u32,
    tag: Tag,
    fill: u8,
}

fn random_layout(rng: &mut StdRng) -> Layout {
    // Log-uniform sizes from 1 B to 4 MiB, so small sizes dominate.
    let lg = rng.random_range(0.0..22.0f64);
    let size = (2f64.powf(lg) as usize).clamp(1, 4 << 20);
    let align = 1usize << rng.random_range(0..=12u32);
    Layout::from_size_align(size, align).unwrap()
}

fn check(ledgers: &[Mutex<Ledger>], tags: &[Tag], when: &str) {
    let mut expect: Ledger = HashMap::new();
    for l in ledgers {
        for (k, e) in l.lock().unwrap().iter() {
            let x = expect.entry(*k).or_default();
            x.allocated += e.allocated;
            x.freed += e.freed;
            x.allocs += e.allocs;
            x.frees += e.frees;
            x.reallocs += e.reallocs;
        }
    }
    let s = stats();
    let mut tag_live: HashMap<u16, i64> = HashMap::new();
    for ((slot, tag), e) in &expect {
        let row = s
            .thread(*slot)
            .unwrap_or_else(|| panic!("{when}: no row for slot {slot}"));
        let c = row.tag(Tag::from_id(*tag).unwrap());
        // Net flow: a thread that freed others' blocks has freed more than
        // it allocated, and shows 0 live bytes.
        let live = e.allocated.saturating_sub(e.freed);
        assert_eq!(
            c.live_bytes, live,
            "{when}: live bytes of slot {slot} tag {tag}"
        );
        assert_eq!(
            c.allocated_bytes, e.allocated,
            "{when}: allocated of {slot}/{tag}"
        );
        assert_eq!(c.freed_bytes, e.freed, "{when}: freed of {slot}/{tag}");
        assert_eq!(c.alloc_count, e.allocs, "{when}: allocs of {slot}/{tag}");
        assert_eq!(c.free_count, e.frees, "{when}: frees of {slot}/{tag}");
        assert_eq!(
            c.realloc_count, e.reallocs,
            "{when}: reallocs of {slot}/{tag}"
        );
        assert!(c.peak_bytes >= live, "{when}: peak below live");
        *tag_live.entry(*tag).or_default() += e.allocated as i64 - e.freed as i64;
    }
    for t in tags {
        let want = tag_live.get(&t.id()).copied().unwrap_or(0) as u64;
        assert_eq!(s.tag(*t).live_bytes, want, "{when}: tag {} live", t.name());
        assert!(
            s.tag(*t).peak_bytes >= want,
            "{when}: tag {} peak",
            t.name()
        );
    }
}

/// Each tag's jemalloc arena holds exactly the blocks the threads hold.
fn check_arenas(held: &[Mutex<HashMap<u16, u64>>], tags: &[Tag], when: &str) {
    for t in tags {
        let want: u64 = held
            .iter()
            .map(|h| h.lock().unwrap().get(&t.id()).copied().unwrap_or(0))
            .sum();
        let got = arenaprof_alloc::testing::arena_allocated(*t);
        assert_eq!(got, Some(want), "{when}: jemalloc's arena of {}", t.name());
    }
}

#[test]
fn eight_threads_a_million_ops_exact_against_ledger() {
    let tags: Vec<Tag> = (0..4).map(|i| Tag::new(&format!("stress-{i}"))).collect();
    let ledgers: Arc<Vec<Mutex<Ledger>>> =
        Arc::new((0..THREADS).map(|_| Mutex::new(HashMap::new())).collect());
    let inboxes: Arc<Vec<Mutex<Vec<Block>>>> = Arc::new(
        (0..THREADS)
            .map(|_| Mutex::new(Vec::with_capacity(4096)))
            .collect(),
    );
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let held: Arc<Vec<Mutex<HashMap<u16, u64>>>> =
        Arc::new((0..THREADS).map(|_| Mutex::new(HashMap::new())).collect());
    let handles: Vec<_> = (0..THREADS)
        .map(|me| {
            let (ledgers, inboxes, barrier, tags, held) = (
                ledgers.clone(),
                inboxes.clone(),
                barrier.clone(),
                tags.clone(),
                held.clone(),
            );
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(0xA11C_0000 + me as u64);
                let slot = arenaprof_alloc::current_thread_slot().unwrap();
                let mut live: Vec<Block> = Vec::with_capacity(MAX_LIVE_PER_THREAD + 1);
                let free_block = |b: Block, ledger: &Mutex<Ledger>| {
                    if NET_FLOW {
                        // The address names the tag the block counts under.
                        let at = arenaprof_alloc::testing::tag_of_block(b.ptr as *const u8);
                        assert_eq!(at, Some(b.tag), "tag of the block's address");
                    }
                    // SAFETY: the block is live, came from `alloc` with `b.layout`.
                    unsafe {
                        assert_eq!(*(b.ptr as *const u8), b.fill, "contents survived");
                        std::alloc::dealloc(b.ptr as *mut u8, b.layout);
                    }
                    let mut l = ledger.lock().unwrap();
                    let owner = if NET_FLOW { slot } else { b.slot };
                    let e = l.entry((owner, b.tag.id())).or_default();
                    e.freed += b.layout.size() as u64;
                    e.frees += 1;
                };
                let per_phase = OPS_PER_THREAD / CHECKPOINTS;
                for phase in 0..CHECKPOINTS {
                    for _ in 0..per_phase {
                        let op = rng.random_range(0..100);
                        if op < 45 && live.len() < MAX_LIVE_PER_THREAD || live.is_empty() {
                            let layout = random_layout(&mut rng);
                            let tag = tags[rng.random_range(0..tags.len())];
                            let fill = rng.random::<u8>();
                            let p = arenaprof_alloc::with_tag(tag, || {
                                // SAFETY: non-zero size.
                                unsafe { std::alloc::alloc(layout) }
                            });
                            assert!(!p.is_null());
                            // SAFETY: p is a fresh block of at least one byte.
                            unsafe { *p = fill };
                            let mut l = ledgers[me].lock().unwrap();
                            let e = l.entry((slot, tag.id())).or_default();
                            e.allocated += layout.size() as u64;
                            e.allocs += 1;
                            live.push(Block {
                                ptr: p as usize,
                                layout,
                                slot,
                                tag,
                                fill,
                            });
                        } else if op < 70 {
                            let i = rng.random_range(0..live.len());
                            let b = &mut live[i];
                            let grow = rng.random_bool(0.5);
                            let new = if grow {
                                (b.layout.size() * rng.random_range(2..4)).min(4 << 20)
                            } else {
                                (b.layout.size() / rng.random_range(2..4)).max(1)
                            };
                            let tag = tags[rng.random_range(0..tags.len())];
                            if NET_FLOW {
                                let at = arenaprof_alloc::testing::tag_of_block(b.ptr as *const u8);
                                assert_eq!(at, Some(b.tag), "tag of the block's address");
                            }
                            let p = arenaprof_alloc::with_tag(tag, || {
                                // SAFETY: live block with this layout, new size non-zero.
                                unsafe { std::alloc::realloc(b.ptr as *mut u8, b.layout, new) }
                            });
                            assert!(!p.is_null());
                            // SAFETY: realloc preserves the first min(old, new) bytes.
                            assert_eq!(unsafe { *p }, b.fill, "realloc kept contents");
                            let mut l = ledgers[me].lock().unwrap();
                            let owner = if NET_FLOW { slot } else { b.slot };
                            let old = l.entry((owner, b.tag.id())).or_default();
                            old.freed += b.layout.size() as u64;
                            old.frees += 1;
                            let e = l.entry((slot, tag.id())).or_default();
                            e.allocated += new as u64;
                            e.allocs += 1;
                            e.reallocs += 1;
                            b.ptr = p as usize;
                            b.layout = Layout::from_size_align(new, b.layout.align()).unwrap();
                            b.slot = slot;
                            b.tag = tag;
                        } else {
                            let i = rng.random_range(0..live.len());
                            let b = live.swap_remove(i);
                            if rng.random_range(0..3) == 0 {
                                // A third of frees happen on another thread.
                                let to = (me + rng.random_range(1..THREADS)) % THREADS;
                                inboxes[to].lock().unwrap().push(b);
                            } else {
                                free_block(b, &ledgers[me]);
                            }
                        }
                        if rng.random_range(0..64) == 0 {
                            let mine: Vec<Block> = inboxes[me].lock().unwrap().drain(..).collect();
                            for b in mine {
                                free_block(b, &ledgers[me]);
                            }
                        }
                    }
                    if phase + 1 == CHECKPOINTS {
                        for b in live.drain(..) {
                            free_block(b, &ledgers[me]);
                        }
                        barrier.wait(); // everyone stopped allocating
                        let mine: Vec<Block> = inboxes[me].lock().unwrap().drain(..).collect();
                        for b in mine {
                            free_block(b, &ledgers[me]);
                        }
                    }
                    barrier.wait(); // everyone stopped
                                    // What this thread holds (its live blocks and those in
                                    // its inbox), as jemalloc sizes them, per tag.
                    arenaprof_alloc::testing::flush_thread_caches();
                    {
                        let inbox = inboxes[me].lock().unwrap();
                        let mut held = held[me].lock().unwrap();
                        held.clear();
                        for b in live.iter().chain(inbox.iter()) {
                            // A large block adopted by another tag (a
                            // same-size realloc) stays in its first arena.
                            let arena =
                                arenaprof_alloc::testing::arena_of_block(b.ptr as *const u8);
                            *held.entry(arena.unwrap_or(b.tag).id()).or_default() +=
                                arenaprof_alloc::testing::usable_size(b.layout) as u64;
                        }
                    }
                    barrier.wait(); // quiescent: main checks
                    barrier.wait(); // main done
                }
            })
        })
        .collect();
    for phase in 0..CHECKPOINTS {
        if phase + 1 == CHECKPOINTS {
            barrier.wait();
        }
        barrier.wait(); // everyone stopped
        barrier.wait();
        check(&ledgers, &tags, &format!("checkpoint {phase}"));
        if NET_FLOW {
            check_arenas(&held, &tags, &format!("checkpoint {phase}"));
        }
        barrier.wait();
    }
    for h in handles {
        h.join().unwrap();
    }
    check(&ledgers, &tags, "end");
    let s = stats();
    for t in &tags {
        assert_eq!(s.tag(*t).live_bytes, 0, "all blocks freed");
        assert_eq!(s.tag(*t).alloc_count, s.tag(*t).free_count);
    }
    let total_ops: u64 = tags.iter().map(|t| s.tag(*t).alloc_count).sum();
    assert!(total_ops > 300_000, "ran {total_ops} allocations");
}
