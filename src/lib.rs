//! arenaprof: where a numeric program's memory goes, and why it stays.
pub use arenaprof_alloc::*;
