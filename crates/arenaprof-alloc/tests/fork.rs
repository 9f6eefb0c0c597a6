//! A `fork()` child inherits a copy of the counters as they were at the fork
//! and counts its own allocations on top; the parent's counters do not see
//! them. (Alone in its test binary: no other thread may hold a lock at fork.)

use arenaprof_alloc::{stats, with_tag, Tag, TrackingAlloc};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

#[test]
fn fork_child_counts_on_a_copy() {
    let tag = Tag::new("fork");
    let keep = with_tag(tag, || vec![0u8; 1000]);
    let parent_before = stats().tag(tag);
    assert_eq!(parent_before.live_bytes, 1000);
    // SAFETY: this test binary runs one test; the child only allocates,
    // reads counters and calls _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let v = with_tag(tag, || vec![0u8; 5000]);
        let s = stats().tag(tag);
        let ok = s.live_bytes == 6000 && s.alloc_count == parent_before.alloc_count + 1;
        drop(v);
        // SAFETY: _exit ends the child without running the parent's handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child saw wrong counters"
    );
    assert_eq!(stats().tag(tag), parent_before, "parent unaffected");
    drop(keep);
}
