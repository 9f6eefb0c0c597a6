//! The 8-byte header stored with every block the tracker hands out.
//!
//! ```text
//!  alignment <= 8 (a prefix):
//!  base (from the inner allocator)  user pointer
//!  [ tag u16 | flags u16 | slot u32 ][ user bytes ...               ]
//!
//!  alignment > 8 (a trailer, unaligned):
//!  base = user pointer
//!  [ user bytes ...                 ][ tag u16 | flags u16 | slot u32 ]
//! ```
//!
//! The header records the tag and the thread slot the block was allocated
//! under, so that a free on any thread decrements exactly that cell. It costs
//! 8 bytes at any alignment: an aligned block keeps the base the inner
//! allocator returned (so its alignment holds) and stores the header right
//! after its `size` bytes. Where the header is follows from the layout alone,
//! which every free and realloc is given, so it is never stored.

use std::alloc::Layout;

/// Size of the header itself.
pub(crate) const HEADER_SIZE: usize = 8;

/// The block was sampled for a backtrace: its free must update the sample table.
pub(crate) const FLAG_SAMPLED: u16 = 1;
/// The block belongs to the profiler itself (made while the tracker was busy).
pub(crate) const FLAG_INTERNAL: u16 = 2;
/// The block was served from a scoped [`Workspace`](crate::Workspace); `slot`
/// holds the workspace id.
pub(crate) const FLAG_WORKSPACE: u16 = 4;

/// The decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct Header {
    /// Tag id the block was allocated under.
    pub(crate) tag: u16,
    /// `FLAG_*` bits.
    pub(crate) flags: u16,
    /// Thread slot (or workspace id when `FLAG_WORKSPACE` is set).
    pub(crate) slot: u32,
}

/// Whether blocks of alignment `align` carry their header as a trailer.
#[inline(always)]
pub(crate) const fn is_wide(align: usize) -> bool {
    align > HEADER_SIZE
}

/// Bytes in front of the user pointer in a block of alignment `align`: 8 for
/// a prefix header, 0 for a trailer.
#[inline(always)]
pub(crate) const fn pad(align: usize) -> usize {
    if is_wide(align) {
        0
    } else {
        HEADER_SIZE
    }
}

/// The layout requested from the inner allocator for a user layout (its
/// size plus the header, at its alignment but at least 8), or `None` when it
/// would overflow.
#[inline(always)]
pub(crate) fn outer_layout(layout: Layout) -> Option<Layout> {
    let align = layout.align();
    let size = layout.size().checked_add(HEADER_SIZE)?;
    let outer_align = if is_wide(align) { align } else { HEADER_SIZE };
    // Same rule as `Layout::from_size_align`, without its popcount: the
    // rounded-up size must not exceed isize::MAX.
    if size > isize::MAX as usize - (outer_align - 1) {
        return None;
    }
    // SAFETY: `outer_align` is `layout.align()` (a power of two) or 8, and the
    // size bound was checked just above.
    Some(unsafe { Layout::from_size_align_unchecked(size, outer_align) })
}

impl Header {
    /// The header as the 64-bit word stored in memory.
    #[inline(always)]
    pub(crate) const fn to_word(self) -> u64 {
        self.tag as u64 | (self.flags as u64) << 16 | (self.slot as u64) << 32
    }

    /// The header stored as `word`.
    #[inline(always)]
    pub(crate) const fn from_word(word: u64) -> Header {
        Header {
            tag: word as u16,
            flags: (word >> 16) as u16,
            slot: (word >> 32) as u32,
        }
    }
}

/// Writes the header of the block `user` of `layout`.
///
/// # Safety
/// `user` must be a block of `layout` carved from a block of
/// [`outer_layout`]`(layout)` at offset [`pad`]`(layout.align())` (so the
/// header's 8 bytes, in front or behind, are ours).
#[inline(always)]
pub(crate) unsafe fn write(user: *mut u8, layout: Layout, h: Header) {
    if is_wide(layout.align()) {
        // SAFETY: the trailer's 8 bytes follow the `size` user bytes inside
        // the outer block (its size is `size + 8`); unaligned in general.
        unsafe {
            user.add(layout.size())
                .cast::<u64>()
                .write_unaligned(h.to_word())
        }
    } else {
        // SAFETY: a prefix header: `write_word`'s contract is ours.
        unsafe { write_word(user, h.to_word()) }
    }
}

/// Writes a prefix header, given as its word, in front of `user`.
///
/// # Safety
/// As for [`write`](fn@write), for a layout of alignment at most 8.
#[inline(always)]
pub(crate) unsafe fn write_word(user: *mut u8, word: u64) {
    // SAFETY: the caller guarantees the 8 bytes before `user` lie inside the
    // block's padding; `user` is at least 8-aligned, so the header slot is too.
    unsafe { user.sub(HEADER_SIZE).cast::<u64>().write(word) }
}

/// Reads the header of the live block `user` of `layout`.
///
/// # Safety
/// `user` must be a live block handed out by the tracker for `layout`.
#[inline(always)]
pub(crate) unsafe fn read(user: *const u8, layout: Layout) -> Header {
    if is_wide(layout.align()) {
        // SAFETY: the block's trailer, written by `write` for this layout.
        Header::from_word(unsafe { user.add(layout.size()).cast::<u64>().read_unaligned() })
    } else {
        // SAFETY: a prefix header: `read_word`'s contract is ours.
        Header::from_word(unsafe { read_word(user) })
    }
}

/// Reads the prefix header word in front of `user`.
///
/// # Safety
/// As for [`read`], for a layout of alignment at most 8.
#[inline(always)]
pub(crate) unsafe fn read_word(user: *const u8) -> u64 {
    // SAFETY: every block of alignment at most 8 the tracker hands out has
    // its header in the 8 bytes before it, written by `write` and aligned to 8.
    unsafe { user.sub(HEADER_SIZE).cast::<u64>().read() }
}

/// The base pointer of the block that `user` was carved from.
#[inline(always)]
pub(crate) fn base(user: *mut u8, layout: Layout) -> *mut u8 {
    user.wrapping_sub(pad(layout.align()))
}
