#!/usr/bin/env bash
# test-package.sh checks what `make package` builds (make test-package).
#
#   1. builds dist/ with scripts/package.sh (CONFAB_PKG_NOBUILD=1: use dist/ as is);
#   2. inspects both .debs: control fields, file lists and modes, conffiles,
#      maintainer scripts, the systemd unit, the .desktop entry and icon, and
#      that every shared library the app links belongs to a declared Depends;
#   3. inspects the fyne tool's tar.xz and runs its `make install` into a
#      scratch dir;
#   4. installs both .debs with dpkg, maintainer scripts and all, into a
#      throwaway root: an overlay of this machine's / in a private mount
#      namespace, so nothing on the host changes (needs root; otherwise the
#      .debs are only extracted with dpkg -x and those checks are skipped);
#   5. starts the installed confab-server as the confab user on 127.0.0.1
#      with free ports, expects {"status":"ok"} from /healthz, makes a token
#      with `confab-server token` and checks it is signed with the server's
#      secret, checks `confab-server version` and `confab --version`, stops
#      the server, then removes and purges the packages;
#   6. checks the Windows installer: scripts/test-package-windows.sh (under
#      wine; skipped, saying why, without wine or without the installer).
#
# Bounded in time (every wait has a timeout), only uses 127.0.0.1, cleans up.
# Exits non-zero on any failure; the last line is "package: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C PATH=$PATH:/usr/sbin:/sbin

# ---------------------------------------------------------------- inner part
# Runs as `test-package.sh --in-root TMP` inside `unshare --mount`: mounts
# an overlay of / at TMP/root and installs the packages there with chroot.
if [ "${1:-}" = "--in-root" ]; then
  tmp=$2; server_deb=$3; app_deb=$4; VERSION=$5
  root=$tmp/root
  out=$tmp/inner.results
  : >"$out"
  ok() { echo "ok   $*"; echo pass >>"$out"; }
  fail() { echo "FAIL $*"; echo fail >>"$out"; }
  in_root() { timeout "${T:-60}" chroot "$root" "$@"; }

  mount --make-rprivate / || { fail "install: mount --make-rprivate /"; exit 0; }
  mkdir -p "$tmp/upper" "$tmp/work" "$root"
  if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/upper,workdir=$tmp/work" "$root" 2>"$tmp/err"; then
    echo "SKIP install: cannot mount an overlay of / ($(cat "$tmp/err"))"
    echo skip >>"$out"; exit 0
  fi
  # A private /dev with the few nodes dpkg, adduser and Go need, a fresh
  # /proc, an empty /run (no /run/systemd/system: the scripts skip systemctl).
  mount -t tmpfs -o mode=755 devtmp "$root/dev" &&
    for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
      IFS=: read -r name maj min <<<"$n"; mknod -m 666 "$root/dev/$name" c "$maj" "$min"
    done &&
    mount -t proc proc "$root/proc" &&
    mount -t tmpfs -o mode=755 runtmp "$root/run" &&
    mount -t tmpfs -o mode=1777 tmptmp "$root/tmp" ||
    { fail "install: mounting /dev, /proc, /run, /tmp in the throwaway root"; exit 0; }
  cp "$server_deb" "$app_deb" "$root/tmp/"
  sdeb=/tmp/$(basename "$server_deb"); adeb=/tmp/$(basename "$app_deb")

  # Fresh state: the packages are not installed, the user does not exist.
  in_root dpkg --purge confab confab-server >/dev/null 2>&1
  in_root sh -c 'userdel confab; groupdel confab; rm -rf /var/lib/confab /etc/confab' >/dev/null 2>&1

  if T=300 in_root dpkg -i "$sdeb" "$adeb" >"$tmp/dpkg.log" 2>&1; then
    ok "install: dpkg -i confab-server and confab (Depends satisfied, maintainer scripts ran)"
  else
    fail "install: dpkg -i failed:"; sed 's/^/     /' "$tmp/dpkg.log" | tail -20
  fi
  for p in confab-server confab; do
    st=$(in_root dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null)
    pv=$(dpkg-deb -f "$([ $p = confab ] && echo "$app_deb" || echo "$server_deb")" Version)
    if [ "$st" = "install ok installed $pv" ]; then ok "install: $p is installed at $pv"
    else fail "install: $p status is \"$st\", want \"install ok installed $pv\""; fi
  done

  pw=$(in_root getent passwd confab)
  IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
  if [ -n "$pw" ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/confab ] && [ "$shell" = /usr/sbin/nologin ] &&
     [ "$(in_root getent group confab | cut -d: -f3)" = "$gid" ]; then
    ok "install: system user and group confab (uid $uid, no login shell)"
  else fail "install: user confab: \"$pw\""; fi
  d=$(in_root stat -c '%U:%G %a' /var/lib/confab 2>&1)
  [ "$d" = "confab:confab 750" ] && ok "install: /var/lib/confab is confab:confab 0750" || fail "install: /var/lib/confab is \"$d\""
  d=$(in_root stat -c '%U:%G %a' /etc/confab/server.env 2>&1)
  [ "$d" = "root:root 640" ] && ok "install: /etc/confab/server.env is root:root 0640" || fail "install: /etc/confab/server.env is \"$d\""
  if in_root sh -c 'command -v confab-server && command -v confab' >/dev/null; then ok "install: confab and confab-server on the PATH"
  else fail "install: confab or confab-server not on the PATH"; fi

  if command -v systemd-analyze >/dev/null; then
    if in_root systemd-analyze verify /lib/systemd/system/confab-server.service >"$tmp/verify" 2>&1; then
      ok "install: systemd-analyze verify confab-server.service"
    else fail "install: systemd-analyze verify: $(head -5 "$tmp/verify")"; fi
  fi

  v=$(in_root /usr/bin/confab-server version 2>&1)
  [ "$v" = "confab-server $VERSION" ] && ok "installed confab-server version: $v" || fail "installed confab-server version: \"$v\", want \"confab-server $VERSION\""

  # The app's --version must not need a display.
  v=$(T=20 in_root env -i PATH=/usr/bin:/bin HOME=/tmp /usr/bin/confab --version 2>&1 </dev/null)
  [[ $v == *"$VERSION"* ]] && ok "installed confab --version: $v" || fail "installed confab --version printed \"${v:0:300}\", want $VERSION"

  # Start the server the way the unit does: as confab, CONFAB_DATA from the
  # unit, then server.env; --addr/--udp-port pick free loopback ports.
  . scripts/lib/free_port.sh
  port=$(free_port tcp); uport=$(free_port udp)
  envs=(CONFAB_DATA=/var/lib/confab)
  while IFS= read -r l; do envs+=("$l"); done < <(grep -E '^[A-Z_]+=' "$root/etc/confab/server.env")
  chroot "$root" setpriv --reuid=confab --regid=confab --init-groups --inh-caps=-all \
    env -i PATH=/usr/bin:/bin "${envs[@]}" \
    /usr/bin/confab-server serve --addr "127.0.0.1:$port" --udp-port "$uport" >"$tmp/server.log" 2>&1 &
  spid=$!
  echo "$spid" >"$tmp/server.pid"
  health=""
  for _ in $(seq 100); do
    health=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null) && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.2
  done
  if [[ $health == *'"status":"ok"'* ]]; then ok "installed server answers /healthz on 127.0.0.1:$port: $health"
  else fail "installed server /healthz: \"$health\"; log:"; sed 's/^/     /' "$tmp/server.log" | tail -10; fi

  s=$(in_root stat -c '%U %a' /var/lib/confab/secret 2>&1)
  [ "$s" = "confab 600" ] && ok "server created /var/lib/confab/secret (confab, 0600)" || fail "/var/lib/confab/secret: \"$s\""

  # `confab-server token` as documented: as confab, with the same data dir.
  tok=$(in_root setpriv --reuid=confab --regid=confab --init-groups env -i PATH=/usr/bin:/bin \
    confab-server token --data /var/lib/confab --room pkgtest --identity tester 2>"$tmp/err")
  IFS=. read -r th tp ts <<<"$tok"
  if [ -z "$ts" ]; then
    fail "confab-server token made no JWT: \"$tok\" $(cat "$tmp/err")"
  elif command -v openssl >/dev/null; then
    want=$(printf '%s' "$th.$tp" | openssl dgst -sha256 -mac HMAC \
      -macopt "hexkey:$(tr -d ' \n\t\r' <"$root/var/lib/confab/secret" | od -An -tx1 | tr -d ' \n')" -binary |
      base64 | tr '+/' '-_' | tr -d '=\n')
    [ "$want" = "$ts" ] && ok "confab-server token is signed with the server's secret" ||
      fail "confab-server token signature does not match /var/lib/confab/secret"
  else
    ok "confab-server token printed a JWT (openssl missing: signature not checked)"
  fi

  if kill -0 "$spid" 2>/dev/null; then
    kill -TERM "$spid"
    for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$spid" 2>/dev/null; then
      kill -KILL "$spid"; fail "server did not stop within 10s of SIGTERM"
    else
      wait "$spid"; rc=$?
      [ $rc -eq 0 ] && ok "server stopped cleanly on SIGTERM" || fail "server exited $rc on SIGTERM"
    fi
  else
    fail "server was not running at the end; log:"; sed 's/^/     /' "$tmp/server.log" | tail -10
  fi

  # Remove keeps the data and config; purge deletes them.
  if in_root dpkg -r confab confab-server >"$tmp/dpkg.log" 2>&1 &&
     [ ! -e "$root/usr/bin/confab-server" ] && [ ! -e "$root/usr/bin/confab" ] &&
     [ -f "$root/var/lib/confab/secret" ] && [ -f "$root/etc/confab/server.env" ]; then
    ok "dpkg -r removes the binaries, keeps /var/lib/confab and the conffile"
  else fail "dpkg -r: $(tail -5 "$tmp/dpkg.log")"; fi
  if in_root dpkg -P confab confab-server >"$tmp/dpkg.log" 2>&1 &&
     [ ! -e "$root/var/lib/confab" ] && [ ! -e "$root/etc/confab" ]; then
    ok "dpkg -P purges /var/lib/confab and /etc/confab"
  else fail "dpkg -P: $(tail -5 "$tmp/dpkg.log")"; fi
  exit 0
fi

# ---------------------------------------------------------------- outer part
pass=0; failed=0; skipped=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $*"; }

tmp=$(mktemp -d /tmp/confab-pkgtest.XXXXXX)
cleanup() {
  # Mounts only ever exist inside the unshare'd namespace, which is gone
  # (or at least invisible) here, so this deletes plain files only.
  [ -f "$tmp/server.pid" ] && kill -KILL "$(cat "$tmp/server.pid")" 2>/dev/null
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in dpkg-deb dpkg-query readelf ldconfig tar xz make curl od; do
  command -v "$t" >/dev/null || { fail "$t is not installed (scripts/deps.sh test)"; echo "package: $pass passed, $failed failed"; exit 1; }
done

VERSION=${VERSION:-$(scripts/version.sh)}
DEB_VERSION=${DEB_VERSION:-$(scripts/version.sh --deb "$VERSION")}
PKG_VERSION=${VERSION#v}

if [ "${CONFAB_PKG_NOBUILD:-0}" != 1 ]; then
  echo "test-package: building packages (scripts/package.sh)"
  if ! VERSION=$VERSION DEB_VERSION=$DEB_VERSION scripts/package.sh; then
    fail "make package failed"
    echo "package: $pass passed, $failed failed"; exit 1
  fi
fi

server_deb=dist/confab-server_${DEB_VERSION}_amd64.deb
app_deb=dist/confab_${DEB_VERSION}_amd64.deb
tarball=dist/confab-${PKG_VERSION}-linux-amd64.tar.xz
for f in "$server_deb" "$app_deb" "$tarball"; do
  [ -f "$f" ] && ok "built $f ($(du -h "$f" | cut -f1))" || fail "missing $f (run make package)"
done
if [ ! -f "$server_deb" ] || [ ! -f "$app_deb" ] || [ ! -f "$tarball" ]; then
  echo "package: $pass passed, $failed failed"; exit 1
fi

# field DEB NAME: a control field
field() { dpkg-deb -f "$1" "$2"; }
depends_names() { # the package names in a Depends line
  tr ',|' '\n\n' <<<"$1" | sed 's/(.*)//; s/:.*//; s/[[:space:]]//g' | grep .
}
# files DEB: "mode path" for every regular file in the data archive
files() { dpkg-deb --fsys-tarfile "$1" | tar -tvf - | awk '$1 !~ /^d/ {print $1, $6}' | sed 's| \./| /|' | sort; }

# ------------------------------------------------------- confab-server.deb
echo "--- $server_deb"
c="$(field "$server_deb" Package) $(field "$server_deb" Version) $(field "$server_deb" Architecture)"
[ "$c" = "confab-server $DEB_VERSION amd64" ] && ok "server control: Package, Version, Architecture: $c" ||
  fail "server control: \"$c\", want \"confab-server $DEB_VERSION amd64\""
deps=$(field "$server_deb" Depends)
depends_names "$deps" | grep -qx adduser && ok "server control: Depends: $deps (postinst uses adduser)" ||
  fail "server control: Depends \"$deps\" lacks adduser"
got=$(files "$server_deb")
want="-rw-r----- /etc/confab/server.env
-rw-r--r-- /lib/systemd/system/confab-server.service
-rw-r--r-- /usr/share/doc/confab-server/README.Debian
-rwxr-xr-x /usr/bin/confab-server"
[ "$got" = "$(sort <<<"$want")" ] && ok "server files: $(awk '{print $2}' <<<"$got" | tr '\n' ' ')" ||
  fail "server files:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
dpkg-deb -e "$server_deb" "$tmp/sctl"
[ "$(cat "$tmp/sctl/conffiles" 2>/dev/null)" = /etc/confab/server.env ] && ok "server conffiles: /etc/confab/server.env" ||
  fail "server conffiles: \"$(cat "$tmp/sctl/conffiles" 2>/dev/null)\""
bad=""
for s in postinst prerm postrm; do
  { [ -x "$tmp/sctl/$s" ] && sh -n "$tmp/sctl/$s" && grep -q 'set -e' "$tmp/sctl/$s"; } || bad="$bad $s"
done
grep -q '\[ -d /run/systemd/system \]' "$tmp/sctl/postinst" || bad="$bad postinst(no systemd guard)"
[ -z "$bad" ] && ok "server maintainer scripts postinst, prerm, postrm: executable, sh -n, set -e, systemd guarded" ||
  fail "server maintainer scripts:$bad"
dpkg-deb -x "$server_deb" "$tmp/sx"
if readelf -d "$tmp/sx/usr/bin/confab-server" 2>/dev/null | grep -q NEEDED || readelf -l "$tmp/sx/usr/bin/confab-server" | grep -q INTERP; then
  fail "confab-server is not static (CGO_ENABLED=0 expected)"
else ok "confab-server is a static binary (no shared libraries, hence no Depends)"; fi
unit=$tmp/sx/lib/systemd/system/confab-server.service
missing=""
for l in User=confab EnvironmentFile=-/etc/confab/server.env 'ExecStart=/usr/bin/confab-server serve' \
  Environment=CONFAB_DATA=/var/lib/confab StateDirectory=confab NoNewPrivileges=yes ProtectSystem=strict \
  ProtectHome=yes PrivateTmp=yes ReadWritePaths=/var/lib/confab AmbientCapabilities= CapabilityBoundingSet= \
  WantedBy=multi-user.target; do
  grep -qx -- "$l" "$unit" || missing="$missing $l"
done
[ -z "$missing" ] && ok "server unit: user confab, server.env, CONFAB_DATA, hardening, WantedBy" || fail "server unit lacks:$missing"
if command -v systemd-analyze >/dev/null; then
  e=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for confab-server.service: \([0-9.]*\).*/\1/p')
  if [ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e <= 3.0) }'; then ok "server unit: systemd-analyze security exposure $e (<= 3.0)"
  else fail "server unit: systemd-analyze security exposure \"$e\", want <= 3.0"; fi
fi

# ------------------------------------------------------------- confab.deb
echo "--- $app_deb"
c="$(field "$app_deb" Package) $(field "$app_deb" Version) $(field "$app_deb" Architecture)"
[ "$c" = "confab $DEB_VERSION amd64" ] && ok "app control: Package, Version, Architecture: $c" ||
  fail "app control: \"$c\", want \"confab $DEB_VERSION amd64\""
adeps=$(field "$app_deb" Depends)
got=$(files "$app_deb")
want="-rw-r--r-- /usr/share/applications/io.confab.app.desktop
-rw-r--r-- /usr/share/icons/hicolor/512x512/apps/io.confab.app.png
-rwxr-xr-x /usr/bin/confab"
[ "$got" = "$(sort <<<"$want")" ] && ok "app files: $(awk '{print $2}' <<<"$got" | tr '\n' ' ')" ||
  fail "app files:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
dpkg-deb -x "$app_deb" "$tmp/ax"
desk=$tmp/ax/usr/share/applications/io.confab.app.desktop
if grep -qx 'Type=Application' "$desk" && grep -qx 'Name=Confab' "$desk" && grep -qx 'Icon=io.confab.app' "$desk" &&
   grep -Eqx 'Exec=confab( .*)?' "$desk"; then
  ok "app .desktop entry: Name=Confab, Exec=confab (on PATH), Icon=io.confab.app"
else fail "app .desktop entry:"$'\n'"$(cat "$desk")"; fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desk" >"$tmp/err" 2>&1 && ok "desktop-file-validate" || fail "desktop-file-validate: $(cat "$tmp/err")"
fi
png=$tmp/ax/usr/share/icons/hicolor/512x512/apps/io.confab.app.png
read -r w h < <(od -An -tu1 -j16 -N8 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}')
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$w x $h" = "512 x 512" ] &&
  ok "app icon: a 512x512 PNG in hicolor/512x512" || fail "app icon: not a 512x512 PNG (${w:-?} x ${h:-?})"

# Every library the app links (NEEDED) must come from a package in Depends.
bin=$tmp/ax/usr/bin/confab
missing=""; notfound=""; n=0
while read -r so; do
  n=$((n + 1))
  path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ {print $NF; exit}')
  if [ -z "$path" ]; then notfound="$notfound $so"; continue; fi
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "*/$so" 2>/dev/null)
  pkg=$(head -1 <<<"$pkg" | cut -d: -f1)
  depends_names "$adeps" | grep -qx "$pkg" || missing="$missing $so($pkg)"
done < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ "$n" -gt 0 ] && [ -z "$missing$notfound" ]; then
  ok "app Depends covers all $n linked libraries: $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
else fail "app Depends: libraries from undeclared packages:${missing:- none}; not found on this system:${notfound:- none}"; fi
if command -v dpkg-shlibdeps >/dev/null; then
  mkdir -p "$tmp/shl/debian"
  printf 'Source: confab\n\nPackage: confab\nArchitecture: any\n' >"$tmp/shl/debian/control"
  if sd=$(cd "$tmp/shl" && dpkg-shlibdeps -O "$bin" 2>"$tmp/err"); then
    sd=${sd#shlibs:Depends=}
    missing=""
    for p in $(depends_names "$sd"); do depends_names "$adeps" | grep -qx "$p" || missing="$missing $p"; done
    [ -z "$missing" ] && ok "app Depends includes everything dpkg-shlibdeps computes ($sd)" ||
      fail "app Depends lacks what dpkg-shlibdeps computes:$missing (it says: $sd)"
  else fail "dpkg-shlibdeps: $(head -3 "$tmp/err")"; fi
else skip "dpkg-shlibdeps not installed (scripts/deps.sh test installs dpkg-dev)"; fi
# What GLFW and miniaudio dlopen at run time is invisible to the checks above.
missing=""
for p in libasound2 libxcursor1 libxi6 libxinerama1 libxrandr2 libxxf86vm1 libegl1 libwayland-cursor0 libwayland-egl1 libxkbcommon0; do
  depends_names "$adeps" | grep -qx "$p" || missing="$missing $p"
done
[ -z "$missing" ] && ok "app Depends: the libraries opened with dlopen (ALSA; GLFW's X11 extensions, EGL, Wayland)" ||
  fail "app Depends lacks dlopened libraries:$missing"
# Fyne finds Chinese, Japanese and Korean glyphs only among system fonts.
depends_names "$adeps" | grep -qx fonts-wqy-microhei && ok "app Depends: a CJK font (fonts-wqy-microhei)" ||
  fail "app Depends lacks a CJK font (fonts-wqy-microhei)"

# ----------------------------------------------------------------- tar.xz
echo "--- $tarball"
tar -tJf "$tarball" >"$tmp/tarlist" 2>"$tmp/err" || fail "tar -t $tarball: $(cat "$tmp/err")"
top=$(head -1 "$tmp/tarlist" | cut -d/ -f1)
for f in Makefile usr/local/bin/confab usr/local/share/applications/io.confab.app.desktop usr/local/share/pixmaps/io.confab.app.png; do
  grep -qx "$top/$f\|$top/${f/local\//}" "$tmp/tarlist" || missing_t="${missing_t:-} $f"
done
[ -z "${missing_t:-}" ] && ok "tar.xz (fyne tool): Makefile, bin/confab, .desktop entry, icon" || fail "tar.xz lacks:${missing_t}"
mkdir -p "$tmp/tx" "$tmp/tdest"
tar -xJf "$tarball" -C "$tmp/tx"
if make -s -C "$tmp/tx/$top" install DESTDIR="$tmp/tdest" PREFIX=/usr >"$tmp/err" 2>&1 &&
   [ -x "$tmp/tdest/usr/bin/confab" ] && [ -f "$tmp/tdest/usr/share/applications/io.confab.app.desktop" ] &&
   [ -f "$tmp/tdest/usr/share/pixmaps/io.confab.app.png" ]; then
  ok "tar.xz: make install DESTDIR=… installs the binary, .desktop entry and icon"
else fail "tar.xz: make install: $(tail -3 "$tmp/err")"; fi
cmp -s "$tmp/tdest/usr/bin/confab" "$bin" && ok "tar.xz and .deb ship the same confab binary" ||
  fail "tar.xz and .deb binaries differ"

# ---------------------------------------------- install into a throwaway root
echo "--- install into a throwaway root"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare --mount true 2>/dev/null; then
  timeout 600 unshare --mount --propagation private "$0" --in-root "$tmp" "$(realpath "$server_deb")" \
    "$(realpath "$app_deb")" "$VERSION"
  rc=$?
  [ $rc -eq 0 ] || fail "install checks ended with status $rc (124: timed out)"
  if [ -f "$tmp/inner.results" ]; then
    pass=$((pass + $(grep -cx pass "$tmp/inner.results")))
    failed=$((failed + $(grep -cx fail "$tmp/inner.results")))
    skipped=$((skipped + $(grep -cx skip "$tmp/inner.results")))
  fi
  if grep -qx skip "$tmp/inner.results" 2>/dev/null; then fallback=1; else fallback=0; fi
else
  skip "install with dpkg: needs root and unshare --mount; checking the extracted .debs instead"
  fallback=1
fi

if [ "$fallback" = 1 ]; then
  # Run the extracted server with a scratch data dir.
  v=$("$tmp/sx/usr/bin/confab-server" version 2>&1)
  [ "$v" = "confab-server $VERSION" ] && ok "extracted confab-server version: $v" || fail "confab-server version: \"$v\""
  port=$((20000 + RANDOM % 40000)); uport=$((20000 + RANDOM % 40000))
  "$tmp/sx/usr/bin/confab-server" serve --addr "127.0.0.1:$port" --udp-port "$uport" --data "$tmp/data" >"$tmp/server.log" 2>&1 &
  echo $! >"$tmp/server.pid"
  health=""
  for _ in $(seq 100); do
    health=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null) && break; sleep 0.2
  done
  [[ $health == *'"status":"ok"'* ]] && ok "extracted server answers /healthz: $health" || fail "extracted server /healthz: \"$health\" $(tail -5 "$tmp/server.log")"
  spid=$(cat "$tmp/server.pid"); kill -TERM "$spid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$spid" 2>/dev/null; rm -f "$tmp/server.pid"
fi

# ------------------------------------------------------ the Windows installer
# scripts/test-package-windows.sh: built here too unless CONFAB_PKG_NOBUILD=1
# (then checked only if dist/ has it), run under wine where wine is.
VERSION=$VERSION timeout 1800 scripts/test-package-windows.sh | tee "$tmp/windows.out"
if ! last=$(grep -E '^windows: [0-9]+ passed' "$tmp/windows.out" | tail -1) || [ -z "$last" ]; then
  fail "the Windows checks ended without a result (timed out?)"
else
  pass=$((pass + $(sed -E 's/^windows: ([0-9]+) passed.*/\1/' <<<"$last")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$last")))
  grep -q skipped <<<"$last" && skipped=$((skipped + $(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$last")))
fi

echo "package: $pass passed, $failed failed$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")"
[ "$failed" -eq 0 ]
