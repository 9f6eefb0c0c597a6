//! Tags: what an allocation is for. The current tag is per thread, set by
//! scope guards that nest.

use crate::capacity::MAX_TAGS;
use crate::local;
use std::marker::PhantomData;
use std::sync::Mutex;

/// Why [`Tag::try_new`] gave no tag of its own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// Every tag id is taken; the name would share `other-tags`.
    #[error("tag {name:?}: all {max} tags are taken; it would share `other-tags`", max = MAX_TAGS - 1)]
    Limit {
        /// The name asked for.
        name: String,
    },
    /// The name is the overflow row's own.
    #[error("tag name {0:?} is reserved for the tags past the limit")]
    Reserved(String),
}

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
    ///
    /// Past [`MAX_TAGS`](crate::capacity::MAX_TAGS) names, a new name gets
    /// [`Tag::OVERFLOW`] (`other-tags`), shared with every later one; this
    /// prints one line on stderr naming the call site, once per process.
    /// Use [`Tag::try_new`] to handle that case yourself.
    #[track_caller]
    pub fn new(name: &str) -> Tag {
        match Tag::try_new(name) {
            Ok(t) => t,
            Err(TagError::Reserved(_)) => Tag::OVERFLOW,
            Err(e) => {
                static WARNED: std::sync::atomic::AtomicBool =
                    std::sync::atomic::AtomicBool::new(false);
                if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    use std::io::Write;
                    let at = std::panic::Location::caller();
                    let _ = writeln!(std::io::stderr().lock(), "arenaprof: {e} (at {at})");
                }
                Tag::OVERFLOW
            }
        }
    }

    /// Returns the tag with this name, registering it on first use, or an
    /// error when every tag id is taken or the name is `other-tags`.
    ///
    /// ```
    /// use arenaprof_alloc::{Tag, TagError};
    /// assert_eq!(Tag::try_new("decoder-cache"), Ok(Tag::new("decoder-cache")));
    /// assert!(matches!(Tag::try_new("other-tags"), Err(TagError::Reserved(_))));
    /// ```
    pub fn try_new(name: &str) -> Result<Tag, TagError> {
        if let Some(i) = BUILTIN.iter().position(|b| *b == name) {
            return Ok(Tag(i as u16));
        }
        if name == OVERFLOW_NAME {
            return Err(TagError::Reserved(name.to_owned()));
        }
        local::with_busy(|| {
            let _gate = crate::fork::enter();
            let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = names.iter().position(|n| *n == name) {
                return Ok(Tag((BUILTIN.len() + i) as u16));
            }
            let id = BUILTIN.len() + names.len();
            if id >= Tag::OVERFLOW.0 as usize {
                return Err(TagError::Limit {
                    name: name.to_owned(),
                });
            }
            names.push(Box::leak(name.to_owned().into_boxed_str()));
            Ok(Tag(id as u16))
        })
    }

    /// Whether this is the shared overflow tag (`other-tags`).
    pub const fn is_overflow(self) -> bool {
        self.0 == Tag::OVERFLOW.0
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
        let _gate = crate::fork::enter();
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
    ///
    /// Guards may be dropped in any order: the current tag is always the one
    /// of the innermost guard still alive (for the first 32 nested guards of
    /// a thread; deeper ones must be dropped innermost first).
    #[must_use = "the tag is current only while the guard lives"]
    pub fn enter(self) -> TagGuard {
        let (depth, prev) = local::push_tag(self.0);
        TagGuard {
            depth,
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
pub(crate) fn count() -> usize {
    let _gate = crate::fork::enter();
    BUILTIN.len() + NAMES.lock().map(|n| n.len()).unwrap_or(0)
}

/// Restores the previous tag when dropped. Not `Send`: tags are per thread.
#[must_use = "the tag is current only while the guard lives"]
pub struct TagGuard {
    depth: u32,
    prev: u16,
    _not_send: PhantomData<*const ()>,
}

impl Drop for TagGuard {
    fn drop(&mut self) {
        local::pop_tag(self.depth, self.prev);
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
