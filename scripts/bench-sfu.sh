#!/usr/bin/env bash
# bench-sfu.sh measures Confab's SFU side by side with pion's sfu-ws
# example (github.com/pion/example-webrtc-applications/v3, MIT licence,
# built from its source at the pinned version below with its pion/webrtc
# import moved to v4, so both servers run the same pion as Confab's
# go.mod). Both run as their own processes in a private network namespace
# (unshare -n: loopback, plus a veth pair because sfu-ws offers no
# loopback candidates); internal/sfubench drives them: one publisher of a
# 640x480 VP8 clip, 8 or 32 subscribers, the clip at 1x or 30x its packet
# rate, rounds interleaved. Needs root (or unprivileged user namespaces);
# runs at nice -10 (servers and driver alike) so that other work on the
# machine disturbs it less. Loss at the subscribers includes datagrams the
# kernel dropped because a socket (a subscriber's, or the server's) was
# not read in time, printed as "rcvbuf drops": on a busy machine that is
# the driver or the server being starved of CPU, not forwarding.
#
#   SFUBENCH_ROUNDS=3 SFUBENCH_SECONDS=8   rounds and clip seconds per round
#   SFUBENCH_LOADS=012                     which loads (0: 1->8 1x, 1: 1->32 1x, 2: 1->8 30x)
#   SFUBENCH_PROFILE=dir                   Confab CPU profiles of the last round
#   CONFAB_BASE_BIN=path                   also run this confab-server build, as "before"
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
SFUWS_MODULE=github.com/pion/example-webrtc-applications/v3
SFUWS_VERSION=v3.0.5

mkdir -p bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o bin/confab-server ./cmd/confab-server
go test -c -o bin/sfubench.test ./internal/sfubench

# sfu-ws: fetched into the module cache at the pinned version, built in a
# scratch module that requires what Confab's go.mod does.
src=$(go mod download -json "$SFUWS_MODULE@$SFUWS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] || { echo "bench-sfu: could not fetch $SFUWS_MODULE@$SFUWS_VERSION" >&2; exit 1; }
mkdir -p "$work/sfu-ws"
sed 's#github.com/pion/webrtc/v3#github.com/pion/webrtc/v4#' "$src/sfu-ws/main.go" >"$work/sfu-ws/main.go"
cp "$src/sfu-ws/index.html" "$work/sfu-ws/"
{ echo "module sfuws"; echo; sed -n '/^go /p' go.mod; echo; sed -n '/^require (/,/^)/p' go.mod; } >"$work/sfu-ws/go.mod"
cp go.sum "$work/sfu-ws/"
(cd "$work/sfu-ws" && GOFLAGS=-mod=mod go build -o "$OLDPWD/bin/sfu-ws" .)

echo "load: $(uptime)"
export CONFAB_SERVER_BIN="$PWD/bin/confab-server" SFUWS_BIN="$PWD/bin/sfu-ws" SFUWS_DIR="$work/sfu-ws" SFUWS_IP=10.203.0.1
unshare -n bash -c '
  set -e
  ip link set lo up
  ip link add sfub0 type veth peer name sfub1
  ip addr add 10.203.0.1/24 dev sfub0
  ip link set sfub0 up
  ip link set sfub1 up
  cd internal/sfubench
  exec nice -n -10 ../../bin/sfubench.test -test.run "^$" -test.bench SFUSideBySide -test.benchtime 1x -test.timeout 60m
' 2>&1 | grep -vE '^(goos|goarch|pkg|cpu):'
echo "load: $(uptime)"
