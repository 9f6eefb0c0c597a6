#!/usr/bin/env bash
# Runs the allocator's, the array crate's and the GEMM crate's tests under
# AddressSanitizer (nightly). Every crate is built with --no-default-features,
# which takes jemalloc out of the tracker: the system allocator is inside, so
# ASan's own malloc sees every block and its redzones catch any header,
# bounds or workspace mistake.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
# allocator_may_return_null: huge requests (the fallible-constructor tests)
# return null, as from a real allocator, instead of aborting.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
# Every fork copies ASan's shadow memory: 30 forks per mode instead of 300.
export ARENAPROF_FORKS="${ARENAPROF_FORKS:-30}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/asan}"
asan_test() {
  cargo +nightly test --target x86_64-unknown-linux-gnu --no-default-features "$@"
}
# Skipped: the one test that checks how the process's mappings are grouped.
# ASan's allocator puts guard pages around large blocks, so they look like
# thread stacks to the grouping heuristic (it passes with the system
# allocator without ASan).
asan_test -p arenaprof-alloc --tests -- --skip snapshots_measure_the_mappings
asan_test -p arenaprof-array --tests
asan_test -p arenaprof-gemm --tests
asan_test -p arenaprof --test thread_exit
