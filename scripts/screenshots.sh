#!/usr/bin/env bash
# screenshots.sh runs the app's end-to-end test under Xvfb (the real app,
# its built-in server, the test pattern camera and three confab-bot
# participants) and keeps its window captures as docs/screenshots/entry.png
# and docs/screenshots/call.png (and, from the calls test, calling-ringing.png
# and calling-declined.png); then the browser test (headless Chromium on
# the guest page with two bots, in a network namespace with only lo) takes
# docs/screenshots/guest.png at 1280x800, and phone-width (360x740) views
# that are kept out of the repo, for looking at.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
mkdir -p bin docs/screenshots
scripts/deps.sh browser
go build -o bin/confab-bot ./cmd/confab-bot
CONFAB_BOT_BIN="$PWD/bin/confab-bot" CONFAB_SCREENSHOTS="$PWD/docs/screenshots" \
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp -noreset" \
  env vblank_mode=0 CONFAB_REQUIRE_DISPLAY=1 go test -count=1 -run App ./cmd/confab/
phone=$(mktemp -d /tmp/confab-guest-shots.XXXXXX)
CONFAB_BOT_BIN="$PWD/bin/confab-bot" CONFAB_SCREENSHOTS="$phone" CONFAB_REQUIRE_BROWSER=1 \
  go test -count=1 -run 'TestBrowserCallWithTwoBots$' ./internal/browsertest/
mv "$phone/guest.png" docs/screenshots/guest.png
echo "phone-width views of the guest page: $phone"
ls -l docs/screenshots
