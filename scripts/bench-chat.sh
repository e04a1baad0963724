#!/usr/bin/env bash
# bench-chat.sh: the chat benchmark (issue 8). A real server on 127.0.0.1
# with its SQLite store in a temporary directory and raw websocket clients
# in the same process:
#   steady   60 rooms (CONFAB_BENCH_ROOMS) x 16 clients at 1 msg/s each for CONFAB_BENCH_SECONDS
#            (default 20): delivery p50/p99 from sender to every member, lost
#   ramp     60 senders (one per room), total rate raised in 3 s steps until
#            p99 > 100 ms: the highest rate the store sustains
#   overload 4x that rate (at least 8000/s) for 3 s: every message answered (stored, or
#            refused with overloaded/rate_limited) within about 1 s
# The bench server raises the per-participant limits (chat 10/s by default)
# so that 60 connections can offer thousands of messages per second; the
# steady phase still sends only 1 msg/s per client. Bounded: it stops
# itself (go test -timeout 10m).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
CONFAB_BENCH_CHAT=1 go test -v -count=1 -timeout 10m -run '^TestBenchChat$' ./signaling/server/ \
	| grep -E '^(chat bench|--- FAIL|FAIL|ok|\s+benchchat_test)'
