#!/usr/bin/env bash
# Unpacks Debian 13 (trixie)'s pure-Python packages that the Python tests also run against, so
# they cover the oldest version we support (Debian 12's, installed) and a current one:
#   scripts/current_pylibs.sh DEST  ->  DEST/<package>/ holds an unpacked python3-<package>
# apt reads trixie through a configuration of its own under DEST: the system's sources,
# package lists and installed packages are untouched, and nothing lands on a user's path.
set -euo pipefail
dest=$(mkdir -p "$1" && cd "$1" && pwd)
packages=(websockets)

missing=()
for p in "${packages[@]}"; do [ -d "$dest/$p/usr/lib/python3/dist-packages" ] || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

# The mirror this machine already uses, with trixie as the suite.
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
if [ -z "$uri" ]; then
  echo "current_pylibs: no Debian mirror found in /etc/apt to fetch trixie's packages from" >&2
  exit 1
fi
apt_dir=$dest/apt
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "$uri" >"$apt_dir/sources.list.d/trixie.sources"
opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
      -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
      -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=/dev/null"
      -o "APT::Sandbox::User=root")
apt-get "${opts[@]}" -qq update
for p in "${missing[@]}"; do
  (cd "$apt_dir/debs" && apt-get "${opts[@]}" -qq download "python3-$p")
  rm -rf "$dest/$p"
  dpkg -x "$apt_dir/debs"/python3-"$p"_*.deb "$dest/$p"
  echo "current_pylibs: python3-$p $(dpkg-deb -f "$apt_dir/debs"/python3-"$p"_*.deb Version) in $dest/$p" >&2
done
