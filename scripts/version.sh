#!/usr/bin/env bash
# version.sh prints Confab's version, taken from git.
#
#   scripts/version.sh              the git version, as the binaries report it:
#                                   `git describe --tags --always --dirty`
#                                   (v0.1.0, v0.1.0-3-gabc1234, 5defc7f-dirty),
#                                   or "dev" outside a git checkout
#   scripts/version.sh --deb [V]    V (default: the git version) as a Debian
#                                   package version, which must start with a
#                                   digit and sort in release order:
#     v0.1.0                  -> 0.1.0
#     v0.1.0-rc1              -> 0.1.0~rc1            (before 0.1.0)
#     v0.1.0-3-gabc1234       -> 0.1.0+git3.gabc1234  (after 0.1.0)
#     v0.1.0-3-gabc1234-dirty -> 0.1.0+git3.gabc1234.dirty
#     5defc7f (no tag yet)    -> 0.0.0~git<commits>.g5defc7f (before any release)
#     dev                     -> 0.0.0~dev
set -euo pipefail

git_version() {
  git -C "$(dirname "$0")/.." describe --tags --always --dirty 2>/dev/null || echo dev
}

deb_version() {
  local v=$1 dirty="" base rest count hash
  if [[ $v == *-dirty ]]; then dirty=.dirty; v=${v%-dirty}; fi
  v=${v#v}
  if [[ $v =~ ^([0-9]+(\.[0-9]+)*)(-([0-9A-Za-z.]+))?-([0-9]+)-g([0-9a-f]+)$ ]]; then
    # tag-N-gHASH: N commits after a tag
    base=${BASH_REMATCH[1]}; rest=${BASH_REMATCH[4]}
    count=${BASH_REMATCH[5]}; hash=${BASH_REMATCH[6]}
    [ -n "$rest" ] && base="$base~$rest"
    echo "$base+git$count.g$hash$dirty"
  elif [[ $v =~ ^([0-9]+(\.[0-9]+)*)(-([0-9A-Za-z.]+))?$ ]]; then
    # a tag: 0.1.0 or 0.1.0-rc1
    base=${BASH_REMATCH[1]}; rest=${BASH_REMATCH[4]}
    [ -n "$rest" ] && base="$base~$rest"
    echo "$base$dirty"
  elif [[ $v =~ ^[0-9a-f]{7,40}$ ]]; then
    # a bare commit: no tag in the history yet
    count=$(git -C "$(dirname "$0")/.." rev-list --count "$v" 2>/dev/null || echo 0)
    echo "0.0.0~git$count.g$v$dirty"
  else
    # anything else (dev, a branch name): keep what is legal in a version
    echo "0.0.0~$(printf '%s' "$v" | tr -c '0-9A-Za-z.+~' '.')$dirty"
  fi
}

case "${1:-}" in
  "") git_version ;;
  --deb) deb_version "${2:-$(git_version)}" ;;
  *) echo "usage: $0 [--deb [VERSION]]" >&2; exit 2 ;;
esac
