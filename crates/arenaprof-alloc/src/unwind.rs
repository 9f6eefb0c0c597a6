//! Stack capture for sampled allocations.
//!
//! On x86-64 Linux the stack is walked here: each loaded object's
//! `.eh_frame_hdr` (found with `dl_iterate_phdr`) gives the DWARF call-frame
//! rule of a return address, which gimli evaluates once; the rule is cached
//! by address and applied with a few loads from the stack afterwards. A
//! capture after the first few costs a hash lookup and three loads per
//! frame, where the system unwinder (`backtrace::trace`) parses CFI for every
//! frame, every time (about 120 ns a frame here).
//!
//! A frame whose rule is not "CFA = rsp or rbp + offset, return address and
//! rbp saved at fixed offsets from the CFA" (signal trampolines, hand-written
//! assembly) makes the whole capture fall back to `backtrace::trace`. Every
//! stack read is bounds-checked against the thread's stack.
//!
//! Elsewhere [`capture`] is `backtrace::trace`.

/// Fills `ips` with the return addresses of the calling stack, innermost
/// first (the first entry is inside this module), and returns how many.
pub(crate) fn capture(ips: &mut [usize]) -> usize {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let Some(n) = cfi::capture(ips) {
        return n;
    }
    slow_capture(ips)
}

/// The system unwinder.
pub(crate) fn slow_capture(ips: &mut [usize]) -> usize {
    let mut n = 0;
    // SAFETY: `trace_unsynchronized` is only unsafe on platforms whose
    // unwinder is not thread-safe (dbghelp on Windows); elsewhere it is
    // `trace` without the crate's global lock.
    unsafe {
        backtrace::trace_unsynchronized(|f| match ips.get_mut(n) {
            // The system unwinder ends some stacks with a frame at 0.
            Some(_) if f.ip().is_null() => false,
            Some(slot) => {
                *slot = f.ip() as usize;
                n += 1;
                n < ips.len()
            }
            None => false,
        })
    };
    n
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod cfi {
    use gimli::{
        BaseAddresses, CfaRule, EhFrame, EhFrameHdr, EndianSlice, LittleEndian, ParsedEhFrameHdr,
        RegisterRule, UnwindContext, UnwindSection, X86_64,
    };
    use std::collections::HashMap;
    use std::hash::{BuildHasherDefault, Hasher};
    use std::ops::Range;
    use std::sync::Mutex;

    type Slice = EndianSlice<'static, LittleEndian>;

    /// How to step from a frame at a given address to its caller.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Step {
        /// `cfa = (rbp or rsp) + cfa_off`; the return address is at
        /// `cfa + ra_off`; the caller's rbp at `cfa + rbp_off` if saved.
        Frame {
            via_rbp: bool,
            cfa_off: i64,
            ra_off: i64,
            rbp_off: Option<i64>,
        },
        /// The return address is undefined: the outermost frame.
        Outermost,
        /// No unwind information for the address: the stack ends here, as
        /// it does for the system unwinder.
        NoInfo,
        /// A rule this unwinder does not follow.
        Unsupported,
    }

    /// One loaded object with unwind information.
    struct Module {
        text: Range<u64>,
        hdr: ParsedEhFrameHdr<Slice>,
        eh_frame: EhFrame<Slice>,
        bases: BaseAddresses,
    }

    /// A multiplicative hash for return addresses.
    #[derive(Default)]
    struct IpHasher(u64);

    impl Hasher for IpHasher {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
        fn write_u64(&mut self, v: u64) {
            self.0 = (v ^ (v >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    /// Most cached rules; the cache starts over past this.
    const MAX_CACHED: usize = 1 << 16;

    struct State {
        modules: Vec<Module>,
        /// `(adds, subs)` of `dl_iterate_phdr` when `modules` was read.
        generation: (u64, u64),
        cache: HashMap<u64, Step, BuildHasherDefault<IpHasher>>,
        ctx: Box<UnwindContext<usize>>,
    }

    static STATE: Mutex<Option<State>> = Mutex::new(None);

    /// Walks the calling stack; `None` when a frame needs the system unwinder.
    #[inline(never)]
    pub(super) fn capture(ips: &mut [usize]) -> Option<usize> {
        let (rip, rsp, rbp): (u64, u64, u64);
        // SAFETY: reads the instruction pointer and two registers; touches no
        // memory and leaves the stack as it is.
        unsafe {
            std::arch::asm!(
                "lea {0}, [rip]",
                "mov {1}, rsp",
                "mov {2}, rbp",
                out(reg) rip,
                out(reg) rsp,
                out(reg) rbp,
                options(nomem, nostack, preserves_flags)
            )
        };
        let top = stack_top()?;
        // The loader's counters of loads and unloads, read before our lock
        // is taken (never under it: the loader's lock is taken there, and a
        // thread holding it may be allocating). Every object with code on
        // this stack was loaded before this read, so a matching generation
        // means every module the walk can reach is current.
        let now = generation();
        let current = matches!(&*lock(), Some(s) if s.generation == now);
        if !current {
            refresh();
        }
        walk(lock().as_mut()?, ips, (rip, rsp, rbp), rsp..top)
    }

    fn lock() -> std::sync::MutexGuard<'static, Option<State>> {
        STATE.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the module list and installs it if it changed.
    fn refresh() {
        let (modules, generation) = load_modules();
        let mut guard = lock();
        match guard.as_mut() {
            Some(s) if s.generation == generation => {}
            Some(s) => {
                s.modules = modules;
                s.generation = generation;
                s.cache.clear();
            }
            None => {
                *guard = Some(State {
                    modules,
                    generation,
                    cache: HashMap::default(),
                    ctx: Box::new(UnwindContext::new()),
                })
            }
        }
    }

    /// Steps from `regs` (`rip`, `rsp`, `rbp` of the innermost frame) up the
    /// stack, reading only inside `stack`.
    fn walk(
        state: &mut State,
        ips: &mut [usize],
        regs: (u64, u64, u64),
        stack: Range<u64>,
    ) -> Option<usize> {
        let (mut ip, mut rsp, mut rbp) = regs;
        let read = |addr: u64| -> Option<u64> {
            if addr < stack.start || addr.checked_add(8)? > stack.end || addr % 8 != 0 {
                return None;
            }
            // SAFETY: `addr` is 8-aligned and inside this thread's stack,
            // between the capturing frame and the top: mapped and readable.
            Some(unsafe { (addr as *const u64).read() })
        };
        let mut n = 0;
        while n < ips.len() {
            ips[n] = ip as usize;
            n += 1;
            // A return address points after the call: look up the call itself.
            let lookup = if n == 1 { ip } else { ip - 1 };
            match state.step(lookup) {
                Step::Frame {
                    via_rbp,
                    cfa_off,
                    ra_off,
                    rbp_off,
                } => {
                    let base = if via_rbp { rbp } else { rsp };
                    let cfa = base.checked_add_signed(cfa_off)?;
                    if cfa <= rsp {
                        return None;
                    }
                    let ra = read(cfa.checked_add_signed(ra_off)?)?;
                    if let Some(off) = rbp_off {
                        rbp = read(cfa.checked_add_signed(off)?)?;
                    }
                    rsp = cfa;
                    if ra == 0 {
                        break;
                    }
                    ip = ra;
                }
                Step::Outermost | Step::NoInfo => break,
                Step::Unsupported => return None,
            }
        }
        Some(n)
    }

    impl State {
        /// The rule for `addr`, from the cache or evaluated now.
        fn step(&mut self, addr: u64) -> Step {
            if let Some(&s) = self.cache.get(&addr) {
                return s;
            }
            let s = self.evaluate(addr);
            if self.cache.len() >= MAX_CACHED {
                self.cache.clear();
            }
            self.cache.insert(addr, s);
            s
        }

        fn evaluate(&mut self, addr: u64) -> Step {
            let Some(m) = self.modules.iter().find(|m| m.text.contains(&addr)) else {
                return Step::NoInfo;
            };
            let Some(table) = m.hdr.table() else {
                return Step::NoInfo;
            };
            let row = match table.unwind_info_for_address(
                &m.eh_frame,
                &m.bases,
                &mut self.ctx,
                addr,
                EhFrame::cie_from_offset,
            ) {
                Ok(row) => row,
                Err(gimli::Error::NoUnwindInfoForAddress) => return Step::NoInfo,
                Err(_) => return Step::Unsupported,
            };
            let (via_rbp, cfa_off) = match *row.cfa() {
                CfaRule::RegisterAndOffset { register, offset } if register == X86_64::RSP => {
                    (false, offset)
                }
                CfaRule::RegisterAndOffset { register, offset } if register == X86_64::RBP => {
                    (true, offset)
                }
                _ => return Step::Unsupported,
            };
            let ra_off = match row.register(X86_64::RA) {
                Some(RegisterRule::Offset(o)) => o,
                Some(RegisterRule::Undefined) => return Step::Outermost,
                _ => return Step::Unsupported,
            };
            let rbp_off = match row.register(X86_64::RBP) {
                None | Some(RegisterRule::SameValue) | Some(RegisterRule::Undefined) => None,
                Some(RegisterRule::Offset(o)) => Some(o),
                Some(_) => return Step::Unsupported,
            };
            Step::Frame {
                via_rbp,
                cfa_off,
                ra_off,
                rbp_off,
            }
        }
    }

    /// The highest address of the calling thread's stack.
    fn stack_top() -> Option<u64> {
        thread_local! {
            static TOP: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
        }
        let cached = TOP.try_with(|t| t.get()).ok()?;
        if cached != 0 {
            return Some(cached);
        }
        // SAFETY: `attr` is initialised by pthread_getattr_np before use and
        // destroyed after; the out-pointers are valid locals.
        let top = unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
                return None;
            }
            let mut addr: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
            if rc != 0 {
                return None;
            }
            (addr as u64).checked_add(size as u64)?
        };
        let _ = TOP.try_with(|t| t.set(top));
        Some(top)
    }

    /// The loader's `(adds, subs)` counters: they change when an object is
    /// loaded or unloaded. Visits only the first object.
    fn generation() -> (u64, u64) {
        unsafe extern "C" fn first(
            info: *mut libc::dl_phdr_info,
            _size: libc::size_t,
            data: *mut libc::c_void,
        ) -> libc::c_int {
            // SAFETY: the loader passes a valid `dl_phdr_info`; `data` is the
            // tuple passed below.
            let (info, out) = unsafe { (&*info, &mut *(data as *mut (u64, u64))) };
            *out = (info.dlpi_adds, info.dlpi_subs);
            1
        }
        let mut out = (0u64, 0u64);
        // SAFETY: `first` matches the callback type and only writes `out`.
        unsafe { libc::dl_iterate_phdr(Some(first), (&mut out as *mut (u64, u64)).cast()) };
        out
    }

    /// Reads the loaded objects' unwind sections.
    fn load_modules() -> (Vec<Module>, (u64, u64)) {
        struct Out {
            modules: Vec<Module>,
            generation: (u64, u64),
        }
        unsafe extern "C" fn each(
            info: *mut libc::dl_phdr_info,
            _size: libc::size_t,
            data: *mut libc::c_void,
        ) -> libc::c_int {
            // SAFETY: the loader passes a valid `dl_phdr_info` for the
            // duration of the call; `data` is the `Out` passed below.
            let (info, out) = unsafe { (&*info, &mut *(data as *mut Out)) };
            out.generation = (info.dlpi_adds, info.dlpi_subs);
            // SAFETY: `dlpi_phdr` points at `dlpi_phnum` program headers.
            let phdrs =
                unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
            if let Some(m) = module(info.dlpi_addr, phdrs) {
                out.modules.push(m);
            }
            0
        }
        let mut out = Out {
            modules: Vec::new(),
            generation: (0, 0),
        };
        // SAFETY: `each` matches the callback type and only uses `data` as
        // the `Out` it is given.
        unsafe { libc::dl_iterate_phdr(Some(each), (&mut out as *mut Out).cast()) };
        (out.modules, out.generation)
    }

    /// The unwind sections of one object, from its program headers.
    fn module(bias: u64, phdrs: &[libc::Elf64_Phdr]) -> Option<Module> {
        let seg = |p: &libc::Elf64_Phdr| {
            let start = bias.wrapping_add(p.p_vaddr);
            start..start.wrapping_add(p.p_memsz)
        };
        let hdr_range = phdrs
            .iter()
            .find(|p| p.p_type == libc::PT_GNU_EH_FRAME)
            .map(seg)?;
        let loads: Vec<Range<u64>> = phdrs
            .iter()
            .filter(|p| p.p_type == libc::PT_LOAD)
            .map(seg)
            .collect();
        let text = phdrs
            .iter()
            .filter(|p| p.p_type == libc::PT_LOAD && p.p_flags & libc::PF_X != 0)
            .map(seg)
            .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end))?;
        // SAFETY: PT_GNU_EH_FRAME lies in a loaded segment of a loaded
        // object, mapped readable while the object stays loaded.
        let hdr_bytes: &'static [u8] = unsafe {
            std::slice::from_raw_parts(
                hdr_range.start as *const u8,
                (hdr_range.end - hdr_range.start) as usize,
            )
        };
        let bases = BaseAddresses::default()
            .set_eh_frame_hdr(hdr_range.start)
            .set_text(text.start);
        let hdr = EhFrameHdr::new(hdr_bytes, LittleEndian)
            .parse(&bases, 8)
            .ok()?;
        let eh_frame_at = hdr.eh_frame_ptr().direct().ok()?;
        // `.eh_frame` has no length in the header: it runs at most to the
        // end of the segment that holds it.
        let end = loads.iter().find(|r| r.contains(&eh_frame_at))?.end;
        // SAFETY: as above, inside a loaded segment.
        let eh_bytes: &'static [u8] = unsafe {
            std::slice::from_raw_parts(eh_frame_at as *const u8, (end - eh_frame_at) as usize)
        };
        let bases = bases.set_eh_frame(eh_frame_at);
        Some(Module {
            text,
            hdr,
            eh_frame: EhFrame::new(eh_bytes, LittleEndian),
            bases,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::super::slow_capture;

        /// Both unwinders from one frame: they must agree on every caller.
        #[inline(never)]
        fn both() -> (Vec<usize>, Vec<usize>) {
            let mut fast = vec![0usize; 128];
            let n = super::capture(&mut fast).expect("plain Rust frames are followed");
            fast.truncate(n);
            let mut slow = vec![0usize; 128];
            let n = slow_capture(&mut slow);
            slow.truncate(n);
            (fast, slow)
        }

        #[inline(never)]
        fn nested(depth: usize) -> (Vec<usize>, Vec<usize>) {
            if depth == 0 {
                return both();
            }
            let r = nested(depth - 1);
            std::hint::black_box(r)
        }

        /// The return address into `both`'s caller starts the common part:
        /// from there on the two stacks must be identical.
        fn assert_same_callers(fast: &[usize], slow: &[usize]) {
            let i = fast
                .iter()
                .position(|ip| slow.contains(ip))
                .expect("a common frame");
            let j = slow.iter().position(|ip| *ip == fast[i]).unwrap();
            assert_eq!(&fast[i..], &slow[j..], "fast {fast:x?}\nslow {slow:x?}");
            assert!(fast.len() - i >= 5, "deep enough: {fast:x?}");
        }

        #[test]
        fn agrees_with_the_system_unwinder() {
            for depth in [0, 1, 7, 40] {
                let (fast, slow) = nested(depth);
                assert_same_callers(&fast, &slow);
            }
        }

        #[test]
        fn follows_libraries_loaded_and_unloaded() {
            let before = super::generation();
            // SAFETY: libresolv is part of glibc; loading and unloading it
            // runs no user code.
            let h = unsafe { libc::dlopen(c"libresolv.so.2".as_ptr(), libc::RTLD_NOW) };
            assert!(!h.is_null(), "libresolv.so.2 loads");
            let loaded = super::generation();
            assert!(loaded.0 > before.0, "{before:?} -> {loaded:?}");
            let (fast, slow) = nested(2);
            assert_same_callers(&fast, &slow);
            // SAFETY: `h` came from dlopen and nothing from it is in use.
            unsafe { libc::dlclose(h) };
            let (fast, slow) = nested(2);
            assert_same_callers(&fast, &slow);
            let state = super::lock();
            assert_eq!(state.as_ref().unwrap().generation, super::generation());
        }

        #[test]
        fn agrees_on_other_threads() {
            let handles: Vec<_> = (0..4)
                .map(|i| std::thread::spawn(move || nested(3 + i)))
                .collect();
            for h in handles {
                let (fast, slow) = h.join().unwrap();
                assert_same_callers(&fast, &slow);
            }
        }
    }
}
