package main

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/confab/confab/ui"
)

// TestInviteLinkFromTheApp joins a room on the built-in server through
// the app's backend and makes an invite link (ui.Inviter): the link opens
// the guest page and works for an hour.
func TestInviteLinkFromTheApp(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	emb, err := startEmbedded("127.0.0.1:0", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Stop()
	b := newBackend(log, true)
	b.embedded = emb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := b.Join(ctx, ui.JoinRequest{Name: "Ada", Room: "invite me", MicOff: true, CameraOff: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Leave()
	inv, ok := c.(ui.Inviter)
	if !ok {
		t.Fatal("the app's call is no ui.Inviter")
	}
	link, expires, err := inv.InviteLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(emb.URL) + `/j/[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{7}$`).MatchString(link) {
		t.Fatalf("link %q, want %s/j/CODE", link, emb.URL)
	}
	if d := time.Until(expires); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("the link works until %v, want in an hour", expires)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", link, resp.Status)
	}
}
