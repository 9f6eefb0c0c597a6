//! Phase 2: a small view, derived through a chain of views, pins a large
//! array after its owner is dropped (NumPy: `s = np.arange(N)[...]; del arr`).

use super::measure::{mib, rss_purged};
use arenaprof::array::{registry, s, Array};
use arenaprof::{stats, timeline, Tag};

/// The state between pinning and fixing.
pub struct Pinned {
    corner: Array<f64>,
    arena_bytes: u64,
    rss_before: u64,
    rss_pinned: u64,
}

/// What the fix measured.
pub struct Fixed {
    /// Capacity of the pinned arena.
    pub arena_bytes: u64,
    /// Bytes the pinning view can reach.
    pub view_bytes: u64,
    /// Where the pinning view was made.
    pub site: String,
    /// Drop of `array-base` live bytes after `to_owned()` (tracker).
    pub array_base_drop: u64,
    /// Drop of RSS after `to_owned()` and a purge.
    pub rss_drop: u64,
    /// The owned copy.
    pub owned: Array<f64>,
}

/// Builds the array, derives the view chain, drops the owner; prints what the
/// registry says.
pub fn pin(quick: bool) -> Result<Pinned, String> {
    let n = if quick { 10_000_000 } else { 100_000_000 };
    let rss_before = rss_purged();
    timeline::mark("views: arange");
    let a = Array::<f64>::arange(n);
    let grid = a.reshape(&[n / 1000, 1000]); // view: 100,000 x 1000
    let cols = grid.t(); // view: 1000 x 100,000
    let corner = cols.slice(s![..4, ..8]); // view: 4 x 8, 256 bytes reachable
    drop((a, grid, cols));
    let rss_pinned = rss_purged();
    let id = corner.arena_id().ok_or("the view should pin an arena")?;
    let info = registry::arena(id).ok_or("the arena should be registered")?;
    say!(
        "  arange({n}) f64, then reshape, t() and slice[..4, ..8]; owner and intermediate views dropped"
    );
    say!(
        "  registry: arena #{} capacity {}, reachable by live views {} B, wasted {}; owner alive: {}",
        info.id,
        mib(info.capacity_bytes),
        info.reachable_bytes,
        mib(info.wasted_bytes),
        info.owner_alive
    );
    for r in &info.retainers {
        say!("  retained by: {r}");
    }
    say!(
        "  {} live {} ; RSS {}",
        Tag::ARRAY_BASE,
        mib(stats().tag(Tag::ARRAY_BASE).live_bytes),
        mib(rss_pinned)
    );
    Ok(Pinned {
        arena_bytes: info.capacity_bytes,
        corner,
        rss_before,
        rss_pinned,
    })
}

/// The fix: `to_owned()` copies the 32 elements into a fresh arena, so the
/// old one is freed with the view.
pub fn fix(p: Pinned) -> Result<Fixed, String> {
    let base_before = stats().tag(Tag::ARRAY_BASE).live_bytes;
    let view_bytes = (p.corner.len() * std::mem::size_of::<f64>()) as u64;
    let site = registry::arena(p.corner.arena_id().unwrap_or_default())
        .and_then(|i| i.retainers.first().map(|r| r.view.site.to_string()))
        .unwrap_or_default();
    timeline::mark("views: to_owned()");
    let owned = p.corner.to_owned();
    drop(p.corner);
    let base_after = stats().tag(Tag::ARRAY_BASE).live_bytes;
    let rss_after = rss_purged();
    if registry::arenas()
        .iter()
        .any(|a| a.capacity_bytes == p.arena_bytes)
    {
        return Err("the pinned arena is still registered after the fix".into());
    }
    say!(
        "  fix: to_owned() -> {} live {} -> {}; RSS {} -> {} (was {} before the array existed); purged with jemalloc arena.<all>.purge",
        Tag::ARRAY_BASE,
        mib(base_before),
        mib(base_after),
        mib(p.rss_pinned),
        mib(rss_after),
        mib(p.rss_before),
    );
    Ok(Fixed {
        arena_bytes: p.arena_bytes,
        view_bytes,
        site,
        array_base_drop: base_before.saturating_sub(base_after),
        rss_drop: p.rss_pinned.saturating_sub(rss_after),
        owned,
    })
}
