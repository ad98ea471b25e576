# Sourced by the build scripts (test, wheel, fuzz, run, coverage, bench): one ccache for every
# clone of this repository on the machine, whatever HOME is, so a fresh clone (or a CI job with
# a new HOME) reuses what the last build compiled.
# - CCACHE_DIR: .projcache-ccache in the clone's parent folder, unless CCACHE_DIR is set already
#   (clones side by side share it); ccache's own default when that folder is not writable;
# - CCACHE_BASEDIR: paths under the clone are hashed relative to it, so /tmp/a and /tmp/b match;
# - CCACHE_NOHASHDIR: the build folder is not part of the key (-g would otherwise put it there);
# - CCACHE_SLOPPINESS: what ccache needs to cache the files compiled with src/net's
#   precompiled header.
_projcache_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${CCACHE_DIR:-}" ] && [ -w "$(dirname "$_projcache_root")" ]; then
  export CCACHE_DIR="$(dirname "$_projcache_root")/.projcache-ccache"
fi
export CCACHE_BASEDIR="$_projcache_root"
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros}"
unset _projcache_root
