//! Tags: what an allocation is for. The current tag is per thread, set by
//! scope guards that nest.

use crate::local;
use std::marker::PhantomData;
use std::sync::Mutex;

/// Most distinct tags a process can have; later names share [`Tag::OVERFLOW`].
pub const MAX_TAGS: usize = 64;

/// A label that allocations are counted under.
///
/// ```
/// use arenaprof_alloc::Tag;
/// let t = Tag::new("decoder-cache");
/// assert_eq!(t.name(), "decoder-cache");
/// assert_eq!(Tag::new("decoder-cache"), t); // names are interned
/// assert_eq!(Tag::GEMM_WORKSPACE.name(), "gemm-workspace");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(u16);

const BUILTIN: [&str; 3] = ["untagged", "array-base", "gemm-workspace"];
const OVERFLOW_NAME: &str = "other-tags";

static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

impl Tag {
    /// Allocations made outside any tag scope.
    pub const UNTAGGED: Tag = Tag(0);
    /// Base buffers (arenas) of arrays.
    pub const ARRAY_BASE: Tag = Tag(1);
    /// GEMM packing workspaces.
    pub const GEMM_WORKSPACE: Tag = Tag(2);
    /// Shared by every user tag past the first `MAX_TAGS - 4`.
    pub const OVERFLOW: Tag = Tag(MAX_TAGS as u16 - 1);

    /// Returns the tag with this name, registering it on first use.
    pub fn new(name: &str) -> Tag {
        if let Some(i) = BUILTIN.iter().position(|b| *b == name) {
            return Tag(i as u16);
        }
        local::with_busy(|| {
            let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = names.iter().position(|n| *n == name) {
                return Tag((BUILTIN.len() + i) as u16);
            }
            let id = BUILTIN.len() + names.len();
            if id >= Tag::OVERFLOW.0 as usize {
                return Tag::OVERFLOW;
            }
            names.push(Box::leak(name.to_owned().into_boxed_str()));
            Tag(id as u16)
        })
    }

    /// The tag's numeric id (stable within a run).
    pub const fn id(self) -> u16 {
        self.0
    }

    /// The tag with this id, if it exists.
    pub fn from_id(id: u16) -> Option<Tag> {
        ((id as usize) < count() || id == Tag::OVERFLOW.0).then_some(Tag(id))
    }

    /// The tag's name.
    pub fn name(self) -> &'static str {
        let i = self.0 as usize;
        if i < BUILTIN.len() {
            return BUILTIN[i];
        }
        if self == Tag::OVERFLOW {
            return OVERFLOW_NAME;
        }
        let names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        names
            .get(i - BUILTIN.len())
            .copied()
            .unwrap_or(OVERFLOW_NAME)
    }

    /// Makes this the current tag of this thread until the guard drops.
    ///
    /// ```
    /// use arenaprof_alloc::{current_tag, Tag};
    /// {
    ///     let _g = Tag::GEMM_WORKSPACE.enter();
    ///     assert_eq!(current_tag(), Tag::GEMM_WORKSPACE);
    /// }
    /// assert_eq!(current_tag(), Tag::UNTAGGED);
    /// ```
    #[must_use = "the tag is current only while the guard lives"]
    pub fn enter(self) -> TagGuard {
        let prev = local::swap_tag(self.0);
        TagGuard {
            prev,
            _not_send: PhantomData,
        }
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Number of tags registered so far (built-ins included).
pub fn count() -> usize {
    BUILTIN.len() + NAMES.lock().map(|n| n.len()).unwrap_or(0)
}

/// Restores the previous tag when dropped. Not `Send`: tags are per thread.
#[must_use = "the tag is current only while the guard lives"]
pub struct TagGuard {
    prev: u16,
    _not_send: PhantomData<*const ()>,
}

impl Drop for TagGuard {
    fn drop(&mut self) {
        local::swap_tag(self.prev);
    }
}

/// Runs `f` with `tag` current on this thread.
///
/// ```
/// let t = arenaprof_alloc::Tag::new("scratch");
/// let n = arenaprof_alloc::with_tag(t, || arenaprof_alloc::current_tag());
/// assert_eq!(n, t);
/// ```
pub fn with_tag<R>(tag: Tag, f: impl FnOnce() -> R) -> R {
    let _g = tag.enter();
    f()
}

/// This thread's current tag.
pub fn current_tag() -> Tag {
    Tag(local::tag())
}
