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

clean:
	rm -rf $(BIN) dist
