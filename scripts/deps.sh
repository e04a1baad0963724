#!/usr/bin/env bash
# deps.sh installs the Debian packages Confab needs to build, run and test.
# It is idempotent and says nothing when everything is already present.
set -euo pipefail

pkgs=(
  build-essential pkg-config git ca-certificates
  libvpx-dev libopus-dev libopusfile-dev libasound2-dev libyuv-dev
  libwebrtc-audio-processing-dev libspeexdsp-dev
  libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev
  xvfb xauth imagemagick
  fonts-wqy-microhei
)
# libasound2-dev brings ALSA (libasound2, libasound2-data): the microphone
# driver's backend, and the plugins media/capture/devicetest builds its
# sound-card-free microphone from.
# fonts-wqy-microhei gives the app's text the Chinese, Japanese and Korean
# glyphs its built-in fonts lack (Fyne falls back to system fonts).
# Extra groups: "test" adds what only the tests need; "browser" adds the
# headless Chromium of the browser tests and benchmark (they run it in a
# network namespace of their own, which needs root); "windows" adds the
# mingw-w64 cross compilers, the tools scripts/winlibs.sh builds Debian's
# library sources with, and NSIS (make package-windows); "wine" adds what
# runs the Windows build in the package test.
browser=(chromium fonts-dejavu-core)
windows=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-tools
  dpkg-dev cmake make yasm nsis imagemagick)
for extra in "$@"; do
  case "$extra" in
    test) pkgs+=(dpkg-dev curl openssl file xz-utils binutils espeak-ng sox iproute2 nftables util-linux xdotool ffmpeg "${browser[@]}") ;;
    browser) pkgs+=("${browser[@]}") ;;
    windows) pkgs+=("${windows[@]}") ;;
    wine) pkgs+=(wine wine64 xvfb xauth curl) ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  echo "deps: Go 1.26 or newer is needed (https://go.dev/dl); it is not on PATH" >&2
  exit 1
fi
