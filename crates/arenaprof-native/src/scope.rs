//! The function this crate runs its own work in, so that a tracking
//! allocator counts that work's allocations as the profiler's.

use std::sync::atomic::Ordering;

/// The tracker's scope for the profiler's own allocations (see
/// [`set_internal_scope`]); null when none was set.
static INTERNAL: std::sync::atomic::AtomicPtr<()> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// Sets the function this crate runs its own work in (reading `/proc`,
/// listing objects, `blas::info` and friends), so that a tracking allocator
/// counts their allocations as the profiler's overhead rather than as the
/// program's: arenaprof-alloc sets its "busy" scope here at its first
/// allocation. Plumbing for the tracker.
///
/// ```
/// fn run(f: &mut dyn FnMut()) { f() }
/// arenaprof_native::set_internal_scope(run);
/// ```
pub fn set_internal_scope(f: fn(&mut dyn FnMut())) {
    INTERNAL.store(f as *mut (), Ordering::Release);
}

/// Runs `f` inside the scope set by [`set_internal_scope`].
pub(crate) fn internal<R>(f: impl FnOnce() -> R) -> R {
    let p = INTERNAL.load(Ordering::Acquire);
    if p.is_null() {
        return f();
    }
    // SAFETY: only `set_internal_scope` stores here, from a
    // `fn(&mut dyn FnMut())`.
    let scope = unsafe { std::mem::transmute::<*mut (), fn(&mut dyn FnMut())>(p) };
    let mut f = Some(f);
    let mut out = None;
    scope(&mut || {
        if let Some(f) = f.take() {
            out = Some(f());
        }
    });
    match out {
        Some(r) => r,
        // A scope that did not call its argument: run it here.
        None => f
            .take()
            .map(|f| f())
            .expect("the scope consumed the work without running it"),
    }
}
