#!/usr/bin/env bash
# Installs the Debian 12 packages projcache needs to build; --test, --fuzz, --bench, --coverage
# or --wheel add what those need.
# Does nothing when they are all present. Run as root (or with sudo available).
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-log1.81-dev libboost-url1.81-dev
  libboost-program-options1.81-dev libboost-test1.81-dev libboost-system1.81-dev
  libboost-thread1.81-dev libboost-filesystem1.81-dev
  libsqlite3-dev sqlite3 libtomlplusplus-dev libssl-dev openssl ca-certificates
)
browser=false
case "${1:-}" in
  --wheel) pkgs+=(python3 python3-build python3-setuptools python3-wheel python3-venv binutils) ;;
  --test)
    # Debian 12's FastAPI 0.92 (pydantic 1), httpx and uvicorn: the oldest the integration supports.
    pkgs+=(python3 python3-pytest python3-websockets chromium python3-fastapi python3-httpx python3-uvicorn)
    pkgs+=(python3-build python3-setuptools python3-wheel python3-venv binutils)
    pkgs+=(zsh groff-base)  # the installed completion and man page are checked with them
    # Node.js for the browser test: Debian's, unless the machine already has one.
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
    pkgs+=(clang-16 libfuzzer-16-dev libclang-rt-16-dev)  # the short fuzz runs (scripts/fuzz.sh)
    browser=true ;;
  --fuzz) pkgs+=(clang-16 libfuzzer-16-dev libclang-rt-16-dev) ;;
  --bench) pkgs+=(python3 python3-websockets wrk gnuplot-nox) ;;
  --coverage) pkgs+=(lcov python3 python3-pytest python3-websockets) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

here="$(cd "$(dirname "$0")/.." && pwd)"
# The TypeScript client's compiler and the JavaScript tests' libraries (playwright-core drives
# Debian's chromium), and the oldest React and React Query the binding supports (test/oldest),
# exactly as their package-lock.json files pin them; reinstalled when a lock file changes.
for ts in "$here/clients/typescript" "$here/clients/typescript/test/oldest"; do
  if $browser && [ "$(cat "$ts/node_modules/.lock-sha" 2>/dev/null)" != "$(sha256sum < "$ts/package-lock.json")" ]; then
    echo "deps: npm ci in ${ts#"$here/"}" >&2
    npm ci --prefix "$ts" --no-audit --no-fund --silent >/dev/null
    sha256sum < "$ts/package-lock.json" > "$ts/node_modules/.lock-sha"
  fi
done
