#!/usr/bin/env bash
# package.sh builds Confab's installable packages into dist/ (make package):
#
#   dist/confab-<version>-linux-amd64.tar.xz    the app, made by the fyne tool
#                                               (go tool fyne package, FyneApp.toml):
#                                               binary, .desktop entry, icon, Makefile
#   dist/confab_<debversion>_amd64.deb          the app for apt: /usr/bin/confab,
#                                               desktop menu entry, icon
#   dist/confab-server_<debversion>_amd64.deb   the server: systemd unit, /etc/confab,
#                                               system user, /var/lib/confab
#
# VERSION (git describe) and DEB_VERSION come from the Makefile, else from
# scripts/version.sh. The .debs are built by scripts/mkdeb (nfpm's deb
# packager) from packaging/confab.yaml and packaging/confab-server.yaml.
#   scripts/package.sh [app|server]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(scripts/version.sh)}
DEB_VERSION=${DEB_VERSION:-$(scripts/version.sh --deb "$VERSION")}
PKG_VERSION=${VERSION#v}
DIST=dist
STAGE=$DIST/stage
LDFLAGS="-X github.com/confab/confab/internal/version.Version=$VERSION"
# Reproducible timestamps in the archives: the last commit's time.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

what=("$@")
[ ${#what[@]} -gt 0 ] || what=(server app)

say() { echo "package: $*"; }
die() { echo "package: $*" >&2; exit 1; }

mkdir -p "$STAGE"
say "version $VERSION (deb $DEB_VERSION)"
say "building scripts/mkdeb"
$GO build -o "$STAGE/mkdeb" ./scripts/mkdeb

mkdeb() { # mkdeb CONFIG: build a .deb from an nfpm config into dist/
  DEB_VERSION=$DEB_VERSION STAGE=$STAGE "$STAGE/mkdeb" -config "$1" -out "$DIST"
}

server() {
  rm -f "$DIST"/confab-server_*.deb
  say "building confab-server (CGO_ENABLED=0)"
  CGO_ENABLED=0 $GO build -trimpath -ldflags "$LDFLAGS -s -w" -o "$STAGE/confab-server" ./cmd/confab-server
  mkdeb packaging/confab-server.yaml
}

app() {
  [ -f cmd/confab/main.go ] || die "cmd/confab is missing: nothing to package for the app"
  [ -f FyneApp.toml ] || die "FyneApp.toml is missing"
  rm -f "$DIST"/confab_*.deb "$DIST"/confab-*-linux-amd64.tar.xz

  # The fyne tool reads FyneApp.toml from the source dir, writes a metadata
  # file there during the build and bumps Build in FyneApp.toml afterwards.
  # So it packages a copy of cmd/confab under dist/_fynesrc (a "_" dir is
  # still in the module but outside ./... patterns), leaving the tree alone.
  local src=$DIST/_fynesrc/confab
  rm -rf "$DIST/_fynesrc" && mkdir -p "$src"
  cp -a cmd/confab/. "$src/"
  local icon
  icon=$(sed -n 's/^[[:space:]]*Icon[[:space:]]*=[[:space:]]*"\(.*\)"[[:space:]]*$/\1/p' FyneApp.toml | head -1)
  [ -n "$icon" ] && [ -f "$icon" ] || die "FyneApp.toml: Icon \"$icon\" not found"
  cp "$icon" "$src/Icon.png"
  sed 's/^\([[:space:]]*Icon[[:space:]]*=[[:space:]]*\).*/\1"Icon.png"/' FyneApp.toml > "$src/FyneApp.toml"

  # --app-version must be x.y.z: a release tag gives it, otherwise
  # FyneApp.toml's Version stands. The binary reports $VERSION either way.
  local appver=()
  [[ $PKG_VERSION =~ ^([0-9]+\.[0-9]+\.[0-9]+)(-|$) ]] && appver=(--app-version "${BASH_REMATCH[1]}")

  say "building the app with the fyne tool (cgo: Fyne, libvpx, libopus; minutes when cold)"
  rm -f "$STAGE/Confab.tar.xz"
  # The fyne tool passes -ldflags found in GOFLAGS on to go build.
  (cd "$STAGE" && GOFLAGS="-ldflags=-X=github.com/confab/confab/internal/version.Version=$VERSION" \
    $GO tool fyne package -os linux --src "../_fynesrc/confab" --release "${appver[@]}")
  [ -f "$STAGE/Confab.tar.xz" ] || die "the fyne tool made no Confab.tar.xz"

  # Unpack it: the .deb takes its binary, .desktop entry and icon from here.
  local tree=$STAGE/tar
  rm -rf "$tree" && mkdir -p "$tree"
  tar -xJf "$STAGE/Confab.tar.xz" -C "$tree"
  local top prefix
  top=$(find "$tree" -mindepth 1 -maxdepth 1 -type d | head -1)
  [ -f "$top/Makefile" ] || die "unexpected layout in Confab.tar.xz (no Makefile)"
  if [ -d "$top/usr/local/bin" ]; then prefix=$top/usr/local; else prefix=$top/usr; fi
  [ -x "$prefix/bin/confab" ] || die "Confab.tar.xz has no bin/confab"
  [ -f "$prefix/share/applications/io.confab.app.desktop" ] || die "Confab.tar.xz has no io.confab.app.desktop (app ID changed?)"
  [ -f "$prefix/share/pixmaps/io.confab.app.png" ] || die "Confab.tar.xz has no pixmaps/io.confab.app.png"

  # fyne tools v1.7.2 writes Icon := "<id>" into the Makefile but ships
  # <id>.png, so `make install` fails on the icon (fyne-io/tools#139). Fix it
  # and repack; everything else is as the fyne tool made it.
  sed -i '/^Icon := ".*\.png"$/! s/^Icon := "\(.*\)"$/Icon := "\1.png"/' "$top/Makefile"
  grep -q '^Icon := ".*\.png"$' "$top/Makefile" || die "could not fix the icon name in the fyne tool's Makefile"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    -C "$tree" -cJf "$DIST/confab-$PKG_VERSION-linux-amd64.tar.xz" "$(basename "$top")"
  echo "$DIST/confab-$PKG_VERSION-linux-amd64.tar.xz"

  mkdir -p "$STAGE/app"
  install -m 0755 "$prefix/bin/confab" "$STAGE/app/confab"
  install -m 0644 "$prefix/share/applications/io.confab.app.desktop" "$STAGE/app/io.confab.app.desktop"
  install -m 0644 "$prefix/share/pixmaps/io.confab.app.png" "$STAGE/app/io.confab.app.png"
  mkdeb packaging/confab.yaml
  rm -rf "$DIST/_fynesrc"
}

for w in "${what[@]}"; do
  case "$w" in
    app|server) "$w" ;;
    *) die "unknown part \"$w\" (app or server)" ;;
  esac
done
