//! `ARENAPROF_NATIVE=off`: no hooks, no mapping measurement, and the
//! snapshot says so.

use arenaprof_alloc::{snapshot, Profiler, TrackingAlloc};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

#[test]
fn arenaprof_native_off_turns_hooks_and_measurement_off() {
    // The only test in this binary: nothing else reads the environment.
    std::env::set_var("ARENAPROF_NATIVE", "off");
    let _p = Profiler::from_env();
    assert!(!arenaprof_native::hooks::is_installed());
    let s = snapshot();
    assert!(!s.native.measured);
    assert!(s.native.groups.is_empty() && s.native.ladder.is_empty());
    assert!(s.native.notes[0].starts_with("ARENAPROF_NATIVE=off"));
    // The timeline still carries VmSize and RSS (statm is not a mapping walk).
    assert!(s.native.series.iter().any(|p| p.rss_bytes > 0));
}
