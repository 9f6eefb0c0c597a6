//! n-dimensional arrays whose views share and pin an *arena* (their base
//! buffer), like NumPy's `view.base`, and remember how they were made.
//!
//! The problem this makes visible: `s = np.arange(100_000_000)[:10]; del arr`
//! keeps 800 MB alive through an 80-byte view until `s = s.copy()`, and
//! NumPy cannot say which view, made where, is responsible. Here every
//! arena and every view is registered with its operation and its
//! file:line:col (from `#[track_caller]`), the chain of views survives even
//! when intermediate views are dropped, and the registry reports, per arena,
//! the capacity, the bytes live views can reach, the wasted rest, and each
//! retainer with its chain and the fix.
//!
//! ```
//! use arenaprof_array::{registry, s, Array};
//! let a = Array::<f64>::arange(100_000);
//! let v = a.slice(s![..10]);          // a view: shares and pins a's arena
//! drop(a);
//! let info = registry::arena(v.arena_id().unwrap()).unwrap();
//! assert_eq!((info.capacity_bytes, info.reachable_bytes), (800_000, 80));
//! assert_eq!(info.wasted_bytes, 799_920);
//! println!("{}", info.retainers[0]); // arena <- arange@src/..:3:9 <- slice[..10]@src/..:4:9
//! let o = v.to_owned();               // a copy in a fresh arena...
//! drop(v);                            // ...so dropping the view frees the old one
//! assert!(registry::arena(info.id).is_none());
//! # drop(o);
//! ```
//!
//! # Public API
//!
//! | item | what it is |
//! |---|---|
//! | [`Array`] | the handle: constructors, views, copies, copy-on-write writes, arithmetic, `matmul` (a shared handle like ndarray's `ArcArray`) |
//! | [`Element`], [`Numeric`], [`Gemm`] | element types: all, arithmetic, matmul (f32/f64) |
//! | [`ArrayError`] | why an operation failed (`try_*` methods) |
//! | [`broadcast_shape`] | NumPy's broadcasting rule |
//! | [`s!`], [`NewAxis`], [`SliceInfoElem`] | ndarray's slicing, re-exported |
//! | [`registry`] | reading the records: arenas, retainers and their chains, statistics |
//! | [`warn`] | the `ARENAPROF_WARN_PINNED` warning |
//!
//! Private modules: `array` (the handle, constructors, accessors),
//! `view_ops` (views), `copy_ops` (copies), `cow` (copy-on-write writes),
//! `arith` (broadcasting arithmetic, sums, means), `linalg` (matmul),
//! `store` (the records, below `registry`), `site` (creation sites),
//! `spin` (the shard lock), `dims`, `element`, `op`, `error`.
//!
//! Arena buffers are allocated under [`arenaprof_alloc::Tag::ARRAY_BASE`]
//! with exactly `len * size_of::<T>()` bytes, so that tag counts arena bytes
//! and nothing else; registry bookkeeping runs under
//! [`arenaprof_alloc::untracked`] and counts as profiler overhead.

mod arith;
mod array;
mod copy_ops;
mod cow;
mod dims;
mod element;
mod error;
mod linalg;
mod op;
pub mod registry;
mod site;
mod spin;
mod store;
mod sync;
mod view_ops;
pub mod warn;
mod worst;

pub use arith::broadcast_shape;
pub use array::Array;
pub use element::{Element, Numeric};
pub use error::ArrayError;
pub use linalg::Gemm;
pub use ndarray::{s, NewAxis, SliceInfoElem};
