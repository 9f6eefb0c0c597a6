//! threadpoolctl for Rust: finds the BLAS and OpenMP runtimes loaded in the
//! process at run time (nothing is linked at build time), reports them, and
//! sets or scopes their thread counts.
//!
//! Recognised (by file name, then by symbols defined in that object):
//! OpenBLAS (`libopenblas*`, `libblas*`; `openblas_get_num_threads`,
//! also the `64_` ILP64 names), BLIS (`libblis*`, `libblas*`;
//! `bli_thread_get_num_threads`), MKL (`libmkl_rt*`; `MKL_Get_Max_Threads`)
//! and OpenMP runtimes (`libgomp*`, `libiomp*`, `libomp*`;
//! `omp_get_max_threads`). A library that matches by name but lacks the
//! get/set pair is skipped with a note in [`Info::notes`], never a crash.
//!
//! What lowering the count frees: **nothing, for OpenBLAS**. It maps one
//! buffer per thread (`BUFFER_SIZE`: 128 MiB in Debian's build, 32 MiB in
//! NumPy's wheels) the first time a thread runs, and keeps it for the life
//! of the process; `openblas_set_num_threads(1)` afterwards leaves every
//! buffer mapped ([`ThreadChange::freed_bytes`] measures it, from the hooks'
//! table). What does help: limit before the first BLAS call
//! (`OPENBLAS_NUM_THREADS`, or [`set_threads`] right after loading), or
//! use arenaprof's GEMM, whose per-worker workspaces are capped and freed.
//!
//! `omp_set_num_threads` sets the calling thread's OpenMP default (as in
//! threadpoolctl): other threads that already started keep theirs.
//!
//! ```no_run
//! use arenaprof_native::blas;
//! let info = blas::info();
//! for r in &info.runtimes {
//!     println!("{:?} {} {:?} threads={}", r.kind, r.path, r.version, r.num_threads);
//! }
//! let y = blas::limits(1, || 40 + 2); // inside: every runtime at 1 thread
//! assert_eq!(y, 42);
//! ```

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use crate::{elf, hooks};

/// Which runtime.
///
/// ```
/// assert_eq!(arenaprof_native::blas::Kind::OpenBlas.name(), "openblas");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// OpenBLAS.
    OpenBlas,
    /// Intel oneMKL (through `libmkl_rt`).
    Mkl,
    /// BLIS.
    Blis,
    /// An OpenMP runtime (libgomp, libiomp, libomp).
    OpenMp,
}

impl Kind {
    /// threadpoolctl's `internal_api` name.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::OpenBlas => "openblas",
            Kind::Mkl => "mkl",
            Kind::Blis => "blis",
            Kind::OpenMp => "openmp",
        }
    }
}

/// OpenBLAS's per-thread buffers, as the hooks saw them.
///
/// ```
/// let b = arenaprof_native::blas::Buffers { buffer_size: 128 << 20, mapped: 8, virtual_bytes: 1 << 30, resident_bytes: 4 << 20 };
/// assert_eq!(b.mapped, 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffers {
    /// The most common length among its live mappings of 1 MiB or more
    /// (OpenBLAS does not export `BUFFER_SIZE`; this is the observed one).
    pub buffer_size: u64,
    /// Buffers mapped: the bytes of its live mappings at least that long,
    /// in whole buffers (merged mappings split).
    pub mapped: u64,
    /// Their virtual bytes.
    pub virtual_bytes: u64,
    /// Their resident bytes (`mincore`).
    pub resident_bytes: u64,
}

/// One loaded runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runtime {
    /// Which runtime.
    pub kind: Kind,
    /// Path as the loader recorded it.
    pub path: String,
    /// Load bias (identifies the object in [`crate::hooks`]).
    pub base: usize,
    /// Version, when the runtime says.
    pub version: Option<String>,
    /// Configuration or version string (`openblas_get_config`,
    /// `MKL_Get_Version_String`, `bli_info_get_version_str`).
    pub config: Option<String>,
    /// `pthreads`, `openmp`, `disabled`, MKL's layer, or `unknown`.
    pub threading_layer: String,
    /// CPU kernel set, when the runtime says (`openblas_get_corename`).
    pub architecture: Option<String>,
    /// Current thread count.
    pub num_threads: i64,
    /// OpenBLAS only, and only with hooks installed before its first call.
    pub buffers: Option<Buffers>,
}

/// What [`info`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// Runtimes, in load order.
    pub runtimes: Vec<Runtime>,
    /// Skipped libraries and missing optional symbols, one line each.
    pub notes: Vec<String>,
}

type GetFn = unsafe extern "C" fn() -> c_int;
type SetFn = unsafe extern "C" fn(c_int);
type GetI64 = unsafe extern "C" fn() -> i64;
type SetI64 = unsafe extern "C" fn(i64);
type StrFn = unsafe extern "C" fn() -> *const c_char;
type MklVersion = unsafe extern "C" fn(*mut c_char, c_int);
type MklLayer = unsafe extern "C" fn(c_int) -> c_int;

struct Controller {
    kind: Kind,
    path: String,
    base: usize,
    range: (usize, usize),
    /// From `dlopen(RTLD_NOLOAD)`; null for a runtime linked statically
    /// into the executable, whose symbols come from `statics`.
    handle: *mut c_void,
    statics: Option<&'static StaticSyms>,
    /// Prefix and suffix of the runtime's symbol names (`scipy_` and `64_`
    /// for NumPy 2's `scipy_openblas64_`).
    affix: (&'static str, &'static str),
    get: usize,
    set: usize,
}

impl Drop for Controller {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // SAFETY: the handle came from dlopen(RTLD_NOLOAD), which raised
            // the object's reference count; this lowers it back.
            unsafe { libc::dlclose(self.handle) };
        }
    }
}

impl Controller {
    /// A symbol defined by this object (not by a dependency), its name
    /// given without the runtime's prefix and suffix.
    fn sym(&self, name: &str) -> Option<usize> {
        let full = format!("{}{name}{}", self.affix.0, self.affix.1);
        match self.statics {
            Some(st) => st.get(&full),
            None => sym_in(self.handle, self.range, &full),
        }
    }

    fn get_threads(&self) -> i64 {
        match self.kind {
            Kind::Blis => {
                // SAFETY: `get` is bli_thread_get_num_threads: dim_t (void).
                let n = unsafe { std::mem::transmute::<usize, GetI64>(self.get)() };
                if n == -1 {
                    1
                } else {
                    n
                }
            }
            // SAFETY: `get` is `int f(void)` for OpenBLAS, MKL and OpenMP.
            _ => unsafe { std::mem::transmute::<usize, GetFn>(self.get)() as i64 },
        }
    }

    fn set_threads(&self, n: i64) {
        match self.kind {
            // SAFETY: `set` is bli_thread_set_num_threads(dim_t).
            Kind::Blis => unsafe { std::mem::transmute::<usize, SetI64>(self.set)(n) },
            // SAFETY: `set` is `void f(int)` for OpenBLAS, MKL and OpenMP.
            _ => unsafe {
                std::mem::transmute::<usize, SetFn>(self.set)(n.clamp(1, c_int::MAX as i64) as c_int)
            },
        }
    }

    fn call_str(&self, name: &str) -> Option<String> {
        let f = self.sym(name)?;
        // SAFETY: the named functions return a static NUL-terminated string
        // (or null), per their headers.
        let p = unsafe { std::mem::transmute::<usize, StrFn>(f)() };
        if p.is_null() {
            return None;
        }
        // SAFETY: non-null, NUL-terminated, static in the library.
        Some(
            unsafe { CStr::from_ptr(p) }
                .to_string_lossy()
                .trim()
                .to_string(),
        )
    }

    fn call_int(&self, name: &str) -> Option<i64> {
        let f = self.sym(name)?;
        // SAFETY: the named functions take no argument and return an int
        // (openblas_get_parallel) or gint_t (bli_info_get_enable_*);
        // reading the low 32 bits of either is a valid C int.
        Some(unsafe { std::mem::transmute::<usize, GetFn>(f)() } as i64)
    }

    fn runtime(&self, notes: &mut Vec<String>) -> Runtime {
        let mut r = Runtime {
            kind: self.kind,
            path: self.path.clone(),
            base: self.base,
            version: None,
            config: None,
            threading_layer: "unknown".into(),
            architecture: None,
            num_threads: self.get_threads(),
            buffers: None,
        };
        match self.kind {
            Kind::OpenBlas => {
                r.config = self.call_str("openblas_get_config");
                r.version = r.config.as_deref().and_then(|c| {
                    let mut w = c.split_whitespace();
                    (w.next() == Some("OpenBLAS"))
                        .then(|| w.next().map(str::to_string))
                        .flatten()
                });
                if r.config.is_none() {
                    notes.push(format!(
                        "{}: no openblas_get_config (OpenBLAS < 0.3.4?)",
                        self.path
                    ));
                }
                r.threading_layer = match self.call_int("openblas_get_parallel") {
                    Some(2) => "openmp".into(),
                    Some(1) => "pthreads".into(),
                    Some(_) => "disabled".into(),
                    None => "unknown".into(),
                };
                r.architecture = self.call_str("openblas_get_corename");
                r.buffers = buffers_of(self.base);
                if r.buffers.is_none() {
                    notes.push(format!(
                        "{}: buffers unknown (install arenaprof_native::hooks before its first call to count them)",
                        self.path
                    ));
                }
            }
            Kind::Mkl => {
                if let Some(f) = self.sym("MKL_Get_Version_String") {
                    let mut buf = [0 as c_char; 256];
                    // SAFETY: MKL writes at most `len` bytes, NUL included.
                    unsafe {
                        std::mem::transmute::<usize, MklVersion>(f)(
                            buf.as_mut_ptr(),
                            buf.len() as c_int,
                        )
                    };
                    buf[255] = 0;
                    // SAFETY: NUL-terminated (forced above).
                    let s = unsafe { CStr::from_ptr(buf.as_ptr()) }
                        .to_string_lossy()
                        .trim()
                        .to_string();
                    r.version = s
                        .split("Version ")
                        .nth(1)
                        .and_then(|t| t.split_whitespace().next())
                        .map(str::to_string);
                    r.config = Some(s);
                }
                if let Some(f) = self.sym("MKL_Set_Threading_Layer") {
                    // SAFETY: MKL_Set_Threading_Layer(-1) only queries.
                    let l = unsafe { std::mem::transmute::<usize, MklLayer>(f)(-1) };
                    r.threading_layer = match l {
                        0 => "intel",
                        1 => "sequential",
                        2 => "pgi",
                        3 => "gnu",
                        4 => "tbb",
                        _ => "not specified",
                    }
                    .into();
                }
            }
            Kind::Blis => {
                r.version = self.call_str("bli_info_get_version_str");
                r.config = r.version.clone();
                r.threading_layer = if self.call_int("bli_info_get_enable_openmp").unwrap_or(0) != 0
                {
                    "openmp".into()
                } else if self.call_int("bli_info_get_enable_pthreads").unwrap_or(0) != 0 {
                    "pthreads".into()
                } else {
                    "disabled".into()
                };
            }
            Kind::OpenMp => {
                let base = self.path.rsplit('/').next().unwrap_or(&self.path);
                r.threading_layer = base
                    .split(".so")
                    .next()
                    .unwrap_or(base)
                    .trim_start_matches("lib")
                    .into();
            }
        }
        r
    }
}

fn sym_in(handle: *mut c_void, range: (usize, usize), name: &str) -> Option<usize> {
    let c = CString::new(name).ok()?;
    // SAFETY: a live handle from dlopen and a NUL-terminated name.
    let p = unsafe { libc::dlsym(handle, c.as_ptr()) } as usize;
    // Only symbols the object itself defines (dlsym also searches its
    // dependencies).
    (p != 0 && p >= range.0 && p < range.1).then_some(p)
}

const PREFIXES: &[(&str, &[Kind])] = &[
    ("libopenblas", &[Kind::OpenBlas]),
    ("libscipy_openblas", &[Kind::OpenBlas]),
    ("libblas", &[Kind::OpenBlas, Kind::Blis]),
    ("libblis", &[Kind::Blis]),
    ("libmkl_rt", &[Kind::Mkl]),
    ("libgomp", &[Kind::OpenMp]),
    ("libiomp", &[Kind::OpenMp]),
    ("libomp", &[Kind::OpenMp]),
];

/// The getter and setter of each runtime's thread count, without affixes.
fn pair(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::OpenBlas => ("openblas_get_num_threads", "openblas_set_num_threads"),
        Kind::Blis => ("bli_thread_get_num_threads", "bli_thread_set_num_threads"),
        Kind::Mkl => ("MKL_Get_Max_Threads", "MKL_Set_Num_Threads"),
        Kind::OpenMp => ("omp_get_max_threads", "omp_set_num_threads"),
    }
}

/// Symbol prefixes and suffixes a runtime's builds use: plain, ILP64
/// (`64_`), and NumPy 2's `scipy_openblas` (`scipy_` and `64_` or none).
fn affixes(kind: Kind) -> &'static [(&'static str, &'static str)] {
    match kind {
        Kind::OpenBlas => &[("", ""), ("", "64_"), ("scipy_", "64_"), ("scipy_", "")],
        _ => &[("", "")],
    }
}

/// Defined function symbols of the executable's `.symtab` (and `.dynsym`)
/// that name a runtime's functions, as run-time addresses.
struct StaticSyms {
    path: String,
    base: usize,
    syms: std::collections::HashMap<String, usize>,
}

impl StaticSyms {
    fn get(&self, name: &str) -> Option<usize> {
        self.syms.get(name).copied()
    }
}

/// Reads the executable's symbol tables once: a runtime linked statically
/// (`libopenblas.a`, `openblas-static`) has no object of its own, and its
/// functions are often not exported, so `dlsym` cannot find them.
fn static_syms() -> Option<&'static StaticSyms> {
    static ONCE: std::sync::OnceLock<Option<StaticSyms>> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let main = elf::loaded_objects().into_iter().find(|o| o.index == 0)?;
        let path = std::fs::read_link("/proc/self/exe").ok()?;
        let data = std::fs::read(&path).ok()?;
        use object::{Object, ObjectSymbol};
        let file = object::File::parse(&*data).ok()?;
        let wanted = |n: &str| {
            n.contains("openblas_")
                || n.starts_with("bli_")
                || n.starts_with("MKL_")
                || n.starts_with("omp_")
        };
        let mut syms = std::collections::HashMap::new();
        for sym in file.symbols().chain(file.dynamic_symbols()) {
            if !sym.is_definition() || sym.kind() != object::SymbolKind::Text {
                continue;
            }
            if let Ok(n) = sym.name() {
                if wanted(n) {
                    syms.insert(
                        n.to_string(),
                        main.base.wrapping_add(sym.address() as usize),
                    );
                }
            }
        }
        Some(StaticSyms {
            path: format!("{} (statically linked)", path.display()),
            base: main.base,
            syms,
        })
    })
    .as_ref()
}

/// The runtimes linked statically into the executable.
fn discover_static(out: &mut Vec<Controller>) {
    let Some(st) = static_syms() else { return };
    for kind in [Kind::OpenBlas, Kind::Blis, Kind::Mkl, Kind::OpenMp] {
        let (g, s) = pair(kind);
        for &affix in affixes(kind) {
            let name = |f: &str| format!("{}{f}{}", affix.0, affix.1);
            if let (Some(get), Some(set)) = (st.get(&name(g)), st.get(&name(s))) {
                out.push(Controller {
                    kind,
                    path: st.path.clone(),
                    base: st.base,
                    range: (0, usize::MAX),
                    handle: std::ptr::null_mut(),
                    statics: Some(st),
                    affix,
                    get,
                    set,
                });
                break;
            }
        }
    }
}

fn discover(notes: &mut Vec<String>) -> Vec<Controller> {
    hooks::refresh();
    let mut out = Vec::new();
    for o in elf::loaded_objects() {
        if o.index == 0 || o.name.is_empty() {
            continue;
        }
        let file = o.name.rsplit('/').next().unwrap_or(&o.name);
        let Some((_, kinds)) = PREFIXES.iter().find(|(p, _)| file.starts_with(p)) else {
            continue;
        };
        let Ok(c) = CString::new(o.name.as_str()) else {
            continue;
        };
        // SAFETY: RTLD_NOLOAD only returns a handle for an object that is
        // already loaded (raising its reference count); it loads nothing.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        if handle.is_null() {
            notes.push(format!("skipped {}: dlopen(RTLD_NOLOAD) failed", o.name));
            continue;
        }
        let mut found = None;
        let mut missing = Vec::new();
        'kinds: for &k in kinds.iter() {
            for &affix in affixes(k) {
                let (g, s) = pair(k);
                let g = format!("{}{g}{}", affix.0, affix.1);
                let s = format!("{}{s}{}", affix.0, affix.1);
                let gp = sym_in(handle, o.range, &g);
                let sp = sym_in(handle, o.range, &s);
                match (gp, sp) {
                    (Some(gp), Some(sp)) => {
                        found = Some((k, affix, gp, sp));
                        break 'kinds;
                    }
                    (None, None) => missing.push(format!("{g}/{s}")),
                    (None, Some(_)) => missing.push(g),
                    (Some(_), None) => missing.push(s),
                }
            }
        }
        match found {
            Some((kind, affix, get, set)) => out.push(Controller {
                kind,
                path: o.name.clone(),
                base: o.base,
                range: o.range,
                handle,
                statics: None,
                affix,
                get,
                set,
            }),
            None => {
                notes.push(format!(
                    "skipped {}: missing {}",
                    o.name,
                    missing.join(", ")
                ));
                // SAFETY: the handle from RTLD_NOLOAD above.
                unsafe { libc::dlclose(handle) };
            }
        }
    }
    discover_static(&mut out);
    out
}

fn buffers_of(base: usize) -> Option<Buffers> {
    let id = hooks::object_id_by_base(base)?;
    let maps: Vec<hooks::Mapping> = hooks::mappings()
        .into_iter()
        .filter(|m| m.object == id && !m.file_backed)
        // A BLAS linked statically shares the executable's slot with the
        // allocator: the allocator's mappings are not its buffers.
        .filter(|m| !crate::interpose::is_allocator_site(m.caller))
        .collect();
    let mut lens: Vec<usize> = maps
        .iter()
        .map(|m| m.len)
        .filter(|&l| l >= 1 << 20)
        .collect();
    lens.sort_unstable();
    let mut best = (0usize, 0usize);
    let mut i = 0;
    while i < lens.len() {
        let j = lens[i..].iter().take_while(|&&l| l == lens[i]).count();
        if j > best.1 {
            best = (lens[i], j);
        }
        i += j;
    }
    let (size, _) = best;
    // Buffers by bytes: a mapping adopted from smaps may be several buffers
    // the kernel merged into one VMA, so each counts as len / size.
    let sel: Vec<&hooks::Mapping> = maps.iter().filter(|m| size > 0 && m.len >= size).collect();
    Some(Buffers {
        buffer_size: size as u64,
        mapped: sel.iter().map(|m| (m.len / size) as u64).sum(),
        virtual_bytes: sel.iter().map(|m| m.len as u64).sum(),
        resident_bytes: sel
            .iter()
            .map(|m| crate::maps::resident_bytes(m.start, m.len).unwrap_or(0))
            .sum(),
    })
}

/// Finds the loaded runtimes and reports them (also patches objects loaded
/// since the hooks last looked, so their buffers are counted from now on).
///
/// ```
/// let info = arenaprof_native::blas::info();
/// assert!(info.runtimes.iter().all(|r| r.num_threads >= 1));
/// ```
pub fn info() -> Info {
    crate::scope::internal(|| {
        let mut notes = Vec::new();
        let ctrls = discover(&mut notes);
        let runtimes = ctrls.iter().map(|c| c.runtime(&mut notes)).collect();
        Info { runtimes, notes }
    })
}

/// One runtime's thread count change, with what the runtime's own
/// mappings did (from the hooks' table; `None` without hooks).
///
/// ```
/// let c = arenaprof_native::blas::ThreadChange {
///     kind: arenaprof_native::blas::Kind::OpenBlas, path: "libopenblas.so.0".into(),
///     previous: 16, now: 1, mapped_before: Some(2 << 30), mapped_after: Some(2 << 30),
/// };
/// assert_eq!(c.freed_bytes(), Some(0)); // OpenBLAS keeps its buffers
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadChange {
    /// Which runtime.
    pub kind: Kind,
    /// Its path.
    pub path: String,
    /// Thread count before.
    pub previous: i64,
    /// Thread count after (as the runtime reports it).
    pub now: i64,
    /// Live bytes mapped by the object before the change.
    pub mapped_before: Option<u64>,
    /// And after.
    pub mapped_after: Option<u64>,
}

impl ThreadChange {
    /// Bytes the change unmapped (0 for OpenBLAS: see the module docs).
    pub fn freed_bytes(&self) -> Option<u64> {
        Some(self.mapped_before?.saturating_sub(self.mapped_after?))
    }
}

fn mapped_by(base: usize) -> Option<u64> {
    hooks::object(hooks::object_id_by_base(base)?).map(|o| o.live_bytes)
}

/// Most recent thread-count changes kept by [`changes`].
pub const MAX_CHANGES: usize = 64;

static CHANGES: std::sync::Mutex<std::collections::VecDeque<ThreadChange>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// The thread-count changes made through this module ([`set_threads`],
/// [`limit`], [`limits`] and their restores), oldest first: the last
/// [`MAX_CHANGES`]. A snapshot reports them with what each freed.
///
/// ```
/// let before = arenaprof_native::blas::changes().len();
/// assert!(before <= arenaprof_native::blas::MAX_CHANGES);
/// ```
pub fn changes() -> Vec<ThreadChange> {
    CHANGES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

fn record(c: &[ThreadChange]) {
    if c.is_empty() {
        return;
    }
    let mut log = CHANGES.lock().unwrap_or_else(|e| e.into_inner());
    // Only counts that changed: a runtime already at the target is no change.
    for x in c.iter().filter(|x| x.previous != x.now) {
        if log.len() == MAX_CHANGES {
            log.pop_front();
        }
        log.push_back(x.clone());
    }
}

fn apply(ctrls: &[Controller], targets: &[i64]) -> Vec<ThreadChange> {
    let out = apply_unrecorded(ctrls, targets);
    record(&out);
    out
}

fn apply_unrecorded(ctrls: &[Controller], targets: &[i64]) -> Vec<ThreadChange> {
    ctrls
        .iter()
        .zip(targets)
        .map(|(c, &n)| {
            let previous = c.get_threads();
            let mapped_before = mapped_by(c.base);
            c.set_threads(n);
            ThreadChange {
                kind: c.kind,
                path: c.path.clone(),
                previous,
                now: c.get_threads(),
                mapped_before,
                mapped_after: mapped_by(c.base),
            }
        })
        .collect()
}

/// Sets every loaded runtime to `n` threads (at least 1). Returns one
/// [`ThreadChange`] per runtime found (empty when none was); a call that
/// changed no count is also kept in [`unchanged`] for the snapshot.
///
/// ```no_run
/// for c in arenaprof_native::blas::set_threads(1) {
///     println!("{}: {} -> {}, freed {:?} B", c.path, c.previous, c.now, c.freed_bytes());
/// }
/// ```
pub fn set_threads(n: usize) -> Vec<ThreadChange> {
    crate::scope::internal(|| {
        let mut notes = Vec::new();
        let ctrls = discover(&mut notes);
        let n = n.clamp(1, i32::MAX as usize) as i64;
        let out = apply(&ctrls, &vec![n; ctrls.len()]);
        note_if_nothing("set_threads", n, &out);
        out
    })
}

/// Requests that changed nothing, kept for the snapshot (the last
/// [`MAX_CHANGES`]), so a call that found no runtime is never silent.
static UNCHANGED: std::sync::Mutex<std::collections::VecDeque<String>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

fn note_if_nothing(what: &str, n: i64, out: &[ThreadChange]) {
    if out.iter().any(|c| c.previous != c.now) {
        return;
    }
    let why = if out.is_empty() {
        "no BLAS or OpenMP runtime was found in the process".to_string()
    } else {
        format!(
            "every runtime was already at {n} ({})",
            out.iter()
                .map(|c| c.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut log = UNCHANGED.lock().unwrap_or_else(|e| e.into_inner());
    if log.len() == MAX_CHANGES {
        log.pop_front();
    }
    log.push_back(format!("blas::{what}({n}) changed nothing: {why}"));
}

/// The thread-count requests ([`set_threads`], [`limit`], [`limits`]) that
/// changed no runtime, with the reason, oldest first (the last
/// [`MAX_CHANGES`]). A snapshot reports them among the BLAS notes.
///
/// ```
/// let before = arenaprof_native::blas::unchanged().len();
/// assert!(before <= arenaprof_native::blas::MAX_CHANGES);
/// ```
pub fn unchanged() -> Vec<String> {
    UNCHANGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// A scope in which every loaded runtime runs with a limited thread count;
/// the previous counts come back when it is dropped (like threadpoolctl's
/// `threadpool_limits` used as a context manager).
///
/// ```no_run
/// let guard = arenaprof_native::blas::limit(1);
/// // ... BLAS calls here use one thread ...
/// drop(guard); // previous counts restored
/// ```
pub struct Limit {
    ctrls: Vec<Controller>,
    previous: Vec<i64>,
    changes: Vec<ThreadChange>,
}

impl Limit {
    /// What entering the scope changed.
    pub fn changes(&self) -> &[ThreadChange] {
        &self.changes
    }
}

impl Drop for Limit {
    fn drop(&mut self) {
        apply(&self.ctrls, &self.previous);
    }
}

/// Limits every loaded runtime to `n` threads until the guard is dropped.
pub fn limit(n: usize) -> Limit {
    crate::scope::internal(|| {
        let mut notes = Vec::new();
        let ctrls = discover(&mut notes);
        let previous: Vec<i64> = ctrls.iter().map(|c| c.get_threads()).collect();
        let n = n.clamp(1, i32::MAX as usize) as i64;
        let changes = apply(&ctrls, &vec![n; ctrls.len()]);
        note_if_nothing("limit", n, &changes);
        Limit {
            ctrls,
            previous,
            changes,
        }
    })
}

/// Runs `f` with every loaded runtime limited to `n` threads, then restores
/// the previous counts (also if `f` panics).
///
/// ```
/// let v = arenaprof_native::blas::limits(1, || 7);
/// assert_eq!(v, 7);
/// ```
pub fn limits<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let _g = limit(n);
    f()
}

/// A library loaded with `dlopen` by [`open`]. It is never unloaded on drop
/// (unloading a BLAS whose worker threads are alive crashes the process);
/// use [`Library::close`] if you know it is safe.
#[derive(Debug)]
pub struct Library {
    handle: *mut c_void,
    name: String,
    adopted: u64,
}

// SAFETY: a dlopen handle may be used from any thread (dlsym/dlclose are
// thread-safe in glibc).
unsafe impl Send for Library {}
// SAFETY: as above; `symbol` only reads.
unsafe impl Sync for Library {}

impl Library {
    /// The address of `name` (searching the library and its dependencies).
    ///
    /// ```no_run
    /// let lib = arenaprof_native::blas::open(&["libopenblas.so.0"]).unwrap();
    /// assert!(lib.symbol("cblas_dgemm").is_some());
    /// ```
    pub fn symbol(&self, name: &str) -> Option<*mut c_void> {
        let c = CString::new(name).ok()?;
        // SAFETY: live handle, NUL-terminated name.
        let p = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        (!p.is_null()).then_some(p)
    }

    /// `C = A B` for square row-major `n x n` f64 matrices through the
    /// library's `cblas_dgemm`: what the tests, the demo and the figures
    /// example run. [`DgemmError`] when the library has no `cblas_dgemm` or
    /// a slice holds fewer than `n * n` elements.
    ///
    /// ```no_run
    /// let lib = arenaprof_native::blas::open(&["libopenblas.so.0"]).unwrap();
    /// let (a, b, mut c) = (vec![1.0; 4], vec![0.5; 4], vec![0.0; 4]);
    /// lib.dgemm_square(2, &a, &b, &mut c).unwrap();
    /// assert_eq!(c, [1.0; 4]);
    /// ```
    pub fn dgemm_square(
        &self,
        n: usize,
        a: &[f64],
        b: &[f64],
        c: &mut [f64],
    ) -> Result<(), DgemmError> {
        type Dgemm = unsafe extern "C" fn(
            c_int,
            c_int,
            c_int,
            c_int,
            c_int,
            c_int,
            f64,
            *const f64,
            c_int,
            *const f64,
            c_int,
            f64,
            *mut f64,
            c_int,
        );
        let nn = n.checked_mul(n).ok_or(DgemmError::Overflow { n })?;
        let ni = c_int::try_from(n).map_err(|_| DgemmError::NotCInt { n })?;
        if a.len() < nn || b.len() < nn || c.len() < nn {
            return Err(DgemmError::ShortOperands { n });
        }
        let p = self
            .symbol("cblas_dgemm")
            .ok_or_else(|| DgemmError::NoDgemm {
                library: self.name.clone(),
            })?;
        // SAFETY: `cblas_dgemm` has this C signature (cblas.h); a non-null
        // symbol of that name in a loaded BLAS is that function.
        let f = unsafe { std::mem::transmute::<*mut c_void, Dgemm>(p) };
        // SAFETY: row-major (101), no transposes (111); a, b and c hold at
        // least n x n doubles (checked above), leading dimension n.
        unsafe {
            f(
                101,
                111,
                111,
                ni,
                ni,
                ni,
                1.0,
                a.as_ptr(),
                ni,
                b.as_ptr(),
                ni,
                0.0,
                c.as_mut_ptr(),
                ni,
            )
        };
        Ok(())
    }

    /// The name it was opened with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes of anonymous memory that appeared while it loaded and were
    /// adopted for it (see [`open`]).
    pub fn adopted(&self) -> u64 {
        self.adopted
    }

    /// Unloads it (`dlclose`).
    ///
    /// # Safety
    /// No code or data of the library (and no thread it started) may be in
    /// use afterwards.
    pub unsafe fn close(self) -> bool {
        // SAFETY: per the caller's promise.
        unsafe { libc::dlclose(self.handle) == 0 }
    }
}

/// Why [`Library::dgemm_square`] did not run.
///
/// ```
/// use arenaprof_native::blas::DgemmError;
/// assert_eq!(
///     DgemmError::ShortOperands { n: 3 }.to_string(),
///     "operands hold fewer than 3 x 3 elements"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DgemmError {
    /// `n * n` overflows `usize`.
    Overflow {
        /// The size asked for.
        n: usize,
    },
    /// `n` does not fit the C `int` that `cblas_dgemm` takes.
    NotCInt {
        /// The size asked for.
        n: usize,
    },
    /// `a`, `b` or `c` holds fewer than `n * n` elements.
    ShortOperands {
        /// The size asked for.
        n: usize,
    },
    /// The library (and its dependencies) define no `cblas_dgemm`.
    NoDgemm {
        /// The name the library was opened with.
        library: String,
    },
}

impl std::fmt::Display for DgemmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DgemmError::Overflow { .. } => write!(f, "n * n overflows"),
            DgemmError::NotCInt { n } => write!(f, "n = {n} does not fit a C int"),
            DgemmError::ShortOperands { n } => {
                write!(f, "operands hold fewer than {n} x {n} elements")
            }
            DgemmError::NoDgemm { library } => write!(f, "{library} has no cblas_dgemm"),
        }
    }
}

impl std::error::Error for DgemmError {}

/// One name [`open`] tried that `dlopen` did not load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFailure {
    /// The name as given.
    pub name: String,
    /// `dlerror`'s message (it names the file and the reason), when it gave
    /// one.
    pub dlerror: Option<String>,
}

impl std::fmt::Display for OpenFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.dlerror {
            Some(m) => f.write_str(m),
            None => write!(f, "{}: not found", self.name),
        }
    }
}

/// Why [`open`] loaded nothing. Displayed as one line: each failure's
/// message, joined with `; `.
///
/// ```
/// let e = arenaprof_native::blas::open(&["libdoes-not-exist.so.0"]).unwrap_err();
/// let arenaprof_native::blas::OpenError::NotLoaded(tried) = &e else { unreachable!() };
/// assert_eq!(tried[0].name, "libdoes-not-exist.so.0");
/// assert!(e.to_string().contains("libdoes-not-exist.so.0"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// No name could be tried: `names` was empty, or every name held a NUL
    /// byte (such names are skipped). Displayed as an empty line.
    NoName,
    /// `dlopen` failed for every name tried, in the order tried.
    NotLoaded(Vec<OpenFailure>),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::NoName => Ok(()),
            OpenError::NotLoaded(tried) => {
                for (i, t) in tried.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{t}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for OpenError {}

/// Loads the first of `names` that `dlopen` finds (`RTLD_NOW | RTLD_LOCAL`).
///
/// With hooks installed, the new objects are patched as soon as `dlopen`
/// returns; but their constructors ran before that, and may have started
/// threads that map memory at once (OpenBLAS's pthreads build starts
/// `CPUs - 1` workers, each mapping its 32-128 MiB buffer when it starts).
/// So `open` compares `/proc/self/maps` before and after the load and
/// [adopts](hooks::adopt) for the opened object the anonymous read-write
/// ranges of 64 KiB or more that appeared meanwhile, are not in the hooks'
/// table, and are not thread stacks (a guard page right below). A mapping
/// another thread of the program made during the load would be adopted
/// too; [`Library::adopted`] says how many bytes were.
///
/// ```
/// let r = arenaprof_native::blas::open(&["libdoes-not-exist.so.0"]);
/// assert!(r.is_err());
/// ```
pub fn open(names: &[&str]) -> Result<Library, OpenError> {
    crate::scope::internal(|| {
        let mut errs = Vec::new();
        for n in names {
            let Ok(c) = CString::new(*n) else { continue };
            let watch = hooks::is_installed();
            let before = if watch {
                crate::maps::read_maps().ok()
            } else {
                None
            };
            let objs_before: Vec<usize> = if watch {
                elf::loaded_objects().iter().map(|o| o.base).collect()
            } else {
                Vec::new()
            };
            // SAFETY: dlopen with a NUL-terminated name; running the library's
            // constructors is what the caller asked for.
            let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
            if !h.is_null() {
                let mut lib = Library {
                    handle: h,
                    name: n.to_string(),
                    adopted: 0,
                };
                if let Some(before) = before {
                    hooks::refresh();
                    lib.adopted = adopt_load_mappings(n, &before, &objs_before);
                }
                return Ok(lib);
            }
            // SAFETY: dlerror returns null or a NUL-terminated message.
            let e = unsafe { libc::dlerror() };
            errs.push(OpenFailure {
                name: n.to_string(),
                dlerror: (!e.is_null()).then(|| {
                    // SAFETY: non-null message from dlerror.
                    unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
                }),
            });
        }
        Err(if errs.is_empty() {
            OpenError::NoName
        } else {
            OpenError::NotLoaded(errs)
        })
    })
}

/// `[s, e)` minus the sorted, disjoint `cuts`.
fn subtract(s: u64, e: u64, cuts: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut cur = s;
    let first = cuts.partition_point(|c| c.1 <= s);
    for &(cs, ce) in &cuts[first..] {
        if cs >= e {
            break;
        }
        if cs > cur {
            out.push((cur, cs.min(e)));
        }
        cur = cur.max(ce);
        if cur >= e {
            break;
        }
    }
    if cur < e {
        out.push((cur, e));
    }
    out
}

fn adopt_load_mappings(name: &str, before: &crate::maps::Smaps, objs_before: &[usize]) -> u64 {
    let Ok(after) = crate::maps::read_maps() else {
        return 0;
    };
    let new_objs: Vec<elf::LoadedObject> = elf::loaded_objects()
        .into_iter()
        .filter(|o| o.index > 0 && !objs_before.contains(&o.base))
        .collect();
    let stem = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .split(".so")
        .next()
        .unwrap_or(name);
    let Some(obj) = new_objs
        .iter()
        .find(|o| o.name.contains(stem))
        .or(new_objs.first())
    else {
        return 0;
    };
    let Some(id) = hooks::object_id_by_base(obj.base) else {
        return 0;
    };
    let mut cuts: Vec<(u64, u64)> = before.vmas.iter().map(|v| (v.start, v.end)).collect();
    cuts.extend(
        hooks::mappings()
            .iter()
            .map(|m| (m.start as u64, m.end() as u64)),
    );
    cuts.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(cuts.len());
    for (s, e) in cuts {
        match merged.last_mut() {
            Some(l) if s <= l.1 => l.1 = l.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut adopted = 0;
    for (i, v) in after.vmas.iter().enumerate() {
        if !(v.is_anonymous() && v.perms.read && v.perms.write && !v.perms.shared)
            || v.name != Some(crate::maps::VmaName::Anonymous)
        {
            continue;
        }
        let guard_below =
            i > 0 && after.vmas[i - 1].end == v.start && after.vmas[i - 1].perms.is_none();
        if guard_below {
            continue;
        }
        for (s, e) in subtract(v.start, v.end, &merged) {
            if e - s >= 64 << 10 && hooks::adopt(s as usize, (e - s) as usize, id) {
                adopted += e - s;
            }
        }
    }
    adopted
}

#[cfg(test)]
mod tests {
    use super::subtract;

    #[test]
    fn subtract_ranges() {
        assert_eq!(subtract(0, 100, &[]), vec![(0, 100)]);
        assert_eq!(
            subtract(0, 100, &[(10, 20), (50, 60)]),
            vec![(0, 10), (20, 50), (60, 100)]
        );
        assert_eq!(subtract(10, 20, &[(0, 15), (18, 30)]), vec![(15, 18)]);
        assert_eq!(subtract(10, 20, &[(0, 30)]), vec![]);
        assert_eq!(subtract(10, 20, &[(0, 5), (25, 30)]), vec![(10, 20)]);
    }
}
