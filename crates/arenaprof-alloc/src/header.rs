//! The header stored in front of every block the tracker hands out.
//!
//! ```text
//!  base (from the inner allocator)            user pointer
//!  |<------------- pad = max(8, align) ------------->|
//!  [ padding ...          | tag u16 | flags u16 | slot u32 ][ user bytes ...
//! ```
//!
//! The header records the tag and the thread slot the block was allocated
//! under, so that a free on any thread decrements exactly that cell. `pad` is a
//! function of the layout's alignment alone, so a free recomputes it from the
//! layout it is given and never stores it.

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

/// The block's alignment is above 8, so its pad is `align` bytes, not 8.
pub(crate) const FLAG_WIDE: u16 = 8;

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

/// Bytes added in front of a block of alignment `align`.
#[inline(always)]
pub(crate) const fn pad(align: usize) -> usize {
    if align > HEADER_SIZE {
        align
    } else {
        HEADER_SIZE
    }
}

/// The layout requested from the inner allocator for a user layout, or `None`
/// when it would overflow.
#[inline(always)]
pub(crate) fn outer_layout(layout: Layout) -> Option<Layout> {
    let align = layout.align();
    let pad = pad(align);
    let size = layout.size().checked_add(pad)?;
    let outer_align = if align > HEADER_SIZE {
        align
    } else {
        HEADER_SIZE
    };
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

/// Writes a header in front of `user`.
///
/// # Safety
/// `user` must be a block returned for `layout`'s outer layout, offset by
/// `pad(layout.align())`, so the 8 bytes before it are ours.
#[inline(always)]
pub(crate) unsafe fn write(user: *mut u8, h: Header) {
    // SAFETY: `write_word` has this function's contract, which our caller
    // upholds.
    unsafe { write_word(user, h.to_word()) }
}

/// Writes a header, given as its word, in front of `user`.
///
/// # Safety
/// As for [`write`](fn@write).
#[inline(always)]
pub(crate) unsafe fn write_word(user: *mut u8, word: u64) {
    // SAFETY: the caller guarantees the 8 bytes before `user` lie inside the
    // block's padding; `user` is at least 8-aligned, so the header slot is too.
    unsafe { user.sub(HEADER_SIZE).cast::<u64>().write(word) }
}

/// Reads the header in front of `user`.
///
/// # Safety
/// `user` must be a live block handed out by the tracker.
#[inline(always)]
pub(crate) unsafe fn read(user: *const u8) -> Header {
    // SAFETY: `read_word` has this function's contract, which our caller
    // upholds.
    Header::from_word(unsafe { read_word(user) })
}

/// Reads the header word in front of `user`.
///
/// # Safety
/// As for [`read`].
#[inline(always)]
pub(crate) unsafe fn read_word(user: *const u8) -> u64 {
    // SAFETY: every block the tracker hands out has its header in the 8 bytes
    // before it, written by `write` and aligned to 8.
    unsafe { user.sub(HEADER_SIZE).cast::<u64>().read() }
}

/// The base pointer of the block that `user` was carved from.
#[inline(always)]
pub(crate) fn base(user: *mut u8, layout: Layout) -> *mut u8 {
    user.wrapping_sub(pad(layout.align()))
}
