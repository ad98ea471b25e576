#!/usr/bin/env bash
# Builds the Python wheel that carries the server: dist/projcache-<version>-py3-none-<platform>.whl.
# The bundled binary is a Release build with Boost, SQLite, OpenSSL, toml++ and libstdc++ linked
# in, so it needs only glibc; the platform tag names this machine's glibc. Offline: Debian's
# Python build tools, no package index (--no-isolation).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ccache_env.sh
root=$PWD
scripts/deps.sh --wheel

cmake -S . -B build/wheel -G Ninja -DCMAKE_BUILD_TYPE=Release -DPROJCACHE_STATIC=ON -DPROJCACHE_TESTS=OFF >/dev/null
cmake --build build/wheel -j2 --target projcache
binary=build/wheel/projcache

# Nothing but glibc (and the loader) may be needed at run time.
if ldd "$binary" | grep -Eiq 'boost|sqlite|libssl|libcrypto|toml|libstdc\+\+|libgcc_s'; then
  echo "wheel: the binary still links these dynamically:" >&2
  ldd "$binary" | grep -Ei 'boost|sqlite|libssl|libcrypto|toml|libstdc\+\+|libgcc_s' >&2
  exit 1
fi

version=$("$binary" version | awk '{print $NF}')
py_version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' clients/python/projcache/__init__.py)
if [ "$version" != "$py_version" ]; then
  echo "wheel: the binary says $version but clients/python/projcache says $py_version; make them agree" >&2
  exit 1
fi
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
platform="manylinux_${glibc%%.*}_${glibc#*.}_$(uname -m)"

# Build from a copy, so the source tree gets no build/ or egg-info.
stage=build/wheel/stage
rm -rf "$stage"
mkdir -p "$stage"
cp -r clients/python/projcache clients/python/pyproject.toml clients/python/setup.py clients/python/README.md "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$stage/projcache/bin"
strip -o "$stage/projcache/bin/projcache" "$binary"
mkdir -p dist
rm -f dist/projcache-"$version"-*.whl
# -P: the build/ folder of this repository must not shadow the `build` module.
PROJCACHE_WHEEL_PLATFORM=$platform /usr/bin/python3 -P -m build --wheel --no-isolation --outdir "$root/dist" "$stage" >build/wheel/build.log 2>&1 || {
  cat build/wheel/build.log >&2
  exit 1
}
ls dist/projcache-"$version"-py3-none-"$platform".whl
