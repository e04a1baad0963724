package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// healthy asks a server's /healthz over 127.0.0.1.
func healthy(url string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct{ Status string }
	return json.NewDecoder(resp.Body).Decode(&h) == nil && h.Status == "ok"
}

// TestNetworkAccessRestartsTheBuiltInServer opens the built-in server to
// the network and closes it again, on the same port. Only /healthz on
// 127.0.0.1 is asked; no call is joined, so no media flows anywhere.
func TestNetworkAccessRestartsTheBuiltInServer(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	emb, err := startEmbedded("127.0.0.1:0", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(log, true)
	b.embedded = emb
	defer b.stopServer()
	url := emb.URL
	if b.NetworkAccess() || !strings.Contains(b.ServerHint(), "only this computer") {
		t.Fatalf("starts open: access %v, hint %q", b.NetworkAccess(), b.ServerHint())
	}

	if err := b.SetNetworkAccess(true); err != nil {
		t.Fatal(err)
	}
	if !b.NetworkAccess() || b.server().URL != url || !strings.Contains(b.server().Listen, "0.0.0.0:") {
		t.Fatalf("after opening: access %v, url %q (was %q), listen %q", b.NetworkAccess(), b.server().URL, url, b.server().Listen)
	}
	if h := b.ServerHint(); !strings.Contains(h, "others join with --server http://") && !strings.Contains(h, "Hosting on 0.0.0.0") {
		t.Errorf("hint %q does not give the address", h)
	}
	if !healthy(url) {
		t.Fatal("the reopened server does not answer on 127.0.0.1")
	}

	if err := b.SetNetworkAccess(false); err != nil {
		t.Fatal(err)
	}
	if b.NetworkAccess() || !healthy(url) {
		t.Fatalf("after closing: access %v, healthy %v", b.NetworkAccess(), healthy(url))
	}

	// Not during a call.
	b.devMu.Lock()
	b.inUse++
	b.devMu.Unlock()
	if err := b.SetNetworkAccess(true); err == nil || b.NetworkAccess() {
		t.Fatalf("changed during a call: err %v", err)
	}
}
