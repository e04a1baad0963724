# Confab — `make run` to start the app, `make test` to run every test.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/confab/confab/internal/version.Version=$(VERSION)
BIN := bin

.PHONY: all deps build run test test-fast bench fuzz screenshots package clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/confab ./cmd/confab-bot
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/confab-server

run: build
	$(BIN)/confab $(ARGS)

test: deps
	@scripts/test.sh

bench: deps
	@scripts/bench.sh

fuzz:
	$(GO) test ./signaling/wire -run '^$$' -fuzz FuzzDecode -fuzztime 60s

screenshots: deps
	@scripts/screenshots.sh

clean:
	rm -rf $(BIN) dist

# Packages (see packaging/): dist/confab-<v>-linux-amd64.tar.xz (fyne tool),
# dist/confab_<debv>_amd64.deb and dist/confab-server_<debv>_amd64.deb (nfpm).
DEB_VERSION = $(shell scripts/version.sh --deb $(VERSION))

.PHONY: test-package package-windows test-package-windows

package: deps
	@VERSION=$(VERSION) DEB_VERSION=$(DEB_VERSION) scripts/package.sh

# The Windows installer, dist/Confab-<v>-setup.exe, cross-built on Linux
# (scripts/package-windows.sh; the C libraries are built once into
# ~/.cache/confab-win from Debian's source packages).
package-windows: deps
	@scripts/deps.sh windows
	@VERSION=$(VERSION) scripts/package-windows.sh

# Builds the installer and checks it under wine (scripts/test-package-windows.sh).
test-package-windows: package-windows
	@scripts/deps.sh test wine
	@VERSION=$(VERSION) CONFAB_PKG_NOBUILD=1 scripts/test-package-windows.sh

# Builds the packages, inspects them, installs them into a throwaway root
# and starts the installed server. CONFAB_PKG_NOBUILD=1 tests dist/ as is.
test-package: deps
	@scripts/deps.sh test windows wine
	@VERSION=$(VERSION) DEB_VERSION=$(DEB_VERSION) scripts/test-package.sh
