#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium for the HTML report test (tools/arenaprof/tests/cli_html.rs)
# and the system OpenBLAS, loaded at run time by the tests of memory outside
# the allocator (tests/native_openblas.rs, crates/arenaprof-native/tests/openblas.rs,
# the demo's test; libopenblas-dev to link it at build time), and Go for `go tool pprof` (tools/arenaprof/tests/cli_pprof_go.rs);
# with CI=true those fail rather than skip without it.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0 ' || missing+=(libopenblas0-pthread)
# libopenblas.so and libopenblas.a, for the programs that link OpenBLAS at
# build time and statically (tests/openblas_linked.rs, tests/openblas_static.rs).
[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || missing+=(libopenblas-dev)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Every test, arenaprof::bench's (feature `bench`, off by default) included.
cargo test --workspace --features arenaprof/bench
