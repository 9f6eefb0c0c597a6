//! Process memory by mapping: `/proc/self/smaps`, `smaps_rollup`, `maps`
//! and `statm` parsed into typed structs, grouped by what owns each mapping,
//! and the memory ladder from the allocator's tracked bytes up to RSS.
//!
//! Costs (measured, see `docs/native.md`): [`read_statm`] is one small read
//! and allocates nothing (for a timeline sampler); [`read_smaps`] makes the
//! kernel walk the page tables of every mapping, so it costs more the more
//! is resident; [`read_smaps_rollup`] costs the same walk with a tiny
//! output.
//!
//! Parsing never panics: lines that do not parse are counted in
//! [`Smaps::skipped_lines`] and skipped; at most [`MAX_VMAS`] mappings are
//! kept ([`Smaps::truncated`] says so).
//!
//! ```
//! use arenaprof_native::maps::{self, Group, Known};
//! let text = "\
//! 7f0000000000-7f0000200000 rw-p 00000000 00:00 0 \n\
//! Size:               2048 kB\n\
//! Rss:                 512 kB\n\
//! Anonymous:           512 kB\n\
//! VmFlags: rd wr mr mw me ac \n";
//! let smaps = maps::parse_smaps(text);
//! let g = maps::group(&smaps, &Known::default());
//! assert_eq!(g.get(&Group::OtherAnon).resident_bytes, 512 << 10);
//! assert_eq!(g.total.commit_bytes, 2 << 20);
//! ```
//!
//! # Files
//!
//! Each uses only the ones listed before it:
//!
//! - `proc`: the `/proc` readers and parsers, [`resident_bytes`]
//!   (`mincore`), [`thread_stack_pointers`].
//! - `grouping`: [`Group`], [`Known`], [`group`].
//! - `ladder`: [`Rung`], [`Ladder`], [`ladder()`].

mod grouping;
mod ladder;
mod proc;

pub use grouping::{group, Group, Grouped, Known, Split, Usage};
pub use ladder::{ladder, Ladder, Rung};
pub use proc::{
    parse_smaps, parse_smaps_rollup, parse_statm, read_maps, read_smaps, read_smaps_rollup,
    read_statm, resident_bytes, thread_stack_pointers, Perms, Rollup, Smaps, Statm, Vma, VmaName,
    MAX_VMAS,
};
