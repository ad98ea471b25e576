#!/usr/bin/env bash
# Builds projcache (Release) and serves: your SkillMeat home (~/.skillmeat or $SKILLMEAT_HOME)
# when there is one, else a generated demo world. Extra arguments go to `projcache serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ccache_env.sh
scripts/deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPROJCACHE_TESTS=OFF >/dev/null
cmake --build build/release -j2 --target projcache
exec build/release/projcache serve --demo-if-missing --exit-with-parent false "$@"
