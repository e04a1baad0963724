#!/usr/bin/env bash
# test.sh runs every test: vet and formatting, the CGO-free server build,
# all Go tests with the race detector, the browser tests (headless
# Chromium on the guest page with two bots, in a network namespace with
# only lo), short fuzz runs of the wire decoder and the VP8 frame
# assembler, the display tests under
# Xvfb (screen capture, the real app against three bots and against
# Chromium), and the package test (with the Windows installer under wine
# once its cross-built libraries are cached). make test calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
# Browser tests fail, not skip, when Chromium or the namespace is missing.
export CONFAB_REQUIRE_BROWSER=1
# So do the network tests (ICE-TCP, TURN, ICE restart) that build their own
# network namespaces.
export CONFAB_REQUIRE_NETNS=1
# And the audio processing tests (espeak-ng and sox speech signals).
export CONFAB_REQUIRE_AUDIO=1
scripts/deps.sh test

step() { printf '\n== %s\n' "$*"; }

step "gofmt and go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './dist/*'))
if [ -n "$bad" ]; then
  echo "gofmt would change: $bad" >&2
  exit 1
fi
go vet ./...

step "confab-server builds without cgo"
CGO_ENABLED=0 go build -o /dev/null ./cmd/confab-server
if CGO_ENABLED=0 go list -deps ./cmd/confab-server | grep -qE '^fyne.io|mediadevices/pkg/codec'; then
  echo "cmd/confab-server pulls in client-only packages" >&2
  exit 1
fi

step "go test -race ./... (display tests skip here; they run under Xvfb below)"
# The real bots the tests start are plain builds: a race-instrumented media
# pipeline is too slow to measure frame rates.
mkdir -p bin
go build -o bin/confab-bot ./cmd/confab-bot
export CONFAB_BOT_BIN="$PWD/bin/confab-bot"
env -u DISPLAY go test -race -count=1 $(go list ./... | grep -v /internal/browsertest)

step "browser tests: headless Chromium, the guest page, two bots (one package at a time)"
# Alone: Chromium, two bots and the server need the two cores, and the
# other packages' media tests have timing limits.
go test -race -count=1 -p 1 -v ./internal/browsertest/ 2>&1 | grep -vE '^=== (RUN|PAUSE|CONT)'

step "fuzz the wire decoder (20 s) and the VP8 frame assembler (10 s)"
go test ./signaling/wire -run '^$' -fuzz FuzzDecode -fuzztime 20s
go test ./media/decode -run '^$' -fuzz FuzzAssembler -fuzztime 10s

step "display tests under Xvfb: screen capture, then the app with Chromium and with three bots"
# One package at a time: both use the X server hard. vblank_mode=0 stops
# Mesa's software GL from waiting for the virtual display's fake vblank.
xvfb-run -a -s "-screen 0 1440x900x24 -nolisten tcp -noreset" \
  env vblank_mode=0 CONFAB_REQUIRE_DISPLAY=1 \
  go test -race -count=1 -p 1 -v -run 'Screen|App' ./media/capture/ ./cmd/confab/ 2>&1 |
  grep -vE 'XDG_RUNTIME_DIR|dbus-launch|Fyne error:|  Cause:|  At: |ALSA lib|^=== (RUN|PAUSE|CONT)'

step "packages: build, inspect, install into a throwaway root, start the server"
scripts/deps.sh test
VERSION="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
DEB_VERSION="$(scripts/version.sh --deb "$VERSION")"
VERSION="$VERSION" DEB_VERSION="$DEB_VERSION" scripts/package.sh
# The Windows installer only when its C libraries are already cross-built
# (make package-windows once): built cold they take 5 to 25 minutes on two
# cores. Warm, building and checking it under wine adds about 5 minutes.
if scripts/winlibs.sh --check; then
  scripts/deps.sh windows wine
  VERSION="$VERSION" scripts/package-windows.sh
else
  echo "Windows installer not built: its libraries are not in ~/.cache/confab-win (make package-windows builds them once; then make test includes it)"
fi
VERSION="$VERSION" DEB_VERSION="$DEB_VERSION" CONFAB_PKG_NOBUILD=1 scripts/test-package.sh
