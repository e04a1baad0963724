package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/ui"
)

// TestTakeOverWhenTheHostingAppQuits runs two "apps" on one data dir and
// port: the first hosts the built-in server, the second uses it and is in
// a call. When the first quits, the second hosts the server itself (same
// port, same data dir), its call rejoins, its hint says so, and a new
// join works. Everything stays on 127.0.0.1.
func TestTakeOverWhenTheHostingAppQuits(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	host, err := startEmbedded("127.0.0.1:0", dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Stop()
	shared, err := startEmbedded(host.Listen, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if !shared.Shared {
		t.Fatal("the second app did not use the first one's server")
	}
	b := newBackend(log, true)
	b.setServer(shared)
	defer b.stopServer()
	var mu sync.Mutex
	changes := 0
	b.OnServerChanged(func() {
		mu.Lock()
		changes++
		mu.Unlock()
	})
	if !strings.HasPrefix(b.ServerHint(), "Using the Confab server already running") {
		t.Fatalf("hint = %q", b.ServerHint())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := b.Join(ctx, ui.JoinRequest{Name: "Bea", Room: "takeover", UseTestPattern: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Leave()
	rejoined := make(chan struct{})
	var once sync.Once
	go func() {
		for ev := range c.Events() {
			if w, ok := ev.(client.Welcome); ok && w.Rejoined {
				once.Do(func() { close(rejoined) })
			}
		}
	}()

	host.Stop() // the first app quits
	select {
	case <-rejoined:
	case <-time.After(60 * time.Second):
		t.Fatalf("the call did not rejoin after the hosting app quit; hint %q", b.ServerHint())
	}
	if e := b.server(); e.Shared || e.Listen != host.Listen || e.dataDir != dir {
		t.Errorf("built-in server now: shared %v at %s in %s, want hosted here at %s in %s", e.Shared, e.Listen, e.dataDir, host.Listen, dir)
	}
	if h := b.ServerHint(); !strings.HasPrefix(h, "Hosting on this computer") {
		t.Errorf("hint after the take-over = %q", h)
	}
	mu.Lock()
	if changes != 1 {
		t.Errorf("the UI was told of %d server changes, want 1", changes)
	}
	mu.Unlock()

	// A second participant joins through the server now hosted here.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel2()
	s, err := client.Join(ctx2, client.Config{Server: b.server().URL, Room: "takeover", Name: "Cal", LoopbackOnly: true, ReconnectFor: -1})
	if err != nil {
		t.Fatalf("joining after the take-over: %v", err)
	}
	s.Leave()
}
