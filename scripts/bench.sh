#!/usr/bin/env bash
# bench.sh runs the benchmarks (make bench). Each is bounded and uses only
# 127.0.0.1. Figures depend on the machine; on a 2-core VM they are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
mkdir -p bin
go build -o bin/confab-bot ./cmd/confab-bot
export CONFAB_BOT_BIN="$PWD/bin/confab-bot"

echo "== media: VP8 decode, I420->RGBA conversion per 640x480 frame, and drawing it into a 320x240 view (libyuv; *Go: the old pure-Go path)"
go test -run '^$' -bench 'Decode640x480|DecodeToView|I420ToRGBA|Render640To320' -benchmem ./media/ ./media/decode/ | grep -E '^(Benchmark|ok)'

echo; echo "== media: VP8 encode per 640x480 test-pattern frame (Confab's settings, other speeds, two threads, mediadevices' encoder as used before)"
go test -run '^$' -bench Encode640x480 -benchtime 150x ./media/vp8enc/ | grep -E '^(Benchmark|ok)'

echo; echo "== media: own camera (test pattern, 640x480 at 30 fps) -> VP8 -> loopback PeerConnection: fps at the receiver, 10 s"
go test -run '^$' -bench CameraFrameRate -benchtime 10x ./media/capture/ | grep -E '^(Benchmark|ok)'

echo; echo "== join -> first decoded remote frame, 20 joins (publisher: confab-bot, 640x480 at 30 fps)"
go test -run '^$' -bench JoinToFirstFrame -benchtime 20x ./signaling/client/clientmedia/ | grep -E '^(Benchmark|ok)'

echo; echo "== join -> first decoded remote frame: headless Chromium on the guest page vs a Go client, 10 joins each"
scripts/bench-browser.sh

echo; echo "== audio processing (echo cancellation, noise suppression, gain control): CPU per 10 ms frame, ERLE, double talk"
scripts/bench-audio.sh

echo; echo "== server CPU per forwarded RTP packet, 1 publisher -> 8 subscribers (server process CPU time)"
go test -run '^$' -bench SFUForward1to8 -benchtime 1x ./cmd/confab-server/ | grep -E '^(Benchmark|ok)'

echo; echo "== server CPU per forwarded packet side by side with pion's sfu-ws (1->8 and 1->32 at 1x, 1->8 at 30x), in a network namespace"
scripts/bench-sfu.sh

echo; echo "== the app vs headless Chromium in one room with three confab-bots (640x480 at 15 fps), 30 s each after 20 s, two rounds; then the app in a 9-party room; then the floors: the app's media work in a bot with no window, and a Fyne window drawing only four videos (internal/drawfloor)"
CONFAB_REQUIRE_BROWSER=1 go test -run '^$' -bench NativeVsBrowser -benchtime 1x -timeout 30m ./internal/browsertest/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)|cost_bench_test'

echo; echo "== the app in a 4-party call under Xvfb"
scripts/bench-app.sh

echo; echo "== the app: a click (Mute, Chat) in a 4-party call -> the button changed on screen (X server framebuffer), p50/p95 of 20"
scripts/deps.sh test
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp -noreset" env vblank_mode=0 \
  go test -run '^$' -bench AppClick -benchtime 20x ./cmd/confab/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)'

echo; echo "== chat: 60 rooms x 16 clients at 1 msg/s, then the highest rate the store sustains, then overload"
scripts/bench-chat.sh
