//! A snapshot symbolises its sampled stacks outside the fork gate: a
//! `fork()` (here: `Command::status`, then a raw `fork` whose child takes a
//! snapshot of its own) completes while another thread is held inside
//! symbolising. The child, forked mid-symbolising, does not symbolise (the
//! `backtrace` crate's cache may be half-updated there): its snapshot says
//! so, and it does not deadlock. A watchdog aborts the test if anything
//! waits for the held snapshot. (Alone in its test binary.)

use arenaprof_alloc::{set_sampling, snapshot, testing, Sampling, TrackingAlloc};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

static INSIDE: AtomicBool = AtomicBool::new(false);
static RELEASE: AtomicBool = AtomicBool::new(false);

fn hold() {
    INSIDE.store(true, SeqCst);
    while !RELEASE.load(SeqCst) {
        std::thread::yield_now();
    }
}

/// The entries of the snapshot's `symbols` section.
fn symbols(s: &arenaprof_snapshot::Snapshot) -> Vec<(String, String)> {
    s.sections
        .iter()
        .filter(|x| x.name == arenaprof_snapshot::SYMBOLS_SECTION)
        .flat_map(|x| x.entries.clone())
        .collect()
}

#[test]
fn fork_does_not_wait_for_symbolising() {
    // Watchdog: before the change, the spawn below waited for the snapshot
    // held in `hold`, which waits for this thread: a deadlock.
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let d = done.clone();
    std::thread::spawn(move || {
        let t = Instant::now();
        while !d.load(SeqCst) {
            if t.elapsed() > Duration::from_secs(120) {
                eprintln!("watchdog: fork waited for a snapshot's symbolising");
                std::process::abort();
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
    });
    set_sampling(Sampling::All);
    // Every address symbolised here, as with ARENAPROF_SYMBOLS=program (by
    // default the report tool symbolises them and the program parses no
    // debug information).
    testing::symbolise_in_program(true);
    let keep: Vec<Vec<u8>> = (0..100).map(|i| vec![0u8; 64 + i]).collect();
    testing::while_symbolising(Some(hold));
    let snapper = std::thread::spawn(snapshot);
    while !INSIDE.load(SeqCst) {
        std::thread::yield_now();
    }
    // The snapshot thread is inside symbolising now.
    let st = Command::new("true").status().expect("spawn");
    assert!(st.success());
    assert!(!snapper.is_finished(), "the snapshot is still held");

    // A raw fork: the child snapshots (sampling still on) and exits 0 when
    // its snapshot says its frames are unresolved.
    // SAFETY: the child takes a snapshot and calls _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        testing::while_symbolising(None);
        let _more = vec![1u8; 4096];
        let s = snapshot();
        let unresolved = symbols(&s).iter().any(|(k, _)| k == "unresolved");
        let stacks = !s.heap.stacks.is_empty();
        // SAFETY: ends the child without running the parent's handlers.
        unsafe { libc::_exit(if unresolved && stacks { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child's snapshot did not say its frames are unresolved ({status})"
    );

    RELEASE.store(true, SeqCst);
    testing::while_symbolising(None);
    let s = snapper.join().unwrap();
    assert!(symbols(&s).iter().all(|(k, _)| k != "unresolved"));
    assert!(!s.heap.stacks.is_empty());
    assert!(
        s.heap
            .frames
            .iter()
            .any(|f| f.function.contains("fork_does_not_wait")),
        "the parent's frames are symbolised"
    );
    done.store(true, SeqCst);
    drop(keep);
}
