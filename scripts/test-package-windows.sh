#!/usr/bin/env bash
# test-package-windows.sh checks the Windows build that make package-windows
# makes (make test-package-windows; make test-package runs it too when the
# installer is there):
#
#   1. confab.exe and confab-server.exe import only Windows' own DLLs (an
#      allow-list; x86_64-w64-mingw32-objdump -p), and carry the version
#      resource;
#   2. under wine, in a fresh wine prefix under Xvfb: the installer runs
#      silently (/S) into %LOCALAPPDATA%\Programs\Confab with its Start menu
#      and desktop shortcuts and uninstall entry; `confab.exe --version`
#      and `confab-server.exe version` print the version;
#      `confab-server.exe serve` with a UDP media port stops with a clear
#      error (this wine opens no UDP socket for Go programs) or serves;
#      `confab-server.exe serve --udp-port off` (media over ICE-TCP only)
#      answers /healthz; a confab-bot on Linux and the Windows app
#      (--fake-devices --join, under wine) join a room on that Windows
#      server and each decodes the other's video, the server counting
#      the RTP it received; the
#      uninstaller removes what was installed and keeps the user's data
#      unless given /PURGE; /LAN /NODESKTOP give the LAN shortcut and no
#      desktop shortcut.
#
# Skipped, with the reason, where wine (scripts/deps.sh wine) or the
# installer (CONFAB_PKG_NOBUILD=1 and no dist/Confab-<v>-setup.exe) is
# missing. Bounded in time, only 127.0.0.1, everything in a temp dir.
# The last line is "windows: N passed, M failed[, K skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
HOST=x86_64-w64-mingw32

# Windows' own DLLs (and the API sets that stand for them) the two .exe
# files may import. Anything else (libstdc++-6.dll, libwinpthread-1.dll,
# a codec DLL) would have to be installed beside them, and is not.
SYSTEM_DLLS="advapi32.dll bcrypt.dll comctl32.dll comdlg32.dll crypt32.dll d3d11.dll dbghelp.dll dnsapi.dll
dwmapi.dll dxgi.dll gdi32.dll imm32.dll iphlpapi.dll kernel32.dll mfplat.dll mfreadwrite.dll mf.dll
msvcrt.dll mswsock.dll ntdll.dll ole32.dll oleaut32.dll opengl32.dll powrprof.dll quartz.dll secur32.dll
setupapi.dll shell32.dll shlwapi.dll user32.dll userenv.dll version.dll winmm.dll ws2_32.dll"

VERSION=${VERSION:-$(scripts/version.sh)}
PKG_VERSION=${VERSION#v}
SETUP=dist/Confab-$PKG_VERSION-setup.exe

# ------------------------------------------------------------ inner part
# Runs as `test-package-windows.sh --in-wine TMP` under xvfb-run.
if [ "${1:-}" = "--in-wine" ]; then
  tmp=$2
  out=$tmp/inner.results
  : >"$out"
  ok() { echo "ok   $*"; echo pass >>"$out"; }
  fail() { echo "FAIL $*"; echo fail >>"$out"; }
  skip() { echo "SKIP $*"; echo skip >>"$out"; }
  # Everything wine writes stays in tmp: the prefix, and HOME (wine links
  # the Windows desktop to $HOME/Desktop); no menu entries on this machine.
  export WINEPREFIX=$tmp/prefix WINEARCH=win64 WINEDEBUG=-all HOME=$tmp/home
  export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
  mkdir -p "$HOME"
  w() { timeout "${T:-60}" wine "$@"; }

  if T=240 wine wineboot --init >"$tmp/wineboot.log" 2>&1; then ok "fresh wine prefix ($(wine --version))"
  else fail "wineboot --init: $(tail -3 "$tmp/wineboot.log")"; exit 0; fi
  # Go programs need Windows' bcryptprimitives.dll (ProcessPrng), which
  # wine 8.0 (Debian 12) lacks: a stand-in goes into this prefix only
  # (packaging/windows/wine/bcryptprimitives.c; never into the installer).
  sys32=$WINEPREFIX/drive_c/windows/system32
  if [ ! -f "$sys32/bcryptprimitives.dll" ] && ! grep -qs ProcessPrng "$(dirname "$(command -v wine)")"/../lib/*/wine/x86_64-windows/bcryptprimitives.dll; then
    if $HOST-gcc -O2 -shared -o "$sys32/bcryptprimitives.dll" packaging/windows/wine/bcryptprimitives.c -lbcrypt; then
      echo "     note: this wine lacks bcryptprimitives.dll, which Go programs need; the test prefix gets a stand-in (ProcessPrng over BCryptGenRandom)"
    else fail "building the bcryptprimitives.dll stand-in for wine"; fi
  fi
  users=$WINEPREFIX/drive_c/users/$(id -un)
  dir=$users/AppData/Local/Programs/Confab
  appdata=$users/AppData/Roaming
  startmenu=$appdata/Microsoft/Windows/Start\ Menu/Programs
  desktop=$users/Desktop
  ukey='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Confab'

  # -------------------------------------------------------- install
  if T=180 w "$SETUP_ABS" /S >"$tmp/setup.log" 2>&1; then ok "installer /S exits 0 (no administrator rights asked)"
  else fail "installer /S: $(tail -3 "$tmp/setup.log")"; fi
  missing=""
  for f in confab.exe confab-server.exe uninstall.exe THIRD-PARTY-NOTICES.txt; do [ -f "$dir/$f" ] || missing="$missing $f"; done
  [ -z "$missing" ] && ok "installed into %LOCALAPPDATA%\\Programs\\Confab: $(cd "$dir" && ls | tr '\n' ' ')" ||
    fail "not installed:$missing (in $dir: $(ls "$dir" 2>&1 | tr '\n' ' '))"
  cmp -s "$dir/confab.exe" dist/windows/confab.exe && ok "installed confab.exe is the one built" || fail "installed confab.exe differs from dist/windows/confab.exe"
  [ -f "$startmenu/Confab.lnk" ] && ok "Start menu shortcut" || fail "no Start menu shortcut in $startmenu"
  [ -f "$desktop/Confab.lnk" ] && ok "desktop shortcut (ticked by default)" || fail "no desktop shortcut in $desktop"
  v=$(w reg query "$ukey" /v DisplayVersion 2>/dev/null | tr -d '\r' | awk '/DisplayVersion/ {print $NF}')
  [ "$v" = "$VERSION" ] && ok "uninstall entry (HKCU, per user) with DisplayVersion $v" || fail "uninstall entry DisplayVersion: \"$v\", want $VERSION"

  # -------------------------------------------------------- --version
  v=$(T=60 w "$dir/confab.exe" --version 2>/dev/null | tr -d '\r')
  [ "$v" = "confab $VERSION" ] && ok "confab.exe --version under wine: $v" || fail "confab.exe --version: \"${v:0:200}\", want \"confab $VERSION\""
  v=$(T=60 w "$dir/confab-server.exe" version 2>/dev/null | tr -d '\r')
  [ "$v" = "confab-server $VERSION" ] && ok "confab-server.exe version under wine: $v" || fail "confab-server.exe version: \"${v:0:200}\""

  # -------------------------------------------------------- server
  # wait_health PORT prints the server's /healthz answer once it gives
  # one, or nothing when the server (pid in $tmp/server.pid) ends first
  # or a minute passes.
  wait_health() {
    local h
    for _ in $(seq 300); do
      h=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz" 2>/dev/null) && { echo "$h"; return; }
      kill -0 "$(cat "$tmp/server.pid")" 2>/dev/null || return 0
      sleep 0.2
    done
  }
  . scripts/lib/free_port.sh
  # Under wine 8.0 (Debian 12) no Go program opens a UDP socket: Go (1.24
  # and later) turns off SIO_UDP_NETRESET on every UDP socket and this
  # wine answers WSAEOPNOTSUPP (10045); Windows has the ioctl (Windows 7
  # and later). The server's default mode must then stop with a clear
  # error at its media port, never fall back to TCP on its own.
  port=$(free_port tcp); uport=$(free_port udp)
  timeout 60 wine "$dir/confab-server.exe" serve --addr "127.0.0.1:$port" --udp-port "$uport" --data 'C:\confab-test-data' \
    >"$tmp/server-udp.log" 2>&1 &
  echo $! >"$tmp/server.pid"
  health=$(wait_health "$port")
  if [[ $health == *'"status":"ok"'* ]]; then
    ok "confab-server.exe serve with a UDP media port runs under this wine (it opens UDP sockets)"
  elif grep -q "media port.*:$uport: .*winapi error #10045" "$tmp/server-udp.log"; then
    ok "confab-server.exe serve with a UDP media port stops with a clear error under this wine, no fall back to TCP: $(tr -d '\r' <"$tmp/server-udp.log" | grep -o 'media port.*' | head -1)"
  else fail "confab-server.exe serve --udp-port $uport: neither served nor stopped at its media port; log: $(tail -3 "$tmp/server-udp.log")"; fi
  stop_server() {
    local spid
    spid=$(cat "$tmp/server.pid" 2>/dev/null) || return 0
    kill -TERM "$spid" 2>/dev/null
    T=30 wine taskkill /f /im confab-server.exe >/dev/null 2>&1
    for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$tmp/server.pid"
  }
  stop_server

  # The Windows server with media over ICE-TCP only (--udp-port off): it
  # opens no UDP socket, so it runs under this wine too.
  port=$(free_port tcp); tport=$(free_port tcp)
  T=600 wine "$dir/confab-server.exe" serve --addr "127.0.0.1:$port" --udp-port off --tcp-port "$tport" --open \
    --data 'C:\confab-test-data' >"$tmp/server.log" 2>&1 &
  echo $! >"$tmp/server.pid"
  health=$(wait_health "$port")
  server_url=""
  if [[ $health == *'"status":"ok"'* ]] && grep -q "media=127.0.0.1:$tport media_udp=false" "$tmp/server.log"; then
    ok "confab-server.exe serve --udp-port off --tcp-port $tport under wine answers /healthz: $health (media over ICE-TCP on 127.0.0.1:$tport)"
    server_url=http://127.0.0.1:$port
  else fail "confab-server.exe serve --udp-port off: /healthz \"$health\"; log: $(tail -5 "$tmp/server.log" | tr -d '\r')"; fi

  # -------------------------------------------------------- a call
  # The Windows app (test pattern camera, test tone microphone) and a
  # Linux bot in one room on the Windows server; each must decode the
  # other's video. All media goes through the Windows server over ICE-TCP:
  # it offers nothing else, and the app under wine has no UDP either. The
  # app logs what it received when it leaves the call (WM_CLOSE from
  # taskkill, as the window's close button); the bot prints its report
  # when its time is up.
  kind="through the Windows server under wine, media over ICE-TCP"
  if [ -z "$server_url" ]; then
    fail "the call through the Windows server was not run: confab-server.exe did not start (above)"
  else
    room=wintest$RANDOM
    T=300 wine "$dir/confab.exe" --server "$server_url" --room "$room" --name WinApp \
      --fake-devices --join --log-level info >"$tmp/app.log" 2>&1 &
    echo $! >"$tmp/app.pid"
    # The bot stays long enough for the app, slow to start under wine, to
    # join and both to get video flowing.
    timeout 240 "$BOT" --server "ws://${server_url#http://}" --room "$room" --name LinuxBot \
      --duration "${CONFAB_WIN_CALL:-60s}" --width 320 --height 240 --fps 15 >"$tmp/bot.json" 2>"$tmp/bot.log" &
    bpid=$!
    # Look at the screen once both are in (CONFAB_WIN_SHOT=file.png).
    if [ -n "${CONFAB_WIN_SHOT:-}" ]; then
      for _ in $(seq "$((${CONFAB_WIN_SHOT_AFTER:-30} * 5))"); do kill -0 $bpid 2>/dev/null || break; sleep 0.2; done
      kill -0 $bpid 2>/dev/null && import -window root "$CONFAB_WIN_SHOT" 2>/dev/null && echo "     screenshot: $CONFAB_WIN_SHOT"
    fi
    wait $bpid
    frames=$(python3 -c 'import json,sys
r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(r.get("remote",{}).get("WinApp",{}).get("frames",0))' "$tmp/bot.json" 2>/dev/null)
    [ "${frames:-0}" -gt 0 ] && ok "the Linux bot decoded $frames frames of the Windows app's video ($kind)" ||
      fail "the Linux bot decoded no video from the Windows app; bot: $(tail -c 400 "$tmp/bot.json") $(tail -3 "$tmp/bot.log")"
    T=30 wine taskkill /im confab.exe >/dev/null 2>&1
    apid=$(cat "$tmp/app.pid")
    for _ in $(seq 150); do kill -0 "$apid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$apid" 2>/dev/null; then
      fail "confab.exe did not close within 30 s of WM_CLOSE"
      T=30 wine taskkill /f /im confab.exe >/dev/null 2>&1
    fi
    afr=$(sed -n 's/.*msg=received from=LinuxBot frames=\([0-9]*\).*/\1/p' "$tmp/app.log" | head -1)
    [ "${afr:-0}" -gt 0 ] && ok "the Windows app under wine decoded $afr frames of the Linux bot's video ($kind)" ||
      fail "the Windows app decoded no video from the bot; app log: $(grep -v '^[[:space:]]*$' "$tmp/app.log" | tail -5)"
    # The media went through the Windows server: it counts what it got.
    rtp=$(curl -fsS --max-time 5 "$server_url/metrics" 2>/dev/null | awk '$1 == "confab_rtp_packets_in_total" {print $2}')
    [ "${rtp%%.*}" -gt 0 ] 2>/dev/null && ok "the Windows server forwarded the call: confab_rtp_packets_in_total $rtp" ||
      fail "the Windows server's /metrics shows no RTP received (\"$rtp\")"
    # Kept for a look after a failure.
    for f in app.log bot.json bot.log server.log; do cp "$tmp/$f" "dist/windows-test-$f" 2>/dev/null; done
  fi
  stop_server

  # -------------------------------------------------------- uninstall
  # NSIS's uninstaller copies itself to %TEMP% and returns at once: wait
  # for what it deletes.
  uninstall() { # uninstall ARGS...: run the uninstaller, wait until it is done
    T=60 w "$dir/uninstall.exe" "$@" >/dev/null 2>&1
    # It deletes the program folder last (when empty).
    for _ in $(seq 300); do [ -e "$dir" ] || break; sleep 0.2; done
  }
  mkdir -p "$appdata/confab" && echo kept >"$appdata/confab/marker"
  uninstall /S
  left=$(find "$dir" "$startmenu/Confab.lnk" "$desktop/Confab.lnk" 2>/dev/null)
  [ -z "$left" ] && ok "uninstall /S removes the program folder and both shortcuts" || fail "uninstall left: $left"
  w reg query "$ukey" >/dev/null 2>&1 && fail "uninstall left the uninstall entry" || ok "uninstall removes the uninstall entry"
  [ -f "$appdata/confab/marker" ] && ok "uninstall /S keeps the user's data (%APPDATA%\\confab)" || fail "uninstall /S removed the user's data"

  # The LAN choice, silently, and the purge.
  if T=180 w "$SETUP_ABS" /S /LAN /NODESKTOP >"$tmp/setup.log" 2>&1 && [ -f "$dir/confab.exe" ]; then
    ok "installer /S /LAN /NODESKTOP"
    [ -e "$desktop/Confab.lnk" ] && fail "/NODESKTOP made a desktop shortcut" || ok "/NODESKTOP: no desktop shortcut"
    strings -el "$startmenu/Confab.lnk" | grep -q -- '--listen 0.0.0.0:7880' &&
      ok "/LAN: the Start menu shortcut starts the built-in server on the network (--listen 0.0.0.0:7880)" ||
      fail "/LAN: Start menu shortcut arguments: $(strings -el "$startmenu/Confab.lnk" | tr '\n' ' ')"
    fw=$(w reg query 'HKCU\Software\Confab' /v FirewallRule 2>/dev/null | tr -d '\r' | awk '/FirewallRule/ {print $NF}')
    [ "$fw" = 0x1 ] && ok "/LAN: the elevated netsh step ran (wine's netsh; the rule itself is not checked under wine)" ||
      fail "/LAN: FirewallRule not recorded (\"$fw\")"
    uninstall /S /PURGE
    [ ! -e "$appdata/confab" ] && [ ! -e "$dir" ] && ok "uninstall /S /PURGE removes the program and the user's data" ||
      fail "uninstall /PURGE left: $(find "$appdata/confab" "$dir" 2>/dev/null | head -5)"
  else fail "installer /S /LAN /NODESKTOP: $(tail -3 "$tmp/setup.log")"; fi
  exit 0
fi

# ------------------------------------------------------------ outer part
pass=0; failed=0; skipped=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $*"; }
summary() { echo "windows: $pass passed, $failed failed$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")"; }

echo "--- Windows: $SETUP"
if [ "${CONFAB_PKG_NOBUILD:-0}" != 1 ]; then
  VERSION=$VERSION scripts/package-windows.sh || { fail "make package-windows failed"; summary; exit 1; }
fi
if [ ! -f "$SETUP" ]; then
  skip "Windows: $SETUP is not built (make package-windows builds it; make test-package-windows builds and checks it)"
  summary; exit 0
fi
ok "built $SETUP ($(du -h "$SETUP" | cut -f1))"

tmp=$(mktemp -d /tmp/confab-wintest.XXXXXX)
cleanup() {
  # Stop what runs in this test's own wine prefix (nothing else).
  [ -d "$tmp/prefix" ] && WINEPREFIX=$tmp/prefix timeout 20 wineserver -k 2>/dev/null
  for f in "$tmp"/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -------------------------------------------------------- the .exe files
if command -v $HOST-objdump >/dev/null; then
  for exe in dist/windows/confab.exe dist/windows/confab-server.exe; do
    dlls=$($HOST-objdump -p "$exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
    bad=""
    for d in $dlls; do
      grep -qw -- "$d" <<<"$SYSTEM_DLLS" || [[ $d == api-ms-win-* ]] || bad="$bad $d"
    done
    [ -n "$dlls" ] && [ -z "$bad" ] && ok "$(basename "$exe") imports only Windows' own DLLs: $(tr '\n' ' ' <<<"$dlls")" ||
      fail "$(basename "$exe") imports DLLs that are not Windows' own and not installed beside it:${bad:- (none found?)}"
  done
  sub=$($HOST-objdump -p dist/windows/confab.exe | sed -n 's/^Subsystem[[:space:]]*\([0-9a-f]*\).*/\1/p')
  [ "$sub" = 00000002 ] && ok "confab.exe is a GUI program (no console window)" || fail "confab.exe subsystem \"$sub\", want 2 (GUI)"
  if $HOST-objdump -h dist/windows/confab.exe | grep -q '\.rsrc' &&
     strings -el dist/windows/confab.exe | grep -qx "$VERSION"; then
    ok "confab.exe carries its icon and version resource ($VERSION)"
  else fail "confab.exe has no resource section with the version"; fi
else skip "$HOST-objdump missing: DLL imports not checked (scripts/deps.sh windows)"; fi

# -------------------------------------------------------- under wine
if ! command -v wine >/dev/null || ! command -v xvfb-run >/dev/null; then
  skip "wine or xvfb-run is not installed (scripts/deps.sh wine): the installer and the .exe files were not run"
  summary; [ "$failed" -eq 0 ]; exit
fi
BOT=${CONFAB_BOT_BIN:-}
if [ -z "$BOT" ] || [ ! -x "$BOT" ]; then
  BOT=$tmp/confab-bot
  go build -o "$BOT" ./cmd/confab-bot || { fail "building confab-bot"; summary; exit 1; }
fi
export BOT SETUP_ABS VERSION
SETUP_ABS=$(realpath "$SETUP")
timeout 900 xvfb-run -a -s "-screen 0 1440x900x24 -nolisten tcp -noreset" "$0" --in-wine "$tmp"
rc=$?
[ $rc -eq 0 ] || fail "the wine checks ended with status $rc (124: timed out)"
if [ -f "$tmp/inner.results" ]; then
  pass=$((pass + $(grep -cx pass "$tmp/inner.results")))
  failed=$((failed + $(grep -cx fail "$tmp/inner.results")))
  skipped=$((skipped + $(grep -cx skip "$tmp/inner.results")))
fi
summary
[ "$failed" -eq 0 ]
