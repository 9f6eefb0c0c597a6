//! arenaprof: where a numeric program's memory goes, and why it stays.
//!
//! This facade re-exports the tracking allocator ([`TrackingAlloc`], [`Tag`],
//! [`stats()`], [`snapshot()`], [`Profiler`]), the arrays ([`array`](mod@array))
//! and the GEMM pool ([`gemm`]).
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();
//!
//! fn main() {
//!     let _p = arenaprof::Profiler::from_env();
//!     let _g = arenaprof::Tag::new("decoder-cache").enter();
//!     let v = vec![0u8; 1 << 20];
//!     println!("{} bytes live", arenaprof::stats().total().live_bytes);
//!     drop(v);
//! }
//! ```

pub use arenaprof_alloc::*;
pub use arenaprof_array as array;
pub use arenaprof_gemm as gemm;
