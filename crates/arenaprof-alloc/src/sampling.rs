//! Backtraces for chosen allocations: Poisson sampling by bytes (like jemalloc's
//! `prof` and Go's heap profiler), every allocation above a size, or all.
//!
//! In `Bytes` mode each thread draws the bytes until its next sample from an
//! exponential distribution of mean `mean_bytes`; an allocation of `size` bytes
//! is then sampled with probability `1 - exp(-size/mean)`, and each sample
//! carries the weight `1 / (1 - exp(-size/mean))`, so summed weights are
//! unbiased estimates of allocation counts (and `weight * size` of bytes).
//!
//! Stacks are captured unresolved (instruction pointers only), interned, and
//! symbolised once, at snapshot time.
//!
//! ```
//! use arenaprof_alloc::{set_sampling, Sampling};
//! set_sampling(Sampling::Bytes { mean: 512 << 10 });
//! set_sampling(Sampling::Off);
//! ```

use crate::clock::now_ns;
use crate::local::{with_busy, Local};
use arenaprof_snapshot::size::parse_size;
use dashmap::DashMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering::*};
use std::sync::{Mutex, OnceLock};

/// Which allocations get a backtrace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// None.
    Off,
    /// Poisson by bytes, one sample per `mean` bytes on average.
    Bytes {
        /// Mean bytes between samples (jemalloc and Go use 512 KiB).
        mean: u64,
    },
    /// Every allocation of at least `min_size` bytes.
    Threshold {
        /// Smallest size recorded.
        min_size: u64,
    },
    /// Every allocation (tests, small programs).
    All,
}

impl Sampling {
    /// jemalloc's and Go's default mean sampling interval (512 KiB).
    pub const DEFAULT_MEAN: u64 = 512 << 10;
}

/// Freed samples kept: the newest 65,536 (about 3.5 MiB); older ones are
/// dropped and counted, so a long run keeps its recent history in bounded
/// memory whatever the mode. Live samples are all kept (one per live
/// sampled block).
pub(crate) const MAX_FREED: usize = 1 << 16;
/// Deepest stack captured.
pub(crate) const MAX_DEPTH: usize = 64;

const OFF: u8 = 0;
const BYTES: u8 = 1;
const THRESHOLD: u8 = 2;
const ALL: u8 = 3;

static MODE: AtomicU8 = AtomicU8::new(OFF);
static PARAM: AtomicU64 = AtomicU64::new(Sampling::DEFAULT_MEAN);
static EPOCH: AtomicU32 = AtomicU32::new(1);
static CAPTURED: AtomicU64 = AtomicU64::new(0);
static CAPTURE_NS: AtomicU64 = AtomicU64::new(0);
static DROPPED_FREED: AtomicU64 = AtomicU64::new(0);

/// Sets the sampling mode for all threads.
///
/// ```
/// arenaprof_alloc::set_sampling(arenaprof_alloc::Sampling::All);
/// assert_eq!(arenaprof_alloc::sampling(), arenaprof_alloc::Sampling::All);
/// arenaprof_alloc::set_sampling(arenaprof_alloc::Sampling::Off);
/// ```
pub fn set_sampling(s: Sampling) {
    let (m, p) = match s {
        Sampling::Off => (OFF, 0),
        Sampling::Bytes { mean } => (BYTES, mean.max(1)),
        Sampling::Threshold { min_size } => (THRESHOLD, min_size),
        Sampling::All => (ALL, 0),
    };
    PARAM.store(p, Relaxed);
    MODE.store(m, Release);
    // Never 0: a cell's sampling word is the epoch, and 0 means off.
    let mut epoch = EPOCH.fetch_add(1, Relaxed).wrapping_add(1);
    if epoch == 0 {
        epoch = EPOCH.fetch_add(1, Relaxed).wrapping_add(1);
    }
    crate::rows::set_sampling_flags(if m != OFF { epoch as u64 } else { 0 });
}

/// The sampling mode in force.
pub fn sampling() -> Sampling {
    let p = PARAM.load(Relaxed);
    match MODE.load(Acquire) {
        BYTES => Sampling::Bytes { mean: p },
        THRESHOLD => Sampling::Threshold { min_size: p },
        ALL => Sampling::All,
        _ => Sampling::Off,
    }
}

/// A mistyped `ARENAPROF_SAMPLE` value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid sampling mode {given:?}: expected off, all, bytes, bytes:SIZE (e.g. bytes:512KiB) or min:SIZE (e.g. min:1MiB)")]
pub struct SamplingParseError {
    given: String,
}

impl std::str::FromStr for Sampling {
    type Err = SamplingParseError;

    /// Parses `ARENAPROF_SAMPLE`'s forms: `off`, `all`, `bytes` (mean
    /// [`Sampling::DEFAULT_MEAN`]), `bytes:512KiB`, `min:1MiB`; sizes in the
    /// grammar of [`arenaprof_snapshot::size`].
    ///
    /// ```
    /// use arenaprof_alloc::Sampling;
    /// assert_eq!("bytes:1MiB".parse(), Ok(Sampling::Bytes { mean: 1 << 20 }));
    /// assert!("byte".parse::<Sampling>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Sampling, SamplingParseError> {
        let t = s.trim();
        let err = || SamplingParseError {
            given: s.to_owned(),
        };
        match t {
            "off" | "0" | "" => return Ok(Sampling::Off),
            "all" => return Ok(Sampling::All),
            "bytes" | "on" => {
                return Ok(Sampling::Bytes {
                    mean: Sampling::DEFAULT_MEAN,
                })
            }
            _ => {}
        }
        if let Some(v) = t.strip_prefix("bytes:") {
            let mean = parse_size(v).map_err(|_| err())?;
            return Ok(Sampling::Bytes { mean });
        }
        if let Some(v) = t.strip_prefix("min:") {
            let min_size = parse_size(v).map_err(|_| err())?;
            return Ok(Sampling::Threshold { min_size });
        }
        Err(err())
    }
}

/// Whether any sampling is on.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    MODE.load(Relaxed) != OFF
}

/// Decides whether an allocation of `size` bytes is sampled (any path).
#[inline]
pub(crate) fn should_sample(l: &Local, size: usize) -> bool {
    enabled() && should_sample_at(l, size, EPOCH.load(Relaxed))
}

/// [`should_sample`] on the hot path, given the sampling epoch from the
/// thread's cell (non-zero: sampling is on): a countdown of this thread's
/// bytes, drawn for `epoch`, and no global load. Every mode runs on the
/// countdown: bytes mode draws exponential intervals; `min:SIZE` counts
/// down from SIZE (an allocation of at least SIZE, or SIZE bytes of smaller
/// ones, reaches the slow path, which samples only the former); `all` keeps
/// it at 0.
#[inline(always)]
pub(crate) fn should_sample_at(l: &Local, size: usize, epoch: u32) -> bool {
    let left = l.countdown.get().wrapping_sub(size as i64);
    if left > 0 && l.epoch.get() == epoch {
        l.countdown.set(left);
        return false;
    }
    decide(l, epoch, left, size)
}

/// The countdown ran out, or was drawn for another epoch.
#[cold]
#[inline(never)]
fn decide(l: &Local, epoch: u32, left: i64, size: usize) -> bool {
    match MODE.load(Relaxed) {
        BYTES => draw(l, epoch, left, size, PARAM.load(Relaxed).max(1) as f64),
        THRESHOLD => {
            let min = PARAM.load(Relaxed);
            l.epoch.set(epoch);
            l.countdown.set(min.min(i64::MAX as u64) as i64);
            size as u64 >= min
        }
        ALL => {
            l.epoch.set(epoch);
            l.countdown.set(0);
            true
        }
        _ => false,
    }
}

/// One exponential interval of mean `mean` bytes, rounded down plus one (so
/// at least 1): `P(interval <= size) = 1 - exp(-size/mean)` for a whole
/// number of bytes `size`.
#[inline]
fn interval(x: &mut u64, mean: f64) -> i64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    let u = ((*x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (-u.ln() * mean) as i64 + 1
}

/// Draws the next interval (mean `mean` bytes); returns whether this
/// allocation (of `size` bytes, which left `left` of the countdown) is sampled.
///
/// A fresh countdown (sampling just turned on, or this thread's first
/// allocation since) is drawn *before* this allocation counts against it, so
/// the first allocation is sampled with probability `1 - exp(-size/mean)`
/// like every other (the exponential is memoryless).
#[cold]
fn draw(l: &Local, epoch: u32, left: i64, size: usize, mean: f64) -> bool {
    let fresh = l.epoch.get() != epoch;
    l.epoch.set(epoch);
    let mut x = l.rng.get();
    if x == 0 {
        x = (l as *const Local as u64) ^ now_ns() ^ 0x9E37_79B9_7F4A_7C15;
    }
    let mut left = if fresh {
        interval(&mut x, mean).saturating_sub(size.min(i64::MAX as usize) as i64)
    } else {
        left
    };
    let sampled = left <= 0;
    // Overshoot past zero counts toward the next interval, as in jemalloc.
    while left <= 0 {
        left = left.saturating_add(interval(&mut x, mean));
    }
    l.rng.set(x);
    l.countdown.set(left);
    sampled
}

/// One live sampled allocation.
#[derive(Clone, Copy)]
struct LiveRec {
    stack: u32,
    tag: u16,
    thread: u32,
    size: u64,
    weight: f64,
    alloc_ns: u64,
}

struct Tables {
    stack_ids: DashMap<Box<[usize]>, u32>,
    stacks: Mutex<Vec<Box<[usize]>>>,
    live: DashMap<usize, LiveRec>,
    freed: Mutex<std::collections::VecDeque<arenaprof_snapshot::Sample>>,
}

static TABLES: OnceLock<Tables> = OnceLock::new();

fn tables() -> &'static Tables {
    TABLES.get_or_init(|| Tables {
        stack_ids: DashMap::new(),
        stacks: Mutex::new(Vec::new()),
        live: DashMap::new(),
        freed: Mutex::new(std::collections::VecDeque::new()),
    })
}

fn weight(size: u64) -> f64 {
    match MODE.load(Relaxed) {
        BYTES => {
            let mean = PARAM.load(Relaxed).max(1) as f64;
            let p = 1.0 - (-(size as f64) / mean).exp();
            if p > 0.0 {
                1.0 / p
            } else {
                1.0
            }
        }
        _ => 1.0,
    }
}

/// Records a sampled allocation at `user`. Runs with the thread busy.
#[cold]
pub(crate) fn record(l: &Local, user: *mut u8, tag: u16, thread: u32, size: usize) {
    if l.set_busy(true) {
        return;
    }
    let gate = crate::fork::enter();
    let t0 = now_ns();
    let mut ips = [0usize; MAX_DEPTH];
    let n = crate::unwind::capture(&mut ips);
    let t = tables();
    let key = &ips[..n];
    let stack = match t.stack_ids.get(key) {
        Some(id) => *id,
        None => {
            let mut stacks = t.stacks.lock().unwrap_or_else(|e| e.into_inner());
            let id = *t
                .stack_ids
                .entry(key.to_vec().into_boxed_slice())
                .or_insert_with(|| {
                    stacks.push(key.to_vec().into_boxed_slice());
                    (stacks.len() - 1) as u32
                });
            id
        }
    };
    t.live.insert(
        user as usize,
        LiveRec {
            stack,
            tag,
            thread,
            size: size as u64,
            weight: weight(size as u64),
            alloc_ns: t0,
        },
    );
    CAPTURED.fetch_add(1, Relaxed);
    CAPTURE_NS.fetch_add(now_ns().saturating_sub(t0), Relaxed);
    drop(gate);
    l.set_busy(false);
}

/// Freed samples dropped (the oldest, past [`MAX_FREED`]).
pub(crate) fn dropped_freed() -> u64 {
    DROPPED_FREED.load(Relaxed)
}

/// Moves a freed sampled allocation to the freed list; returns the tag it
/// was counted under (`None` if it was not in the table).
#[cold]
pub(crate) fn on_free(user: *mut u8) -> Option<u16> {
    with_busy(|| {
        let _gate = crate::fork::enter();
        let t = tables();
        let (_, r) = t.live.remove(&(user as usize))?;
        let mut freed = t.freed.lock().unwrap_or_else(|e| e.into_inner());
        if freed.len() >= MAX_FREED {
            freed.pop_front();
            DROPPED_FREED.fetch_add(1, Relaxed);
        }
        freed.push_back(to_sample(&r, Some(now_ns())));
        Some(r.tag)
    })
}

/// The tag a live sampled allocation at `user` is counted under.
#[cold]
#[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
pub(crate) fn tag_of(user: *mut u8) -> Option<u16> {
    with_busy(|| {
        let _gate = crate::fork::enter();
        tables().live.get(&(user as usize)).map(|r| r.tag)
    })
}

fn to_sample(r: &LiveRec, free_ns: Option<u64>) -> arenaprof_snapshot::Sample {
    arenaprof_snapshot::Sample {
        stack: r.stack,
        tag: r.tag,
        thread: r.thread,
        size: r.size,
        weight: r.weight,
        alloc_ns: r.alloc_ns,
        free_ns,
    }
}

/// What a snapshot copies from the sampling tables inside the fork gate:
/// the interned stacks as return addresses, the samples and the counters.
/// [`symbolise`] turns it into a heap profile outside the gate.
pub(crate) struct RawHeap {
    stacks: Vec<Box<[usize]>>,
    /// Samples (freed, then live), their stacks indexing `stacks`.
    pub samples: Vec<arenaprof_snapshot::Sample>,
    /// Backtraces captured and the time they took.
    pub captured: u64,
    /// Nanoseconds spent capturing.
    pub capture_ns: u64,
}

/// Copies the sampling tables (inside the fork gate: their locks).
pub(crate) fn export_raw() -> RawHeap {
    let Some(t) = TABLES.get() else {
        return RawHeap {
            stacks: Vec::new(),
            samples: Vec::new(),
            captured: 0,
            capture_ns: 0,
        };
    };
    let stacks: Vec<Box<[usize]>> = t.stacks.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut samples: Vec<arenaprof_snapshot::Sample> = t
        .freed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect();
    samples.extend(t.live.iter().map(|e| to_sample(e.value(), None)));
    RawHeap {
        stacks,
        samples,
        captured: CAPTURED.load(Relaxed),
        capture_ns: CAPTURE_NS.load(Relaxed),
    }
}

/// One snapshot symbolises at a time; true while one does. Symbolising
/// runs outside the fork gate (a `fork()` does not wait for it), with
/// `backtrace::resolve_unsynchronized` under this flag instead of the
/// `backtrace` crate's global lock, so a fork in the middle leaves no lock
/// held in the child; it may leave the crate's symbol cache half-updated
/// there, so a child forked meanwhile never symbolises ([`after_fork_child`]).
static SYMBOLISING: AtomicBool = AtomicBool::new(false);
/// Symbolise every sampled address in the program (`ARENAPROF_SYMBOLS=program`,
/// or a test), not only those of objects missing from disk.
static IN_PROGRAM: AtomicBool = AtomicBool::new(false);

/// Whether snapshots symbolise every address in the program.
pub(crate) fn symbols_in_program() -> bool {
    IN_PROGRAM.load(Relaxed)
}

/// Symbolise every address in the program (`true`), or leave the addresses
/// of objects on disk to the report tool (`false`, the default).
pub(crate) fn set_symbols_in_program(on: bool) {
    IN_PROGRAM.store(on, Relaxed);
}

/// Set in a child forked while its parent was symbolising.
static NO_SYMBOLS: AtomicBool = AtomicBool::new(false);
/// Test hook: called while symbolising, with the flag held.
static SYMBOLISE_HOOK: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// `pthread_atfork` child handler, registered before the first symbolising.
extern "C" fn after_fork_child() {
    if SYMBOLISING.swap(false, SeqCst) {
        NO_SYMBOLS.store(true, SeqCst);
    }
}

/// Sets a function that symbolising calls once per snapshot (tests: a fork
/// while a snapshot symbolises).
pub(crate) fn set_symbolise_hook(f: Option<fn()>) {
    SYMBOLISE_HOOK.store(f.map_or(std::ptr::null_mut(), |f| f as *mut ()), SeqCst);
}

/// Symbolises `raw`'s stacks: the heap profile and the return address each
/// of its frames was resolved from. Outside the fork gate.
///
/// Only the addresses `in_program` picks are symbolised here (the rest stay
/// return addresses, named [`arenaprof_snapshot::address_name`], for the
/// report tool); with none picked, no debug information is parsed.
/// `resolved` is false in a child forked while its parent was symbolising
/// (frames are then bare addresses).
pub(crate) fn symbolise(
    raw: RawHeap,
    in_program: &dyn Fn(usize) -> bool,
) -> (arenaprof_snapshot::HeapProfile, Vec<u64>, bool) {
    let mut heap = arenaprof_snapshot::HeapProfile {
        samples: raw.samples,
        ..Default::default()
    };
    static HANDLER: std::sync::Once = std::sync::Once::new();
    // SAFETY: a child handler that only swaps and stores atomics.
    HANDLER.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_child));
    });
    while SYMBOLISING
        .compare_exchange_weak(false, true, SeqCst, Relaxed)
        .is_err()
    {
        std::thread::yield_now();
    }
    let resolve = !NO_SYMBOLS.load(SeqCst);
    let hook = SYMBOLISE_HOOK.load(SeqCst);
    if !hook.is_null() {
        // SAFETY: only `set_symbolise_hook` stores here, from a `fn()`.
        unsafe { std::mem::transmute::<*mut (), fn()>(hook)() };
    }
    let mut frame_ids: HashMap<arenaprof_snapshot::Frame, u32> = HashMap::new();
    let mut addresses: Vec<u64> = Vec::new();
    let mut ip_frames: HashMap<usize, Vec<u32>> = HashMap::new();
    let mut intern = |f: arenaprof_snapshot::Frame, ip: usize, out: &mut Vec<u32>| {
        let n = frame_ids.len() as u32;
        let id = *frame_ids.entry(f).or_insert(n);
        if id == n {
            addresses.push(ip as u64);
        }
        out.push(id);
    };
    for s in &raw.stacks {
        let mut frames = Vec::new();
        for &ip in s.iter() {
            let resolved = ip_frames.entry(ip).or_insert_with(|| {
                let mut out = Vec::new();
                if resolve && in_program(ip) {
                    // SAFETY: `resolve_unsynchronized` requires that no
                    // other thread resolves at the same time: every caller
                    // in this crate holds SYMBOLISING.
                    unsafe {
                        backtrace::resolve_unsynchronized(ip as *mut std::ffi::c_void, |sym| {
                            let function = sym
                                .name()
                                .map(|n| format!("{n:#}"))
                                .unwrap_or_else(|| format!("{ip:#x}"));
                            let f = arenaprof_snapshot::Frame {
                                function,
                                file: sym
                                    .filename()
                                    .map(|p| p.display().to_string())
                                    .unwrap_or_default(),
                                line: sym.lineno().unwrap_or(0),
                            };
                            intern(f, ip, &mut out);
                        })
                    };
                }
                if out.is_empty() {
                    let f = arenaprof_snapshot::Frame {
                        function: arenaprof_snapshot::address_name(ip as u64),
                        ..Default::default()
                    };
                    intern(f, ip, &mut out);
                }
                out
            });
            frames.extend(resolved.iter().copied());
        }
        heap.stacks.push(arenaprof_snapshot::Stack { frames });
    }
    if resolve {
        // The symbol cache (parsed debug info) can be tens of MiB: let it go.
        backtrace::clear_symbol_cache();
    }
    SYMBOLISING.store(false, SeqCst);
    let mut by_id: Vec<(u32, arenaprof_snapshot::Frame)> =
        frame_ids.into_iter().map(|(f, i)| (i, f)).collect();
    by_id.sort_by_key(|(i, _)| *i);
    heap.frames = by_id.into_iter().map(|(_, f)| f).collect();
    // Drop allocator frames from the top of each stack.
    for s in &mut heap.stacks {
        let skip = s
            .frames
            .iter()
            .take_while(|&&f| {
                arenaprof_snapshot::is_allocator_frame(&heap.frames[f as usize].function)
            })
            .count();
        if skip < s.frames.len() {
            s.frames.drain(..skip);
        }
    }
    (heap, addresses, resolve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::LOCAL;

    /// The first allocation of a fresh sampler is sampled with probability
    /// `1 - exp(-size/mean)`: over 4,000 fresh states (distinct seeds) per
    /// size, the frequency lies within 3 standard errors of it.
    #[test]
    fn first_allocation_of_a_fresh_sampler_is_unbiased() {
        let mean = 1000.0;
        for size in [100usize, 700, 3000] {
            let p = 1.0 - (-(size as f64) / mean).exp();
            let n = 4000u64;
            let hits = LOCAL.with(|l| {
                (0..n)
                    .filter(|&i| {
                        // splitmix64 of the trial number: a fresh, distinct state.
                        let mut z = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                        l.rng.set(z ^ (z >> 31) | 1);
                        // An epoch this state has not drawn for: fresh.
                        l.epoch.set(0);
                        draw(l, 1, l.countdown.get(), size, mean)
                    })
                    .count() as f64
            });
            let freq = hits / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (freq - p).abs() <= 3.0 * se,
                "size {size}: sampled {freq:.4} of first allocations, expected {p:.4} +- {:.4}",
                3.0 * se
            );
        }
    }
}
