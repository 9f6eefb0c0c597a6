#!/usr/bin/env bash
# Runs the allocator's and the array registry's tests under AddressSanitizer
# (nightly). The inner allocator is the system one (--no-default-features),
# so ASan's own malloc sees every block and its redzones catch any header or
# bounds mistake.
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
asan_test -p arenaprof-array --lib
asan_test -p arenaprof --test array_threads --test array_chain --test array_cow \
  --test array_fault --test thread_exit
