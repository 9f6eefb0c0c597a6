//! Failure injection for tests: [`FailingAlloc`], an inner allocator that
//! refuses chosen requests, so `try_` paths, `GemmError::WorkspaceUnavailable`
//! and the tracker's `failed_count` can be tested without running out of
//! memory.
//!
//! ```no_run
//! use arenaprof_alloc::testing::{self, FailingAlloc};
//! use arenaprof_alloc::TrackingAlloc;
//!
//! #[global_allocator]
//! static ALLOC: TrackingAlloc<FailingAlloc> = TrackingAlloc::wrap(FailingAlloc::new());
//!
//! testing::fail_next(1); // this thread's next request is refused
//! let mut v: Vec<u8> = Vec::new();
//! assert!(v.try_reserve(64).is_err());
//! {
//!     let _r = testing::refuse_on_this_thread(1 << 20); // requests of 1 MiB and more
//!     assert!(v.try_reserve(2 << 20).is_err());
//!     assert!(v.try_reserve(64).is_ok());
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// An inner allocator (the system's by default) that refuses what the
/// functions of this module ask it to; everything else is forwarded.
#[derive(Debug, Default)]
pub struct FailingAlloc<A = System> {
    inner: A,
}

impl FailingAlloc<System> {
    /// The system allocator, refusing on request.
    pub const fn new() -> Self {
        FailingAlloc { inner: System }
    }
}

impl<A> FailingAlloc<A> {
    /// `inner`, refusing on request.
    ///
    /// ```
    /// let _a = arenaprof_alloc::testing::FailingAlloc::wrap(std::alloc::System);
    /// ```
    pub const fn wrap(inner: A) -> Self {
        FailingAlloc { inner }
    }
}

thread_local! {
    static FAIL_NEXT: Cell<u32> = const { Cell::new(0) };
    static THREAD_MIN: Cell<usize> = const { Cell::new(usize::MAX) };
}
static GLOBAL_MIN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Refuses the next `n` requests made on the calling thread.
///
/// ```
/// arenaprof_alloc::testing::fail_next(0); // refuse nothing
/// ```
pub fn fail_next(n: u32) {
    FAIL_NEXT.with(|f| f.set(n));
}

/// While alive, requests of at least a size are refused (on one thread, or
/// everywhere); dropping it restores what was in force before.
#[must_use = "requests are refused only while the guard lives"]
pub struct Refusal {
    prev: usize,
    global: bool,
    _not_send: PhantomData<*const ()>,
}

/// Refuses every request of at least `min_size` bytes made on the calling
/// thread (0: every request) until the guard drops.
///
/// ```
/// let _r = arenaprof_alloc::testing::refuse_on_this_thread(usize::MAX);
/// ```
pub fn refuse_on_this_thread(min_size: usize) -> Refusal {
    Refusal {
        prev: THREAD_MIN.with(|m| m.replace(min_size)),
        global: false,
        _not_send: PhantomData,
    }
}

/// Refuses every request of at least `min_size` bytes, on every thread,
/// until the guard drops.
///
/// ```
/// let _r = arenaprof_alloc::testing::refuse_everywhere(usize::MAX);
/// ```
pub fn refuse_everywhere(min_size: usize) -> Refusal {
    Refusal {
        prev: GLOBAL_MIN.swap(min_size, Relaxed),
        global: true,
        _not_send: PhantomData,
    }
}

impl Drop for Refusal {
    fn drop(&mut self) {
        if self.global {
            GLOBAL_MIN.store(self.prev, Relaxed);
        } else {
            let _ = THREAD_MIN.try_with(|m| m.set(self.prev));
        }
    }
}

/// Whether a request of `size` bytes is refused now (consumes one of
/// [`fail_next`]'s refusals).
fn refused(size: usize) -> bool {
    let next = FAIL_NEXT
        .try_with(|f| {
            let n = f.get();
            if n > 0 {
                f.set(n - 1);
            }
            n > 0
        })
        .unwrap_or(false);
    next || size >= THREAD_MIN.try_with(Cell::get).unwrap_or(usize::MAX)
        || size >= GLOBAL_MIN.load(Relaxed)
}

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments, or returns null, which `GlobalAlloc` allows for any request.
unsafe impl<A: GlobalAlloc> GlobalAlloc for FailingAlloc<A> {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if refused(l.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's `alloc` contract, passed on.
        unsafe { self.inner.alloc(l) }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if refused(l.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's `alloc_zeroed` contract, passed on.
        unsafe { self.inner.alloc_zeroed(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: the caller's `dealloc` contract, passed on.
        unsafe { self.inner.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if refused(n) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's `realloc` contract, passed on.
        unsafe { self.inner.realloc(p, l, n) }
    }
}
