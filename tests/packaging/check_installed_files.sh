#!/bin/sh
# The files cmake --install put under PREFIX work: bash completes commands and each command's own
# flags, zsh reads its completion, the man page renders without warnings and names every command,
# the service files parse and start the installed binary's serve.
set -eu
P=$1
export PATH="$P/bin:$PATH"

complete_words() {  # complete_words WORD... : what bash offers for the last word
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _projcache; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$P/share/bash-completion/completions/projcache" "$@"
}
complete_words projcache re | grep -qx refresh || { echo "bash: 'projcache re' does not complete to refresh"; exit 1; }
complete_words projcache refresh --off | grep -qx -- --offline || { echo "bash: refresh --offline missing"; exit 1; }
! complete_words projcache status --po | grep -q -- --port || { echo "bash: status offers --port"; exit 1; }
complete_words projcache serve --ttl | grep -qx -- --ttl-minutes || { echo "bash: serve --ttl-minutes missing"; exit 1; }

if command -v zsh >/dev/null 2>&1; then
  zsh -n "$P/share/zsh/site-functions/_projcache" || { echo "zsh: the completion does not parse"; exit 1; }
  zsh -fc "fpath=($P/share/zsh/site-functions \$fpath); autoload -Uz compinit; compinit -u -d /tmp/zcd.\$\$;
           [[ \${_comps[projcache]} == _projcache ]]" || { echo "zsh: compinit does not pick _projcache up"; exit 1; }
fi

warnings=$(groff -man -Tutf8 -ww -z "$P/share/man/man1/projcache.1" 2>&1)
[ -z "$warnings" ] || { echo "man page warnings: $warnings"; exit 1; }
page=$(groff -man -Tutf8 "$P/share/man/man1/projcache.1" 2>/dev/null | sed 's/.\x08//g')
for c in serve status refresh clear check vacuum migrate demo completion; do
  echo "$page" | grep -q "^   $c" || { echo "man page: no section for $c"; exit 1; }
done
echo "$page" | grep -q -- "--ttl-minutes" || { echo "man page: --ttl-minutes missing"; exit 1; }
echo "$page" | grep -q "SKILLMEAT_CACHE_REFRESH_INTERVAL_HOURS" || { echo "man page: an environment name is broken"; exit 1; }

python3 - "$P" <<'PY'
import configparser, plistlib, sys
p = sys.argv[1]
unit = configparser.ConfigParser(strict=False, interpolation=None)
unit.read(p + "/lib/systemd/user/projcache.service")
exec_start = unit["Service"]["ExecStart"].split()
assert exec_start[0].endswith("/bin/projcache") and exec_start[1] == "serve", exec_start
assert unit["Install"]["WantedBy"] == "default.target"
with open(p + "/share/projcache/launchd/dev.projcache.plist", "rb") as f:
    plist = plistlib.load(f)
assert plist["Label"] == "dev.projcache"
assert plist["ProgramArguments"][0] == exec_start[0] and plist["ProgramArguments"][1] == "serve", plist
PY
echo "completion, man page and service files work"
