package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
)

// TestInviteCLI makes a link with the CLI against a data directory, reads
// it back from the store, and revokes it.
func TestInviteCLI(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := inviteCmd([]string{"--data", dir, "--room", "support 7", "--ttl", "2h", "--uses", "3", "--url", "https://confab.example.com/"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^https://confab\.example\.com/j/([23456789ABCDEFGHJKMNPQRSTUVWXYZ]{7})\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output %q has no link", out.String())
	}
	code := m[1]
	if !strings.Contains(out.String(), `room "support 7"`) || !strings.Contains(out.String(), "3 use(s)") {
		t.Errorf("output %q", out.String())
	}

	dd, err := server.OpenDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := dd.Store.LookupInvite(context.Background(), code, time.Now())
	if err != nil || inv.Room != "support 7" || inv.MaxUses != 3 || inv.Creator != "admin" ||
		inv.Expires.Sub(time.Now()) < 119*time.Minute || inv.Expires.Sub(time.Now()) > 121*time.Minute {
		t.Fatalf("stored %+v, %v", inv, err)
	}
	dd.Close()

	out.Reset()
	if err := inviteCmd([]string{"revoke", "--data", dir, strings.ToLower(code)}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "revoked "+code) {
		t.Errorf("revoke said %q", out.String())
	}
	dd, err = server.OpenDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dd.Close()
	if _, err := dd.Store.LookupInvite(context.Background(), code, time.Now()); !errors.Is(err, store.ErrInviteRevoked) {
		t.Fatalf("after revoke: %v", err)
	}

	for _, args := range [][]string{
		{"--data", dir}, // no room
		{"--data", dir, "--room", "r", "--ttl", "10s"}, // too short
		{"--data", dir, "--room", "r", "--uses", "-1"}, // negative
		{"--data", dir, "--room", "r", "extra"},        // stray argument
		{"revoke", "--data", dir, "ABCDEFG"},           // unknown code
		{"revoke", "--data", dir, "0000000"},           // not a code
		{"revoke", "--data", dir},                      // no code
	} {
		if err := inviteCmd(args, &out); err == nil {
			t.Errorf("invite %q succeeded", args)
		}
	}
}

func TestInviteCLIDefaultURL(t *testing.T) {
	t.Setenv("CONFAB_ADDR", "127.0.0.1:9999")
	t.Setenv("CONFAB_URL", "")
	var out bytes.Buffer
	if err := inviteCmd([]string{"--data", t.TempDir(), "--room", "r"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "http://127.0.0.1:9999/j/") {
		t.Fatalf("output %q", out.String())
	}
}
