//! Loaded objects and their dynamic sections, read in place through
//! `dl_iterate_phdr` (no file is opened, nothing is parsed from disk).
//!
//! Everything here runs without the global allocator: the walkers hand the
//! caller borrowed views, valid only inside the callback (the loader lock is
//! held there, so no object can be unloaded meanwhile).

use std::ffi::{c_char, c_int, c_void, CStr};

/// `PT_DYNAMIC`.
const PT_DYNAMIC: u32 = 2;
/// `PT_LOAD`.
const PT_LOAD: u32 = 1;
/// `PT_NOTE`.
const PT_NOTE: u32 = 4;
/// `PF_X`: the segment is executable.
const PF_X: u32 = 1;
/// `PF_R`: the segment is readable.
const PF_R: u32 = 4;
/// `NT_GNU_BUILD_ID`.
const NT_GNU_BUILD_ID: u32 = 3;
/// `PT_GNU_RELRO`.
const PT_GNU_RELRO: u32 = 0x6474_e552;

const DT_NULL: i64 = 0;
const DT_PLTRELSZ: i64 = 2;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_RELA: i64 = 7;
const DT_RELASZ: i64 = 8;
const DT_STRSZ: i64 = 10;
const DT_REL: i64 = 17;
const DT_RELSZ: i64 = 18;
const DT_PLTREL: i64 = 20;
const DT_JMPREL: i64 = 23;

/// Relocation types whose target is a GOT slot holding a function address.
#[cfg(target_arch = "x86_64")]
const GOT_RELOCS: [u32; 2] = [
    6, /* R_X86_64_GLOB_DAT */
    7, /* R_X86_64_JUMP_SLOT */
];
#[cfg(target_arch = "aarch64")]
const GOT_RELOCS: [u32; 2] = [
    1025, /* R_AARCH64_GLOB_DAT */
    1026, /* R_AARCH64_JUMP_SLOT */
];
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const GOT_RELOCS: [u32; 0] = [];

/// Whether GOT patching is implemented for this target.
pub(crate) const SUPPORTED: bool = cfg!(all(
    target_os = "linux",
    target_pointer_width = "64",
    any(target_arch = "x86_64", target_arch = "aarch64")
));

#[repr(C)]
#[derive(Clone, Copy)]
struct Dyn {
    d_tag: i64,
    d_val: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Rela {
    r_offset: u64,
    r_info: u64,
    r_addend: i64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Rel {
    r_offset: u64,
    r_info: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Sym {
    st_name: u32,
    st_info: u8,
    st_other: u8,
    st_shndx: u16,
    st_value: u64,
    st_size: u64,
}

/// One loaded object, as `dl_iterate_phdr` reports it.
pub(crate) struct Object<'a> {
    /// Load bias (`dlpi_addr`).
    pub base: usize,
    /// Path as the loader recorded it; empty for the main executable.
    pub name: &'a [u8],
    /// Position in the loader's list (0 is the main executable).
    pub index: usize,
    phdrs: &'a [libc::Elf64_Phdr],
}

impl Object<'_> {
    /// `[start, end)` of the `PT_GNU_RELRO` segment, if any.
    fn relro(&self) -> Option<(usize, usize)> {
        self.phdrs
            .iter()
            .find(|p| p.p_type == PT_GNU_RELRO)
            .map(|p| {
                let s = self.base.wrapping_add(p.p_vaddr as usize);
                (s, s.wrapping_add(p.p_memsz as usize))
            })
    }

    /// Lowest and highest address of the object's `PT_LOAD` segments.
    pub fn load_range(&self) -> (usize, usize) {
        let mut lo = usize::MAX;
        let mut hi = 0usize;
        for p in self.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
            let s = self.base.wrapping_add(p.p_vaddr as usize);
            lo = lo.min(s);
            hi = hi.max(s.wrapping_add(p.p_memsz as usize));
        }
        (lo, hi)
    }

    /// Calls `f(start, limit, file_offset)` for each executable `PT_LOAD`
    /// segment, widened to pages as the kernel maps it.
    pub fn for_each_executable_segment(&self, f: &mut dyn FnMut(usize, usize, u64)) {
        const PAGE: usize = 4096;
        for p in self
            .phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD && p.p_flags & PF_X != 0)
        {
            let start = self.base.wrapping_add(p.p_vaddr as usize);
            let aligned = start & !(PAGE - 1);
            let limit = start.wrapping_add(p.p_memsz as usize);
            f(
                aligned,
                limit,
                p.p_offset.saturating_sub((start - aligned) as u64),
            );
        }
    }

    /// Copies the object's GNU build ID (`NT_GNU_BUILD_ID` note) into `out`
    /// and returns its length (0 when there is none, or it is longer than
    /// `out`). The notes are read in place, and only where a readable
    /// `PT_LOAD` segment maps them.
    pub fn build_id(&self, out: &mut [u8]) -> usize {
        let readable = |vaddr: u64, len: u64| {
            self.phdrs.iter().any(|p| {
                p.p_type == PT_LOAD
                    && p.p_flags & PF_R != 0
                    && vaddr >= p.p_vaddr
                    && vaddr.saturating_add(len) <= p.p_vaddr.saturating_add(p.p_filesz)
            })
        };
        for note in self.phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
            if !readable(note.p_vaddr, note.p_filesz) {
                continue;
            }
            let align = if note.p_align == 8 { 8 } else { 4 };
            let pad = |n: usize| n.div_ceil(align) * align;
            let base = self.base.wrapping_add(note.p_vaddr as usize) as *const u8;
            let len = note.p_filesz as usize;
            // SAFETY: `[base, base + len)` lies in a readable PT_LOAD segment
            // of a loaded object (checked above), mapped while the loader
            // lock is held (this runs inside `for_each_object`).
            let bytes = unsafe { std::slice::from_raw_parts(base, len) };
            let mut at = 0usize;
            while at + 12 <= bytes.len() {
                let word = |o: usize| {
                    u32::from_ne_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]])
                };
                let (namesz, descsz, kind) =
                    (word(at) as usize, word(at + 4) as usize, word(at + 8));
                let name_at = at + 12;
                let desc_at = name_at.saturating_add(pad(namesz));
                let end = desc_at.saturating_add(pad(descsz));
                if desc_at.saturating_add(descsz) > bytes.len() {
                    break;
                }
                if kind == NT_GNU_BUILD_ID
                    && &bytes[name_at..name_at + namesz.min(4)] == b"GNU\0"
                    && descsz <= out.len()
                {
                    out[..descsz].copy_from_slice(&bytes[desc_at..desc_at + descsz]);
                    return descsz;
                }
                at = end;
            }
        }
        0
    }

    /// Whether the loader and kernel objects should never be patched.
    pub fn is_loader_or_vdso(&self) -> bool {
        contains(self.name, b"/ld-linux")
            || contains(self.name, b"ld-linux-")
            || contains(self.name, b"/ld64.so")
            || contains(self.name, b"linux-vdso")
            || contains(self.name, b"linux-gate")
            || (self.index > 0 && self.name.is_empty())
    }

    /// Calls `f(slot_address, symbol_name)` for every GOT slot (GLOB_DAT or
    /// JUMP_SLOT relocation) of the object. Returns `false` when the object
    /// has no usable dynamic section.
    pub fn for_each_got_slot(&self, f: &mut dyn FnMut(usize, &[u8])) -> bool {
        let Some(dynp) = self.phdrs.iter().find(|p| p.p_type == PT_DYNAMIC) else {
            return false;
        };
        let dyn_ptr = self.base.wrapping_add(dynp.p_vaddr as usize) as *const Dyn;
        let mut t = Tables::default();
        // Bounded: a dynamic section has a few dozen entries; 4096 is far past
        // any real one and stops a corrupt one from running away.
        for i in 0..4096 {
            // SAFETY: PT_DYNAMIC of a loaded object points at its mapped,
            // readable dynamic array, terminated by DT_NULL (checked below
            // before reading past it).
            let d = unsafe { *dyn_ptr.add(i) };
            match d.d_tag {
                DT_NULL => break,
                DT_STRTAB => t.strtab = self.reloc(d.d_val),
                DT_STRSZ => t.strsz = d.d_val as usize,
                DT_SYMTAB => t.symtab = self.reloc(d.d_val),
                DT_RELA => t.rela = self.reloc(d.d_val),
                DT_RELASZ => t.relasz = d.d_val as usize,
                DT_REL => t.rel = self.reloc(d.d_val),
                DT_RELSZ => t.relsz = d.d_val as usize,
                DT_JMPREL => t.jmprel = self.reloc(d.d_val),
                DT_PLTRELSZ => t.pltrelsz = d.d_val as usize,
                DT_PLTREL => t.pltrel = d.d_val as i64,
                _ => {}
            }
        }
        if t.strtab == 0 || t.symtab == 0 {
            return false;
        }
        let mut visit = |offset: u64, info: u64| {
            let ty = (info & 0xffff_ffff) as u32;
            if !GOT_RELOCS.contains(&ty) {
                return;
            }
            let sym_index = (info >> 32) as usize;
            if sym_index == 0 {
                return;
            }
            // SAFETY: DT_SYMTAB is the object's mapped symbol table and a
            // relocation's symbol index refers into it (the loader itself
            // relied on it when it resolved this slot).
            let sym = unsafe { *(t.symtab as *const Sym).add(sym_index) };
            let off = sym.st_name as usize;
            if off >= t.strsz {
                return;
            }
            // SAFETY: `off < DT_STRSZ`, so the pointer is inside the mapped
            // string table, whose strings are NUL-terminated within it.
            let name = unsafe { CStr::from_ptr((t.strtab + off) as *const c_char) };
            f(self.base.wrapping_add(offset as usize), name.to_bytes());
        };
        if t.rela != 0 {
            for_each_entry::<Rela>(t.rela, t.relasz, &mut |r| visit(r.r_offset, r.r_info));
        }
        if t.rel != 0 {
            for_each_entry::<Rel>(t.rel, t.relsz, &mut |r| visit(r.r_offset, r.r_info));
        }
        if t.jmprel != 0 {
            match t.pltrel {
                DT_RELA => for_each_entry::<Rela>(t.jmprel, t.pltrelsz, &mut |r| {
                    visit(r.r_offset, r.r_info)
                }),
                DT_REL => for_each_entry::<Rel>(t.jmprel, t.pltrelsz, &mut |r| {
                    visit(r.r_offset, r.r_info)
                }),
                _ => {}
            }
        }
        true
    }

    /// glibc relocates most `d_ptr` entries in place on x86_64 and aarch64;
    /// some loaders leave them as offsets. Values below the base are offsets.
    fn reloc(&self, v: u64) -> usize {
        let v = v as usize;
        if v < self.base {
            self.base.wrapping_add(v)
        } else {
            v
        }
    }
}

#[derive(Default)]
struct Tables {
    strtab: usize,
    strsz: usize,
    symtab: usize,
    rela: usize,
    relasz: usize,
    rel: usize,
    relsz: usize,
    jmprel: usize,
    pltrelsz: usize,
    pltrel: i64,
}

fn for_each_entry<T: Copy>(table: usize, bytes: usize, f: &mut dyn FnMut(&T)) {
    let n = bytes / std::mem::size_of::<T>();
    for i in 0..n {
        // SAFETY: the dynamic section says `bytes` bytes of relocation
        // entries start at `table`, mapped read-only with the object.
        let e = unsafe { *(table as *const T).add(i) };
        f(&e);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Writes `value` into the GOT slot at `slot` of `obj`, lifting RELRO
/// protection for the one page if needed. Returns whether it was written.
///
/// # Safety
/// `slot` must be a GOT slot of `obj` (from [`Object::for_each_got_slot`])
/// and `value` a function with the slot's symbol's signature. The caller
/// serialises patching (one patcher at a time), because the page's
/// protection is restored afterwards.
pub(crate) unsafe fn write_slot(obj: &Object<'_>, slot: usize, value: usize) -> bool {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let page = crate::units::page_size();
    let in_relro = obj
        .relro()
        .is_some_and(|(s, e)| slot >= s && slot + std::mem::size_of::<usize>() <= e);
    let page_start = slot & !(page - 1);
    if in_relro {
        // SAFETY: the page belongs to the object's RELRO segment (mapped);
        // making it writable for the duration of one aligned store.
        if unsafe {
            libc::mprotect(
                page_start as *mut c_void,
                page,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        } != 0
        {
            return false;
        }
    }
    // SAFETY: a GOT slot is an aligned, pointer-sized word, writable now;
    // other threads may be loading it concurrently, so store atomically.
    unsafe { (*(slot as *const AtomicUsize)).store(value, Ordering::SeqCst) };
    if in_relro {
        // SAFETY: restores the RELRO page's read-only protection.
        unsafe { libc::mprotect(page_start as *mut c_void, page, libc::PROT_READ) };
    }
    true
}

/// Reads a GOT slot.
///
/// # Safety
/// `slot` must be a GOT slot from [`Object::for_each_got_slot`] of an object
/// that is still loaded.
pub(crate) unsafe fn read_slot(slot: usize) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // SAFETY: per the contract, an aligned mapped pointer-sized word.
    unsafe { (*(slot as *const AtomicUsize)).load(Ordering::SeqCst) }
}

/// Calls `f` for every loaded object, in the loader's order, with the
/// loader lock held. `f` returns `false` to stop. `f` must not allocate with
/// an allocator that may call `dlopen` or `dl_iterate_phdr`, and must not
/// panic (it runs inside an `extern "C"` callback).
pub(crate) fn for_each_object(f: &mut dyn FnMut(&Object<'_>) -> bool) {
    struct Ctx<'a> {
        f: &'a mut dyn FnMut(&Object<'_>) -> bool,
        index: usize,
    }
    unsafe extern "C" fn cb(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: `data` is the `Ctx` passed to dl_iterate_phdr below, alive
        // for the whole call; `info` is the loader's valid record.
        let (ctx, info) = unsafe { (&mut *(data as *mut Ctx<'_>), &*info) };
        let name: &[u8] = if info.dlpi_name.is_null() {
            b""
        } else {
            // SAFETY: the loader's object name is a NUL-terminated string
            // that lives while the object is loaded (the lock is held).
            unsafe { CStr::from_ptr(info.dlpi_name) }.to_bytes()
        };
        let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
            &[]
        } else {
            // SAFETY: `dlpi_phnum` program headers start at `dlpi_phdr`,
            // mapped with the object.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) }
        };
        let obj = Object {
            base: info.dlpi_addr as usize,
            name,
            index: ctx.index,
            phdrs,
        };
        ctx.index += 1;
        if (ctx.f)(&obj) {
            0
        } else {
            1
        }
    }
    let mut ctx = Ctx { f, index: 0 };
    // SAFETY: `cb` matches the callback signature and only uses `ctx`
    // during the call.
    unsafe { libc::dl_iterate_phdr(Some(cb), &mut ctx as *mut Ctx<'_> as *mut c_void) };
}

/// One loaded object, owned (for readers: allocates).
#[derive(Clone, Debug)]
pub(crate) struct LoadedObject {
    pub base: usize,
    pub name: String,
    pub index: usize,
    pub range: (usize, usize),
}

/// The loaded objects, copied out. The callback copies into buffers reserved
/// beforehand, so nothing allocates while the loader lock is held; objects
/// past the reservation (4,096 objects, 512 KiB of names) are left out.
pub(crate) fn loaded_objects() -> Vec<LoadedObject> {
    const MAX: usize = 4096;
    let mut heads: Vec<(usize, usize, usize, (usize, usize))> = Vec::with_capacity(MAX);
    let mut names: Vec<u8> = Vec::with_capacity(512 << 10);
    for_each_object(&mut |o| {
        if heads.len() == heads.capacity() || names.len() + o.name.len() > names.capacity() {
            return false;
        }
        let start = names.len();
        names.extend_from_slice(o.name);
        heads.push((o.base, start, o.index, o.load_range()));
        true
    });
    let mut out = Vec::with_capacity(heads.len());
    for (i, &(base, start, index, range)) in heads.iter().enumerate() {
        let end = heads.get(i + 1).map_or(names.len(), |h| h.1);
        out.push(LoadedObject {
            base,
            name: String::from_utf8_lossy(&names[start..end]).into_owned(),
            index,
            range,
        });
    }
    out
}
