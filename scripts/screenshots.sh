#!/usr/bin/env bash
# screenshots.sh runs the app's end-to-end test under Xvfb (the real app,
# its built-in server, the test pattern camera and three confab-bot
# participants) and keeps its window captures as docs/screenshots/entry.png
# and docs/screenshots/call.png.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
mkdir -p bin docs/screenshots
go build -o bin/confab-bot ./cmd/confab-bot
CONFAB_BOT_BIN="$PWD/bin/confab-bot" CONFAB_SCREENSHOTS="$PWD/docs/screenshots" \
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp -noreset" \
  env vblank_mode=0 CONFAB_REQUIRE_DISPLAY=1 go test -count=1 -run App ./cmd/confab/
ls -l docs/screenshots
