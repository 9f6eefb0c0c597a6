//! A simulated OpenBLAS, for machines without the library. It does with
//! memory what OpenBLAS's threaded dgemm does, and its figures are measured
//! on what it does (never presented as the library's):
//!
//! - one buffer of [`BUFFER_SIZE`] per configured thread (NumPy's wheels'
//!   `BUFFER_SIZE`), mapped with `mmap` at the first call and never
//!   unmapped, outside the allocator;
//! - every configured thread runs (as OpenBLAS's do, however many cores
//!   there are) and, for each block of [`GEMM_Q`] columns of A, packs its
//!   rows of A at the start of its buffer and its share of the columns of B
//!   [`SB_OFFSET`] in (OpenBLAS's `sa`/`sb` layout for Haswell's dgemm:
//!   `GEMM_P × GEMM_Q` doubles for A first); then multiplies its rows of A
//!   by every thread's packed slice of B. So the pages it touches are the
//!   pages OpenBLAS's packing touches: each thread's A block and B slice.

use std::sync::Barrier;

/// NumPy's wheels' OpenBLAS buffer per thread (Debian's is 128 MiB).
pub const BUFFER_SIZE: usize = 32 << 20;
/// Columns of A (rows of B) packed at a time (OpenBLAS's `DGEMM_Q` for Haswell).
pub const GEMM_Q: usize = 256;
/// Rows of A packed at a time (OpenBLAS's `DGEMM_P` for Haswell).
pub const GEMM_P: usize = 512;
/// Where the packed B slice starts: after `DGEMM_P × DGEMM_Q` doubles.
pub const SB_OFFSET: usize = GEMM_P * GEMM_Q * 8;

/// The buffers, mapped once, never unmapped (as OpenBLAS's).
pub struct Buffers {
    ptrs: Vec<usize>,
}

/// A pointer that may cross into the scoped threads.
#[derive(Clone, Copy)]
struct Ptr(usize);

impl Buffers {
    /// Maps `threads` buffers (address space only: no page is touched).
    pub fn map(threads: usize) -> Result<Buffers, String> {
        let mut ptrs = Vec::with_capacity(threads);
        for _ in 0..threads {
            // SAFETY: an anonymous private mapping with no address hint.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    BUFFER_SIZE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(format!(
                    "mmap of a {} MiB buffer failed: {}",
                    BUFFER_SIZE >> 20,
                    std::io::Error::last_os_error()
                ));
            }
            ptrs.push(p as usize);
        }
        Ok(Buffers { ptrs })
    }

    /// `(start, len)` of each buffer.
    pub fn ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.ptrs.iter().map(|&p| (p, BUFFER_SIZE))
    }

    /// Threads (one buffer each).
    pub fn len(&self) -> usize {
        self.ptrs.len()
    }

    /// C = A B (row-major `n x n`), on one thread per buffer.
    ///
    /// # Panics
    /// If a thread's packed slice of B would not fit in its buffer
    /// (`n > 15872`).
    pub fn dgemm(&self, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        assert!(
            SB_OFFSET + GEMM_Q * n * 8 <= BUFFER_SIZE,
            "n = {n} is too large"
        );
        assert!(a.len() >= n * n && b.len() >= n * n && c.len() >= n * n);
        let t = self.ptrs.len().min(n).max(1);
        let split = |i: usize| (i * n / t, (i + 1) * n / t);
        let barrier = Barrier::new(t);
        let cptr = Ptr(c.as_mut_ptr() as usize);
        let bufs: Vec<Ptr> = self.ptrs.iter().map(|&p| Ptr(p)).collect();
        let bufs = &bufs;
        let barrier = &barrier;
        std::thread::scope(|s| {
            for me in 0..t {
                s.spawn(move || {
                    let (r0, r1) = split(me);
                    let (c0, c1) = split(me);
                    let cols = c1 - c0;
                    let sa = bufs[me].0 as *mut f64;
                    let sb = (bufs[me].0 + SB_OFFSET) as *mut f64;
                    for (kb, k0) in (0..n).step_by(GEMM_Q).enumerate() {
                        let kq = GEMM_Q.min(n - k0);
                        // This thread's share of B[k0..k0+kq, ..]: columns c0..c1.
                        for k in 0..kq {
                            for j in 0..cols {
                                // SAFETY: kq*cols doubles after SB_OFFSET fit
                                // in the buffer (asserted above); only this
                                // thread writes its buffer.
                                unsafe { *sb.add(k * cols + j) = b[(k0 + k) * n + c0 + j] };
                            }
                        }
                        barrier.wait();
                        for m0 in (r0..r1).step_by(GEMM_P) {
                            let rows = GEMM_P.min(r1 - m0);
                            // A[m0..m0+rows, k0..k0+kq] at the start of the buffer.
                            for i in 0..rows {
                                for k in 0..kq {
                                    // SAFETY: i*kq+k < GEMM_P*GEMM_Q doubles,
                                    // so below SB_OFFSET; this thread's buffer.
                                    unsafe { *sa.add(i * kq + k) = a[(m0 + i) * n + k0 + k] };
                                }
                            }
                            for (u, buf) in bufs.iter().enumerate().take(t) {
                                let (u0, u1) = split(u);
                                let sbu = (buf.0 + SB_OFFSET) as *const f64;
                                // SAFETY: sa is rows x kq (row stride kq);
                                // thread u's slice is kq x (u1-u0) (row stride
                                // u1-u0), written before the barrier and not
                                // written again before the next one; C's rows
                                // m0..m0+rows belong to this thread (stride n).
                                unsafe {
                                    matrixmultiply::dgemm(
                                        rows,
                                        kq,
                                        u1 - u0,
                                        1.0,
                                        sa,
                                        kq as isize,
                                        1,
                                        sbu,
                                        (u1 - u0) as isize,
                                        1,
                                        if kb == 0 { 0.0 } else { 1.0 },
                                        (cptr.0 as *mut f64).add(m0 * n + u0),
                                        n as isize,
                                        1,
                                    )
                                };
                            }
                        }
                        barrier.wait();
                    }
                });
            }
        });
    }
}
