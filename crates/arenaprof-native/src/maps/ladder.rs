//! The memory ladder: from the allocator's tracked bytes up to RSS, rung by
//! rung, from the grouped mappings.

use super::grouping::{Group, Grouped};

/// One rung of the memory ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    /// Short stable name (`tracked`, `allocator_beyond_tracked`,
    /// `native_mapped`, `c_heap`, `other_anonymous`, `thread_stacks`,
    /// `code_and_data`, `other_files`, `profiler_tables`, `kernel`).
    pub key: &'static str,
    /// What it is.
    pub name: String,
    /// Resident bytes.
    pub bytes: u64,
}

/// From the allocator's tracked bytes up to RSS. Every rung is a resident
/// measurement (or a difference of two, clamped at zero by construction)
/// and the rungs sum to `rss` exactly.
///
/// ```
/// use arenaprof_native::maps::{ladder, parse_smaps, group, Known};
/// let s = parse_smaps("1000-5000 rw-p 0 00:00 0\nRss: 16 kB\n7000-8000 rw-p 0 00:00 0\nRss: 4 kB\n[heap]\n");
/// let k = Known { allocator: &[0x1000..0x5000], ..Default::default() };
/// let l = ladder(&group(&s, &k), 10_000, None);
/// assert_eq!(l.rungs.iter().map(|r| r.bytes).sum::<u64>(), l.rss);
/// assert_eq!(l.rungs[0].bytes, 10_000);
/// assert_eq!(l.rungs[1].bytes, 16 * 1024 - 10_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ladder {
    /// Rungs, bottom (tracked) first.
    pub rungs: Vec<Rung>,
    /// Total resident bytes (sum of `Rss` over mappings).
    pub rss: u64,
    /// Tracked bytes the caller passed.
    pub tracked: u64,
    /// Tracked bytes that are not resident (allocated but never touched, or
    /// swapped): outside the ladder.
    pub tracked_not_resident: u64,
    /// Where the allocator's resident figure came from.
    pub allocator_source: &'static str,
}

/// Builds the ladder. `allocator_resident`: the allocator's own resident
/// figure (e.g. jemalloc's `stats.resident`), used when no allocator ranges
/// were grouped: it is carved out of "other anonymous" (at most all of it).
pub fn ladder(g: &Grouped, tracked: u64, allocator_resident: Option<u64>) -> Ladder {
    let mut other_anon = g.get(&Group::OtherAnon).resident_bytes;
    let ranged = g.get(&Group::Allocator);
    let (alloc_rss, source) = if ranged.virtual_bytes > 0 {
        (ranged.resident_bytes, "allocator ranges in smaps")
    } else if let Some(h) = allocator_resident {
        let a = h.min(other_anon);
        other_anon -= a;
        (
            a,
            "allocator's resident figure, carved from anonymous memory",
        )
    } else {
        let a = tracked.min(other_anon);
        other_anon -= a;
        (
            a,
            "assumed: tracked bytes within unattributed anonymous memory",
        )
    };
    let t = tracked.min(alloc_rss);
    let native = g.sum(|k| matches!(k, Group::NativeAnon(_))).resident_bytes;
    let files = g
        .sum(|k| matches!(k, Group::Binary | Group::Library(_)))
        .resident_bytes;
    let rungs = vec![
        Rung {
            key: "tracked",
            name: "tracked (live allocations)".into(),
            bytes: t,
        },
        Rung {
            key: "allocator_beyond_tracked",
            name: "allocator beyond tracked (headers, fragmentation, caches)".into(),
            bytes: alloc_rss - t,
        },
        Rung {
            key: "native_mapped",
            name: "native libraries' mappings (attributed)".into(),
            bytes: native,
        },
        Rung {
            key: "c_heap",
            name: "[heap] (brk: C malloc)".into(),
            bytes: g.get(&Group::Heap).resident_bytes,
        },
        Rung {
            key: "other_anonymous",
            name: "other anonymous".into(),
            bytes: other_anon,
        },
        Rung {
            key: "thread_stacks",
            name: "thread stacks".into(),
            bytes: g.get(&Group::ThreadStacks).resident_bytes,
        },
        Rung {
            key: "code_and_data",
            name: "binary and shared libraries (code, data)".into(),
            bytes: files,
        },
        Rung {
            key: "other_files",
            name: "other mapped files".into(),
            bytes: g.get(&Group::OtherFile).resident_bytes,
        },
        Rung {
            key: "profiler_tables",
            name: "profiler tables".into(),
            bytes: g.get(&Group::Profiler).resident_bytes,
        },
        Rung {
            key: "kernel",
            name: "kernel ([vdso], [vvar])".into(),
            bytes: g.get(&Group::Kernel).resident_bytes,
        },
    ];
    Ladder {
        rss: g.total.resident_bytes,
        tracked,
        tracked_not_resident: tracked - t,
        rungs,
        allocator_source: source,
    }
}
