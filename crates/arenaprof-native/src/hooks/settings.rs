//! What [`install_with`](super::install_with) and
//! [`uninstall`](super::uninstall) set and the interposer reads: the
//! [`Options`], the exclusion list in force, and whether calls are recorded.

use std::sync::atomic::{AtomicBool, AtomicPtr};

use super::table::{RLX, SEQ};

/// [`uninstall`](super::uninstall) was called (and
/// [`install`](super::install) not since): the interposer passes calls
/// through unrecorded too. Before the first [`install`](super::install) it
/// records, so that a linked library's constructor is seen.
pub(super) static UNINSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether the interposer records calls now.
pub(crate) fn recording() -> bool {
    !UNINSTALLED.load(RLX)
}

/// The exclusion list in force: null until
/// [`install_with`](super::install_with) sets one (a leaked box per new
/// list, so a reader never pairs one list's pointer with another's length).
pub(super) static EXCLUDE: AtomicPtr<&'static [&'static str]> =
    AtomicPtr::new(std::ptr::null_mut());

/// Settings for [`install_with`](super::install_with).
///
/// ```
/// let opts = arenaprof_native::hooks::Options::default();
/// assert!(opts.exclude.iter().any(|s| s.contains("jemalloc")));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Objects whose path contains one of these strings are not hooked
    /// (the allocator, when it is a shared library). The main executable
    /// is never hooked for `mmap`.
    pub exclude: &'static [&'static str],
    /// Patch the main executable's `dlopen`/`dlclose` so objects it loads
    /// later are patched at once (default: yes).
    pub hook_dlopen: bool,
}

/// The default exclusions: shared-library builds of common allocators.
pub const DEFAULT_EXCLUDE: &[&str] = &["libjemalloc", "libtcmalloc", "libmimalloc", "libarenaprof"];

impl Default for Options {
    fn default() -> Self {
        Options {
            exclude: DEFAULT_EXCLUDE,
            hook_dlopen: true,
        }
    }
}

pub(super) fn excluded_list_is(list: &'static [&'static str]) -> bool {
    // SAFETY: EXCLUDE is null or a leaked box, never freed.
    unsafe { EXCLUDE.load(SEQ).as_ref() }.is_some_and(|l| std::ptr::eq(*l, list))
}

/// Whether objects named `name` are never attributed (the allocator, if it
/// is a shared library): [`Options::exclude`], or [`DEFAULT_EXCLUDE`] before
/// [`install_with`](super::install_with) set one.
pub(crate) fn excluded(name: &[u8]) -> bool {
    let p = EXCLUDE.load(SEQ);
    // SAFETY: EXCLUDE is null or a leaked box, never freed.
    let list: &[&str] = unsafe { p.as_ref() }.copied().unwrap_or(DEFAULT_EXCLUDE);
    list.iter()
        .any(|s| !s.is_empty() && name.windows(s.len()).any(|w| w == s.as_bytes()))
}
