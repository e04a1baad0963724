#!/usr/bin/env bash
# bench-app.sh measures the desktop app in a four-party call: the app
# (test pattern camera, 640x480 at 30 fps) and three confab-bot
# participants (also 640x480 at 30 fps) on the app's built-in server, under
# Xvfb. It reports the app's CPU use and resident memory over a 20 s window
# and, from a CPU profile, the CPU time per frame spent decoding VP8,
# converting I420 to RGBA and drawing (Fyne's GL painter, on the UI thread).
# Bounded: the call lasts 40 s; everything listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
go build -o bin/confab ./cmd/confab
go build -o bin/confab-bot ./cmd/confab-bot
tmp=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp -noreset" env vblank_mode=0 \
  bin/confab --fake-devices --join --name Ada --room bench --listen "127.0.0.1:$port" --data "$tmp/data" \
  --log-level info --cpuprofile "$tmp/app.prof" 2>"$tmp/app.log" &
sleep 3
app=$(pgrep -n -f "bin/confab --fake-devices --join --name Ada --room bench")
for n in Grace Linus Margaret; do
  bin/confab-bot --server "http://127.0.0.1:$port" --room bench --name "$n" --duration 40s >/dev/null 2>&1 &
done
sleep 10 # joins, keyframes, steady state

ticks() { awk '{print $14+$15}' "/proc/$app/stat"; }
t0=$(ticks); s0=$(date +%s.%N)
rss_max=0
for _ in $(seq 20); do
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$app/status")
  [ "$rss" -gt "$rss_max" ] && rss_max=$rss
done
t1=$(ticks); s1=$(date +%s.%N)
kill -INT "$app"
for _ in $(seq 100); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done

frames=$(grep 'msg=received' "$tmp/app.log" | sed -n 's/.* frames=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
hz=$(getconf CLK_TCK)
cpu=$(echo "scale=1; 100*($t1-$t0)/$hz/($s1-$s0)" | bc)
echo "app in a 4-party call (640x480 at 30 fps, software GL under Xvfb):"
echo "  CPU: ${cpu}% of one core (20 s window), RSS: max $((rss_max/1024)) MiB"
echo "  remote frames decoded over the whole call: ${frames:-0}"
cum() { go tool pprof -top -cum bin/confab "$tmp/app.prof" 2>/dev/null | awk -v f="$1" '$6 ~ f {gsub("s","",$4); print $4; exit}'; }
dec=$(cum '_Cfunc_confab_vp8_decode$'); conv=$(cum 'media.\(\*FrameSlot\).Render$'); draw=$(cum 'glfw.\(\*gLDriver\).repaintWindow$')
per_frame() { # name, seconds
  [ -n "$2" ] && echo "  $1: $(echo "scale=2; $2*1000/$frames" | bc) ms CPU per remote frame ($2 s in all)"
}
if [ "${frames:-0}" -gt 0 ]; then
  per_frame "decode (libvpx)" "$dec"
  per_frame "scale and convert for the tile (libyuv, only frames drawn)" "$conv"
  per_frame "draw (Fyne's GL painter on the main thread)" "$draw"
fi

echo
echo "the app: click Join -> own video in its tile, -> first remote frame drawn, -> all four tiles with video (three confab-bots in the room), 10 joins:"
CONFAB_BOT_BIN="$PWD/bin/confab-bot" xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp -noreset" env vblank_mode=0 \
  go test -run '^$' -bench AppJoin -benchtime 10x ./cmd/confab/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)|joinbench_test'
