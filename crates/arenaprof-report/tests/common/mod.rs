//! What the report crate's tests share: the stack passes and the pprof
//! renderer without a budget (the fixtures are trusted).

use arenaprof_report::passes::stacks;
use arenaprof_report::render::pprof;
use arenaprof_report::{ArenaRow, Budget, Folded, Kind};
use arenaprof_snapshot::Snapshot;

/// The pprof profile of `s`, its stacks trimmed.
pub fn profile(s: &Snapshot) -> pprof::Profile {
    let trimmed = stacks::trim(s, &mut Budget::unlimited()).unwrap();
    pprof::render(s, &trimmed, Default::default()).unwrap()
}

/// The folded stacks of `kind` (the arenas for `Kind::Leaks`).
pub fn fold(s: &Snapshot, arenas: Option<&[ArenaRow]>, kind: Kind) -> Folded {
    stacks::fold(s, arenas, kind, &mut Budget::unlimited()).unwrap()
}
