#!/usr/bin/env bash
# bench-browser.sh measures join -> first decoded remote frame for headless
# Chromium on the guest page (from the Join click to the first frame its
# page counted), p50 and p95 over 10 joins, next to a receive-only Go client
# joining the same room, alternately, in the same run. The publisher is a
# confab-bot (640x480 at 30 fps). The test process, and so the server, the
# bot and Chromium, runs in a private network namespace with only lo (see
# internal/browsertest); it needs root and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/deps.sh browser
if [ -z "${CONFAB_BOT_BIN:-}" ]; then
  mkdir -p bin
  go build -o bin/confab-bot ./cmd/confab-bot
  export CONFAB_BOT_BIN="$PWD/bin/confab-bot"
fi
out=$(CONFAB_REQUIRE_BROWSER=1 go test -run '^$' -bench BrowserJoinToFirstFrame -benchtime 10x ./internal/browsertest/ 2>/dev/null) || {
  echo "$out" >&2
  exit 1
}
echo "$out" | grep -E '^(Benchmark|ok)'
echo "$out" | awk '/^Benchmark/ { for (i = 2; i <= NF; i++) if ($i ~ /-ms$/) m[$i] = $(i-1) }
  END {
    printf "  Chromium (guest page): p50 %6s ms  p95 %6s ms  (join click -> joined p50 %s ms)\n", m["chromium-p50-ms"], m["chromium-p95-ms"], m["chromium-joined-p50-ms"]
    printf "  Go client:             p50 %6s ms  p95 %6s ms\n", m["go-p50-ms"], m["go-p95-ms"]
  }'
