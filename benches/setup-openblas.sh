#!/usr/bin/env bash
# Installs the system OpenBLAS (cblas + libopenblas.so) that `benches/gemm.rs`
# links with `--features openblas`. Debian/Ubuntu; needs root (or sudo).
#
#   bash benches/setup-openblas.sh
#   cargo bench --bench gemm --features openblas
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' && [ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] \
    || ls /usr/lib/*/libopenblas.so >/dev/null 2>&1; then
    echo "libopenblas-dev already installed"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y libopenblas-dev
