#!/usr/bin/env bash
# package-windows.sh builds Confab for 64-bit Windows on Linux
# (make package-windows):
#
#   dist/Confab-<version>-setup.exe   the installer (NSIS, packaging/windows/confab.nsi):
#                                     confab.exe, confab-server.exe, the
#                                     licences of what they contain
#   dist/windows/                     the same files, as installed
#
# 1. scripts/winlibs.sh cross-builds libvpx, opus, libyuv and speexdsp from
#    Debian's source packages into ~/.cache/confab-win (once; reused);
# 2. the icon, manifest and version resource (packaging/windows/confab.rc.in)
#    become a .syso with x86_64-w64-mingw32-windres;
# 3. confab.exe: CGO_ENABLED=1 GOOS=windows with the mingw-w64 cross
#    compilers, linked statically (-extldflags -static), so it needs no DLL
#    beyond Windows' own; confab-server.exe: CGO_ENABLED=0;
# 4. makensis writes the installer.
#
# VERSION (git describe) comes from the Makefile, else scripts/version.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
HOST=x86_64-w64-mingw32
VERSION=${VERSION:-$(scripts/version.sh)}
PKG_VERSION=${VERSION#v}
DIST=dist
STAGE=$DIST/stage-windows
OUT=$DIST/windows
SETUP=$DIST/Confab-$PKG_VERSION-setup.exe
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

say() { echo "package-windows: $*"; }
die() { echo "package-windows: $*" >&2; exit 1; }

# version4 V: V as the four numbers a Windows version resource holds:
# v0.1.0 -> 0.1.0.0, v0.1.0-3-gabc1234 -> 0.1.0.3, a bare commit -> 0.0.0.<commits>.
version4() {
  local v=${1#v} n
  v=${v%-dirty}
  if [[ $v =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.]+)?-([0-9]+)-g[0-9a-f]+$ ]]; then
    n="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}.${BASH_REMATCH[5]}"
  elif [[ $v =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
    n="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}.0"
  elif [[ $v =~ ^[0-9a-f]{7,40}$ ]]; then
    n="0.0.0.$(git rev-list --count "$v" 2>/dev/null || echo 0)"
  else
    n=0.0.0.0
  fi
  # Each part is 16 bits.
  awk -F. '{ for (i = 1; i <= 4; i++) if ($i > 65535) $i = 65535; print $1 "." $2 "." $3 "." $4 }' <<<"$n"
}
VERSION4=$(version4 "$VERSION")

for t in $HOST-gcc $HOST-g++ $HOST-windres $HOST-objdump makensis convert; do
  command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh windows installs it)"
done

say "version $VERSION ($VERSION4)"
PREFIX=$(scripts/winlibs.sh)

rm -rf "$STAGE" "$DIST/_winsrc" "$OUT"
mkdir -p "$STAGE" "$OUT"
ABS_STAGE=$(realpath "$STAGE")

# The icon: every size Windows asks for, from the app's 512x512 PNG.
convert assets/icon.png -define icon:auto-resize=256,128,64,48,32,24,16 "$STAGE/confab.ico"

# resource NAME DESCRIPTION DIR: compile the resource for NAME.exe into DIR.
resource() {
  local rc=$ABS_STAGE/$1.rc
  sed "s/@VERSION4@/$VERSION4/" packaging/windows/confab.exe.manifest >"$ABS_STAGE/$1.exe.manifest"
  sed -e "s|@ICON@|$ABS_STAGE/confab.ico|" -e "s|@MANIFEST@|$ABS_STAGE/$1.exe.manifest|" \
    -e "s|@VERSIONC@|${VERSION4//./,}|" -e "s|@VERSION@|$VERSION|" \
    -e "s|@NAME@|$1|" -e "s|@DESCRIPTION@|$2|" packaging/windows/confab.rc.in >"$rc"
  $HOST-windres -O coff -i "$rc" -o "$3/rsrc_windows_amd64.syso" || die "windres $rc failed"
}

# Build from copies of the main packages (a "_" dir is inside the module but
# outside ./...), so the .syso files never land in the source tree.
for c in confab confab-server; do
  mkdir -p "$DIST/_winsrc/$c"
  cp -a "cmd/$c/." "$DIST/_winsrc/$c/"
done
resource confab "Confab video calls" "$DIST/_winsrc/confab"
resource confab-server "Confab server" "$DIST/_winsrc/confab-server"

LDFLAGS="-s -w -X github.com/confab/confab/internal/version.Version=$VERSION"
# Go's build cache does not see a library rebuilt under the same flags (it
# keys on the environment, not on .pc files or archives): a stamp of what
# winlibs.sh built, in CGO_CFLAGS, makes the cgo packages build again then.
LIBSTAMP=$(cat "$PREFIX"/.built/* "$PREFIX"/lib/pkgconfig/*.pc | sha256sum | cut -c1-12)
say "building confab.exe (cgo with mingw-w64; minutes when cold)"
# -tags dynamic: mediadevices' Opus encoder links the opus built above
# (pkg-config) instead of the prebuilt archive in its module;
# nolibopusfile: hraban/opus without its Ogg file reader, which the app
# does not use (so no opusfile to build).
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$HOST-gcc CXX=$HOST-g++ \
  PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" PKG_CONFIG_PATH= \
  CGO_CFLAGS="-O2 -I$PREFIX/include -DCONFAB_WINLIBS=$LIBSTAMP" CGO_CXXFLAGS="-O2 -I$PREFIX/include -DCONFAB_WINLIBS=$LIBSTAMP" CGO_LDFLAGS="-L$PREFIX/lib" \
  $GO build -tags "dynamic nolibopusfile" -trimpath -ldflags "$LDFLAGS -H windowsgui -extldflags -static" \
  -o "$OUT/confab.exe" "./$DIST/_winsrc/confab"
say "building confab-server.exe (CGO_ENABLED=0)"
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $GO build -trimpath -ldflags "$LDFLAGS" \
  -o "$OUT/confab-server.exe" "./$DIST/_winsrc/confab-server"

# The licences of everything in the two .exe files: the C libraries from
# their Debian sources, the mingw-w64 runtime, Go and every Go module linked.
say "collecting THIRD-PARTY-NOTICES.txt"
notices=$OUT/THIRD-PARTY-NOTICES.txt
{
  echo "Confab for Windows contains the following software. Their licences follow."
  echo
  src=${CONFAB_WIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confab-win}/src
  for lib in libvpx:LICENSE libvpx:PATENTS opus:COPYING libyuv:LICENSE libyuv:PATENTS speexdsp:COPYING; do
    d=$(ls -1d "$src/${lib%%:*}"_*/ 2>/dev/null | sort -V | tail -1)
    f=${d}${lib#*:}
    if [ -n "$d" ] && [ -f "$f" ]; then
      echo "==== ${lib%%:*} ($(basename "$d"), Debian source package), ${lib#*:}"; echo; cat "$f"; echo
    fi
  done
  for f in /usr/share/doc/mingw-w64-common/copyright /usr/share/doc/mingw-w64-x86-64-dev/copyright; do
    if [ -f "$f" ]; then echo "==== mingw-w64 runtime ($f)"; echo; cat "$f"; echo; fi
  done
  echo "==== Go ($($GO env GOVERSION))"; echo; cat "$($GO env GOROOT)/LICENSE"; echo
  GOOS=windows CGO_ENABLED=1 $GO list -tags "dynamic nolibopusfile" -deps \
    -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' ./cmd/confab ./cmd/confab-server |
    sort -u | while read -r path ver dir; do
      for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/UNLICENSE*; do
        if [ -f "$f" ]; then echo "==== $path $ver, $(basename "$f")"; echo; cat "$f"; echo; fi
      done
    done
} >"$notices"
sed -i 's/$/\r/' "$notices"
cp "$notices" "$STAGE/THIRD-PARTY-NOTICES.txt"

# No DLL may be needed beyond Windows' own (test-package checks the list).
say "confab.exe imports: $($HOST-objdump -p "$OUT/confab.exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | sort -fu | tr '\n' ' ')"

cp "$OUT/confab.exe" "$OUT/confab-server.exe" "$STAGE/"
say "building the installer with makensis"
rm -f "$DIST"/Confab-*-setup.exe
makensis -V2 -INPUTCHARSET UTF8 -DVERSION="$VERSION" -DVERSION4="$VERSION4" -DSTAGE="$ABS_STAGE" \
  -DOUTFILE="$(realpath "$DIST")/$(basename "$SETUP")" packaging/windows/confab.nsi || die "makensis failed"
rm -rf "$DIST/_winsrc"
echo "$SETUP ($(du -h "$SETUP" | cut -f1))"
