package invite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/store"
)

func TestNewCode(t *testing.T) {
	for _, c := range "0O1lIL" {
		if strings.ContainsRune(Alphabet, c) {
			t.Fatalf("the alphabet has the look-alike %q", c)
		}
	}
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 3000
	for range n {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != CodeLen {
			t.Fatalf("code %q is not %d long", c, CodeLen)
		}
		if norm, ok := Normalize(c); !ok || norm != c {
			t.Fatalf("Normalize(%q) = %q, %v", c, norm, ok)
		}
		if seen[c] {
			t.Fatalf("code %q came twice in %d", c, n)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	// Every character turns up, none far more often than the others
	// (expected n*7/31 ≈ 677 each).
	want := float64(n*CodeLen) / float64(len(Alphabet))
	for _, r := range Alphabet {
		if got := float64(counts[r]); got < want*0.75 || got > want*1.25 {
			t.Errorf("%q came %v times, expected about %.0f", r, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"k7qx2mp": "K7QX2MP", "K7QX2MP": "K7QX2MP"} {
		if got, ok := Normalize(in); !ok || got != want {
			t.Errorf("Normalize(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "K7QX2M", "K7QX2MPP", "K7QX2M0", "K7QX2MO", "K7QX2M1", "k7qx2ml", "K7QX2M ", "K7QX2Mé", "../../x"} {
		if got, ok := Normalize(in); ok {
			t.Errorf("Normalize(%q) = %q, true; want not a code", in, got)
		}
	}
}

func TestNewStoresAndChecks(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	inv, err := New(ctx, st, Options{Room: "standup", Creator: "admin"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Expires.Equal(now.Add(DefaultTTL)) || inv.MaxUses != 0 {
		t.Fatalf("default invite = %+v", inv)
	}
	if got, err := st.LookupInvite(ctx, inv.Code, now); err != nil || got.Room != "standup" {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	for _, o := range []Options{
		{Room: "r", Creator: "c", TTL: time.Second},
		{Room: "r", Creator: "c", TTL: MaxTTL + time.Second},
		{Room: "r", Creator: "c", MaxUses: -1},
		{Room: "r", Creator: "c", MaxUses: MaxUses + 1},
		{Creator: "c"},
	} {
		if _, err := New(ctx, st, o, now); !errors.Is(err, ErrBadOptions) {
			t.Errorf("New(%+v) = %v, want ErrBadOptions", o, err)
		}
	}
}

// takenStore says every code is taken.
type takenStore struct{ store.Invites }

func (takenStore) CreateInvite(context.Context, store.Invite) error { return store.ErrExists }

func TestNewGivesUpOnCollisions(t *testing.T) {
	if _, err := New(context.Background(), takenStore{}, Options{Room: "r", Creator: "c"}, time.Now()); !errors.Is(err, ErrNoCode) {
		t.Fatalf("New = %v, want ErrNoCode", err)
	}
}
