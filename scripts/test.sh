#!/usr/bin/env bash
# Builds projcache with AddressSanitizer + UBSan and runs the whole test suite (ctest).
# Installs the Debian packages it needs first (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPROJCACHE_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
cmake --build build/test -j2
cd build/test
ctest --output-on-failure -j2 --timeout 600
