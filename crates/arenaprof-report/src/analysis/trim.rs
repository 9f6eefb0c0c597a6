//! Which frames of a sampled stack a person reads: the standard library's,
//! the allocator's and the profiler's own frames are trimmed from the leaf
//! (what allocates on the user's behalf), and the runtime's start-up frames
//! (`_start`, `__libc_start_main`, `main`, `std::rt::lang_start`, the thread
//! trampolines) from the root. One rule for the site tables, flame graphs,
//! folded stacks and pprof profiles.
//!
//! ```
//! use arenaprof_report::passes::trim::Trimmer;
//! use arenaprof_snapshot::Frame;
//! let f = |n: &str| Frame { function: n.into(), ..Default::default() };
//! let frames = vec![
//!     f("alloc::raw_vec::RawVecInner<A>::finish_grow"),
//!     f("my_app::load"),
//!     f("my_app::main"),
//!     f("std::rt::lang_start"),
//!     f("main"),
//! ];
//! // Innermost first, as stacks are stored.
//! assert_eq!(Trimmer::new(&frames).trim(&[0, 1, 2, 3, 4]), vec![1, 2]);
//! ```

use arenaprof_snapshot::Frame;

const SKIP_PREFIXES: [&str; 12] = [
    "alloc::",
    "core::",
    "std::",
    "hashbrown::",
    "arenaprof_alloc::",
    "arenaprof_array::",
    "tikv_jemalloc",
    "backtrace::",
    "__rust",
    "__rdl",
    "__rg",
    "_rjem",
];

/// The C runtime's and the thread library's outermost frames.
const ROOT_NAMES: [&str; 4] = ["_start", "main", "clone", "clone3"];
/// Prefixes of the same (`__libc_start_main_impl`, `__clone3`, ...).
const ROOT_PREFIXES: [&str; 3] = ["__libc_start", "__clone", "start_thread"];

/// Whether `f` belongs to the standard library, the allocator or the profiler.
pub fn is_plumbing(f: &Frame) -> bool {
    let name = f.function.trim_start_matches(['<', '&']);
    let name = name.strip_prefix("mut ").unwrap_or(name);
    // `<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem` and the like.
    let trait_path = f
        .function
        .split_once(" as ")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let generic_self = name
        .split_once(" as ")
        .is_some_and(|(ty, _)| !ty.contains("::"));
    SKIP_PREFIXES.iter().any(|p| name.starts_with(p))
        || (generic_self && SKIP_PREFIXES.iter().any(|p| trait_path.starts_with(p)))
        || f.file.starts_with("/rustc/")
        || f.file.contains("/library/alloc/")
        || f.file.contains("/library/core/")
        || f.file.contains("/library/std/")
}

/// Whether `f` is a start-up frame of the runtime: plumbing, or one of the C
/// runtime's and thread library's entry points.
pub(crate) fn is_runtime_root(f: &Frame) -> bool {
    ROOT_NAMES.contains(&f.function.as_str())
        || ROOT_PREFIXES.iter().any(|p| f.function.starts_with(p))
        || is_plumbing(f)
}

/// Trims stacks, classifying each frame once however many stacks share it.
#[derive(Debug)]
pub struct Trimmer<'f> {
    frames: &'f [Frame],
    /// Per frame: (plumbing, runtime root), computed on first use.
    class: Vec<Option<(bool, bool)>>,
}

impl<'f> Trimmer<'f> {
    /// A trimmer for stacks indexing `frames`.
    pub fn new(frames: &'f [Frame]) -> Self {
        Trimmer {
            frames,
            class: vec![None; frames.len()],
        }
    }

    fn class(&mut self, i: usize) -> (bool, bool) {
        let f = &self.frames[i];
        *self.class[i].get_or_insert_with(|| (is_plumbing(f), is_runtime_root(f)))
    }

    /// The frames of `stack` (innermost first, as stored) a person reads:
    /// invalid indices dropped, then plumbing dropped from the leaf and
    /// runtime frames from the root. The innermost frame that is not
    /// plumbing (the site) is always kept; a stack of nothing but plumbing
    /// keeps its innermost frame.
    pub fn trim(&mut self, stack: &[u32]) -> Vec<u32> {
        let span = self.span(stack);
        let n = self.frames.len();
        stack[span]
            .iter()
            .copied()
            .filter(|&f| (f as usize) < n)
            .collect()
    }

    /// The part of `stack` that [`Trimmer::trim`] keeps (whose invalid
    /// indices it then drops), found without copying the stack.
    pub fn span(&mut self, stack: &[u32]) -> std::ops::Range<usize> {
        let n = self.frames.len();
        let mut first_valid = None;
        let mut start = None;
        for (k, &f) in stack.iter().enumerate() {
            if (f as usize) >= n {
                continue;
            }
            first_valid.get_or_insert(k);
            if !self.class(f as usize).0 {
                start = Some(k);
                break;
            }
        }
        let Some(start) = start.or(first_valid) else {
            return 0..0;
        };
        let mut end = stack.len();
        while end > start + 1 {
            let f = stack[end - 1] as usize;
            if f >= n || self.class(f).1 {
                end -= 1;
            } else {
                break;
            }
        }
        start..end
    }

    /// The site of `stack`: its innermost frame that is not plumbing, else
    /// its innermost valid frame (the first frame [`Trimmer::trim`] keeps).
    pub fn site(&mut self, stack: &[u32]) -> Option<u32> {
        let span = self.span(stack);
        stack.get(span.start).copied().filter(|_| !span.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr(function: &str, file: &str) -> Frame {
        Frame {
            function: function.into(),
            file: file.into(),
            line: 1,
        }
    }

    #[test]
    fn plumbing_is_recognised() {
        assert!(is_plumbing(&fr("alloc::raw_vec::RawVec<T>::allocate", "")));
        assert!(is_plumbing(&fr(
            "<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
            ""
        )));
        assert!(is_plumbing(&fr("arenaprof_alloc::sampling::record", "")));
        assert!(is_plumbing(&fr(
            "foo",
            "/rustc/abc/library/alloc/src/vec.rs"
        )));
        assert!(!is_plumbing(&fr("my_app::main", "src/main.rs")));
        assert!(!is_plumbing(&fr(
            "<my_app::Cache as core::default::Default>::default",
            "src/cache.rs"
        )));
    }

    #[test]
    fn trimming_keeps_the_site_and_what_calls_it() {
        let frames = vec![
            fr("__rust_alloc", ""),
            fr("my_app::main", "src/main.rs"),
            fr("core::ops::function::FnOnce::call_once", ""),
            fr("my_app::main::{{closure}}", "src/main.rs"),
            fr("std::rt::lang_start_internal", ""),
            fr("main", ""),
            fr("__libc_start_main_impl", ""),
        ];
        let mut t = Trimmer::new(&frames);
        // Plumbing between user frames stays; dangling indices go.
        assert_eq!(t.trim(&[0, 3, 2, 1, 99, 4, 5, 6]), vec![3, 2, 1]);
        assert_eq!(t.site(&[0, 3, 2, 1]), Some(3));
        // Nothing but plumbing: the innermost frame stays.
        assert_eq!(t.trim(&[0, 2, 4]), vec![0]);
        assert_eq!(t.site(&[0, 2, 4]), Some(0));
        // The site is kept even when it is a runtime name.
        assert_eq!(t.trim(&[0, 5, 6]), vec![5]);
        assert_eq!(t.trim(&[99]), Vec::<u32>::new());
    }
}
