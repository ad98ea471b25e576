#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang-16 with ASan and UBSan) and runs each one for
# SECONDS (default 60), one after another. Inputs that find new paths are kept in
# build/fuzz/corpus/<harness>/ (the committed seeds in fuzz/corpus/ are only read); a crash stops
# the run with its reproducer in build/fuzz/artifacts/ and the harness's exit code.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ccache_env.sh
secs="${1:-60}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(fuzz_http fuzz_ws_message fuzz_toml fuzz_front_matter fuzz_version_diff fuzz_ids_paths fuzz_snapshot)

scripts/deps.sh --fuzz
CC=clang-16 CXX=clang++-16 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DPROJCACHE_FUZZ=ON -DPROJCACHE_TESTS=OFF \
  -Wno-dev >/dev/null
cmake --build build/fuzz -j2 --target "${harnesses[@]}"

mkdir -p build/fuzz/artifacts
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for h in "${harnesses[@]}"; do
  mkdir -p "build/fuzz/corpus/$h"
  echo "fuzz: $h for ${secs}s" >&2
  # -timeout: an input taking 10 s is a hang, and reported as one.
  "build/fuzz/fuzz/$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=3072 -max_len=16384 \
    -artifact_prefix="build/fuzz/artifacts/$h-" -print_final_stats=1 \
    "build/fuzz/corpus/$h" "fuzz/corpus/$h" 2>"build/fuzz/$h.log" || {
      rc=$?
      tail -60 "build/fuzz/$h.log" >&2
      echo "fuzz: $h failed (exit $rc); reproducer in build/fuzz/artifacts/" >&2
      exit "$rc"
    }
  grep -E "^stat::number_of_executed_units|^stat::new_units_added" "build/fuzz/$h.log" | tr '\n' ' ' >&2
  echo >&2
done
