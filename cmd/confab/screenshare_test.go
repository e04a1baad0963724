package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/ui"
)

// TestScreenShare shares the (Xvfb) screen through the app's backend and
// checks that another participant sees the share start, decodes its
// frames, and sees it stop.
func TestScreenShare(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A second backend: the window's own may be in the other test's call.
	b := newBackend(e2e.backend.log, true)
	b.embedded = e2e.emb
	b.capture = e2e.backend.capture
	c, err := b.Join(ctx, ui.JoinRequest{Name: "Sharer", Room: "share"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Leave()
	go func() {
		for range c.Events() {
		}
	}()
	sharer := c.(*call).Self().ID

	m, err := clientmedia.New(clientmedia.Options{NoSpeaker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	viewer, err := client.Join(ctx, client.Config{Server: e2e.emb.URL, Room: "share", Name: "Viewer",
		Decoders: m, Audio: m, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Leave()
	var (
		mu      sync.Mutex
		sharing bool
		screen  client.VideoSource
	)
	go func() {
		for ev := range viewer.Events() {
			mu.Lock()
			switch e := ev.(type) {
			case client.ParticipantUpdated:
				if e.Participant.ID == sharer {
					sharing = e.Participant.Screen
				}
			case client.VideoAdded:
				if e.ParticipantID == sharer && e.Source == "screen" {
					screen = e.Video
				}
			}
			mu.Unlock()
		}
	}()

	if err := c.SetScreenShare(true); err != nil {
		t.Fatalf("start sharing: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	var seq uint64
	for time.Now().Before(deadline) {
		mu.Lock()
		if screen != nil {
			if _, size, s := screen.Render(nil, 16, 16, false); s != 0 {
				seq = s
				if size.X <= 640 {
					t.Errorf("shared video is %v: the camera's size, not the screen's", size)
				}
			}
		}
		ok := sharing && seq > 1
		mu.Unlock()
		if ok {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	if !sharing || seq < 2 {
		t.Fatalf("viewer: sharing=%v, screen frames decoded=%d", sharing, seq)
	}
	mu.Unlock()

	if err := c.SetScreenShare(false); err != nil {
		t.Fatalf("stop sharing: %v", err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		stopped := !sharing
		mu.Unlock()
		if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("viewer did not see the share stop")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
