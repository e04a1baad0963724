#!/usr/bin/env bash
# winlibs.sh cross-builds, for 64-bit Windows (x86_64-w64-mingw32), the C
# libraries the app links through cgo, from Debian's own source packages
# (apt-get source), as static libraries, into a cache that later builds
# reuse:
#
#   libvpx     VP8 encoder and decoder (media/vp8enc, media/decode)
#   opus       the Opus codec (gopkg.in/hraban/opus.v2, mediadevices' codec/opus)
#   libyuv     frame conversion and scaling (media/yuv.go)
#   speexdsp   echo canceller, noise suppressor and gain control
#              (media/audioproc on Windows; see README, "Windows")
#
# webrtc-audio-processing, the engine the Linux build uses, is not among
# them: Debian's mirror no longer serves its source (0.3-1; the .orig.tar.xz
# answers 404), so nothing here can build it. Windows builds use the speex
# engine instead (media/audioproc/engine_windows.go) and say so.
#
# Everything else the app needs on Windows comes with the Go modules (GLFW,
# miniaudio and the camera driver are compiled from C in their modules) or
# with the cross compiler (winpthreads, libstdc++), and is linked statically.
#
#   scripts/winlibs.sh            build what is missing, print the prefix
#   scripts/winlibs.sh --check    exit 0 if all are built (no network, no
#                                 compiler needed); scripts/test.sh uses it
#   CONFAB_WIN_CACHE=DIR          cache folder (default ~/.cache/confab-win)
#
# The cache holds src/ (Debian source packages, unpacked), build/ and the
# install prefix x86_64-w64-mingw32/ with lib/pkgconfig. A library is built
# again only when its Debian version or its recipe here (RECIPE) changes.
set -euo pipefail

HOST=x86_64-w64-mingw32
CACHE=${CONFAB_WIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confab-win}
PREFIX=$CACHE/$HOST
SRC=$CACHE/src
BUILD=$CACHE/build
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
# Bump when a recipe below changes: every library is rebuilt.
RECIPE=2

say() { echo "winlibs: $*" >&2; }
die() { echo "winlibs: $*" >&2; exit 1; }

if [ "${1:-}" = --check ]; then
  for lib in libvpx opus speexdsp libyuv; do
    grep -qs " recipe $RECIPE\$" "$PREFIX/.built/$lib" || exit 1
  done
  exit 0
fi

export CC=$HOST-gcc CXX=$HOST-g++ AR=$HOST-ar RANLIB=$HOST-ranlib STRIP=$HOST-strip
for t in "$CC" "$CXX" "$AR" dpkg-source apt-get cmake make yasm; do
  command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh windows installs it)"
done
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include" "$SRC" "$BUILD" "$PREFIX/.built"

# ensure_deb_src makes apt know source packages: a deb-src entry for every
# suite this machine already uses (Debian images ship deb lines only).
ensure_deb_src() {
  apt-cache showsrc opus 2>/dev/null | grep -q '^Package: opus' && return
  local sudo="" f=/etc/apt/sources.list.d/confab-deb-src.sources
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  say "adding deb-src entries for this machine's suites ($f, and .list for one-line sources)"
  {
    for s in /etc/apt/sources.list.d/*.sources; do
      [ -f "$s" ] && [ "$s" != "$f" ] || continue
      grep -q 'deb.debian.org\|debian' "$s" || continue
      sed 's/^Types:.*/Types: deb-src/' "$s"
      echo
    done
  } | $sudo tee "$f" >/dev/null
  if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
    sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list | $sudo tee /etc/apt/sources.list.d/confab-deb-src.list >/dev/null
  fi
  $sudo apt-get update -qq
  apt-cache showsrc opus 2>/dev/null | grep -q '^Package: opus' || die "apt still knows no source packages after adding deb-src"
}

# fetch PKG: unpack Debian's source package PKG under src/ (downloaded once)
# and print its directory.
fetch() {
  local pkg=$1 dsc dir
  dsc=$(ls -1 "$SRC/${pkg}"_*.dsc 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$dsc" ]; then
    ensure_deb_src
    say "apt-get source $pkg"
    (cd "$SRC" && apt-get source -qq --download-only "$pkg" 2>&1 | grep -v 'unsandboxed as root' >&2) || true
    dsc=$(ls -1 "$SRC/${pkg}"_*.dsc 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$dsc" ] || die "apt-get source $pkg fetched nothing"
  fi
  dir=$SRC/$(basename "$dsc" .dsc)
  if [ ! -f "$dir/.unpacked" ]; then
    rm -rf "$dir"
    dpkg-source --no-check -x "$dsc" "$dir" >/dev/null || die "dpkg-source -x $dsc failed"
    touch "$dir/.unpacked"
  fi
  echo "$dir"
}

# built PKG DIR: true when DIR (its Debian version) is installed with this RECIPE.
built() { [ "$(cat "$PREFIX/.built/$1" 2>/dev/null)" = "$(basename "$2") recipe $RECIPE" ]; }
mark() { echo "$(basename "$2") recipe $RECIPE" >"$PREFIX/.built/$1"; }

build_libvpx() {
  local src b
  src=$(fetch libvpx)
  built libvpx "$src" && return
  say "building libvpx ($(basename "$src"), VP8 only)"
  b=$BUILD/libvpx && rm -rf "$b" && mkdir -p "$b"
  (cd "$b" && CROSS=$HOST- "$src/configure" --target=x86_64-win64-gcc --prefix="$PREFIX" \
    --enable-static --disable-shared --enable-vp8 --disable-vp9 --enable-pic \
    --disable-examples --disable-tools --disable-docs --disable-unit-tests \
    --as=yasm >configure.log 2>&1 || { tail -20 configure.log >&2; exit 1; }
   make -j"$JOBS" >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
   make install >>make.log 2>&1) || die "libvpx failed (log in $b)"
  mark libvpx "$src"
}

autotools() { # autotools NAME SRC CONFIGURE-ARGS...: an out-of-tree --host build
  local name=$1 src=$2 b=$BUILD/$1; shift 2
  rm -rf "$b" && mkdir -p "$b"
  (cd "$b" && "$src/configure" --host=$HOST --prefix="$PREFIX" --enable-static --disable-shared "$@" \
      >configure.log 2>&1 || { tail -20 configure.log >&2; exit 1; }
   make -j"$JOBS" >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
   make install >>make.log 2>&1) || die "$name failed (log in $b)"
}

build_opus() {
  local src
  src=$(fetch opus)
  built opus "$src" && return
  say "building opus ($(basename "$src"))"
  # Its configure adds -D_FORTIFY_SOURCE=2, whose checked memcpy and
  # memset mingw-w64 takes from GCC's libssp (linked statically, like the
  # rest); the stack protector stays off as in most Windows builds of it.
  autotools opus "$src" --disable-doc --disable-extra-programs --disable-stack-protector
  sed -i 's/^Libs.private:.*/& -lssp/' "$PREFIX/lib/pkgconfig/opus.pc"
  mark opus "$src"
}

build_speexdsp() {
  local src
  src=$(fetch speexdsp)
  built speexdsp "$src" && return
  say "building speexdsp ($(basename "$src"))"
  autotools speexdsp "$src" --disable-examples
  mark speexdsp "$src"
}

build_libyuv() {
  local src b
  src=$(fetch libyuv)
  built libyuv "$src" && return
  say "building libyuv ($(basename "$src"))"
  b=$BUILD/libyuv && rm -rf "$b" && mkdir -p "$b"
  cat >"$b/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $CC)
set(CMAKE_CXX_COMPILER $CXX)
set(CMAKE_RC_COMPILER $HOST-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$HOST $PREFIX)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
  # Only the static library: libyuv's tools want libjpeg, which the app
  # does not use (media/yuv.go calls the conversion and scaling functions).
  (cd "$b" && cmake -S "$src" -B . -DCMAKE_TOOLCHAIN_FILE="$b/toolchain.cmake" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_JPEG=ON -DUNIT_TEST=OFF \
      >configure.log 2>&1 || { tail -20 configure.log >&2; exit 1; }
   cmake --build . --target yuv -j "$JOBS" >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }) ||
    die "libyuv failed (log in $b)"
  install -m 0644 "$b/libyuv.a" "$PREFIX/lib/libyuv.a"
  rm -rf "$PREFIX/include/libyuv"
  cp -r "$src/include/libyuv" "$PREFIX/include/"
  install -m 0644 "$src/include/libyuv.h" "$PREFIX/include/libyuv.h"
  mark libyuv "$src"
}

# static_pc: the prefix holds static libraries only, so what a .pc file
# lists as Libs.private (libvpx's -lpthread: mingw-w64's winpthreads,
# linked statically too) belongs in Libs, which is all cgo asks for.
static_pc() {
  local pc priv
  for pc in "$PREFIX"/lib/pkgconfig/*.pc; do
    priv=$(sed -n 's/^Libs.private:[[:space:]]*//p' "$pc")
    [ -n "$priv" ] || continue
    sed -i -e "s|^Libs:\(.*\)\$|Libs:\1 $priv|" -e '/^Libs.private:/d' "$pc"
  done
}

build_libvpx
build_opus
build_speexdsp
build_libyuv
static_pc
echo "$PREFIX"
