//! arenaprof's benchmarks (`cargo bench -p arenaprof-benches`) and their
//! vendored baseline (`vendor/matrixmultiply-threaded`). Not published; the
//! library is empty. What each bench measures and the figures of the last
//! runs: `docs/performance.md`.
