#!/usr/bin/env bash
# Builds projcache with AddressSanitizer + UBSan and runs the whole test suite (ctest): unit,
# black-box, Python (Debian 12's libraries and a current websockets), the wheel, the browser;
# then each fuzz harness for 20 s (scripts/fuzz.sh), so a regression there shows too.
# Installs the Debian packages it needs first (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ccache_env.sh
scripts/deps.sh --test
scripts/current_pylibs.sh build/pylibs
scripts/wheel.sh
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPROJCACHE_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DPROJCACHE_WHEEL_DIR="$PWD/dist" >/dev/null
cmake --build build/test -j2
(cd build/test && ctest --output-on-failure -j2 --timeout 600)
scripts/fuzz.sh 20
