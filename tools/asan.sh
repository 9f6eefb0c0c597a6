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
export ASAN_OPTIONS="detect_leaks=0"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/asan}"
asan_test() {
  cargo +nightly test --target x86_64-unknown-linux-gnu --no-default-features "$@"
}
asan_test -p arenaprof-alloc --tests
asan_test -p arenaprof-array --tests
asan_test -p arenaprof-gemm --tests
asan_test -p arenaprof --test thread_exit
