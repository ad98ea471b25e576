#!/usr/bin/env bash
# Line coverage of src/db/ (and the rest) with gcov/lcov: builds an instrumented copy, runs the
# unit tests, prints the summary and writes build/coverage/html/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ccache_env.sh
scripts/deps.sh --coverage
cmake -S . -B build/coverage -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPROJCACHE_COVERAGE=ON >/dev/null
cmake --build build/coverage -j2 --target test_db test_events test_world test_cache_service test_net_units
lcov --quiet --zerocounters --directory build/coverage
(cd build/coverage && ctest -j2 -R 'test_db|test_events|test_world|test_cache_service|test_net_units' --output-on-failure)
lcov --quiet --capture --directory build/coverage --output-file build/coverage/all.info
lcov --quiet --extract build/coverage/all.info "$PWD/src/*" --output-file build/coverage/src.info
lcov --quiet --extract build/coverage/all.info "$PWD/src/db/*" --output-file build/coverage/db.info
echo "== src/db/"; lcov --summary build/coverage/db.info 2>&1 | grep -E "lines|functions"
echo "== src/";    lcov --summary build/coverage/src.info 2>&1 | grep -E "lines|functions"
genhtml --quiet build/coverage/src.info --output-directory build/coverage/html
