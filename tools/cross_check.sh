#!/usr/bin/env bash
# Cross-compile check: build the C kernels for aarch64 with Debian's cross GCC (the portable
# kernels only: no x86 flag, no x86 kernel) and link them into tools/kernels_only's program;
# run it under qemu-aarch64 when that is installed.  Needs gcc-aarch64-linux-gnu.
#     tools/cross_check.sh [BUILD_DIR]        (default build/cross-aarch64)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/cross-aarch64}
cmake -S tools/kernels_only -B "$build" -DCMAKE_SYSTEM_NAME=Linux \
  -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc \
  -DCMAKE_C_FLAGS=-Werror $(command -v ninja > /dev/null && echo -G Ninja) > "$build.log"
cmake --build "$build" --parallel "$(nproc)" >> "$build.log" || { tail -40 "$build.log"; exit 1; }
grep "fastconv:" "$build.log"
file "$build/link_check" 2>/dev/null || true
if command -v qemu-aarch64 > /dev/null; then
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/link_check"
fi
