package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestInviteLifecycle(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	inv := Invite{Code: "K7QX2MP", Room: "standup", Creator: "u-1", Created: t0, Expires: t0.Add(time.Hour), MaxUses: 2}
	if err := s.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInvite(ctx, inv); !errors.Is(err, ErrExists) {
		t.Fatalf("second create of the same code: %v, want ErrExists", err)
	}
	got, err := s.LookupInvite(ctx, "K7QX2MP", t0.Add(time.Minute))
	if err != nil || got.Room != "standup" || got.Creator != "u-1" || got.Uses != 0 || !got.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	if _, err := s.LookupInvite(ctx, "K7QX2MQ", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
	for i := 1; i <= 2; i++ {
		got, err := s.UseInvite(ctx, "K7QX2MP", t0.Add(time.Minute))
		if err != nil || got.Uses != i {
			t.Fatalf("use %d = %+v, %v", i, got, err)
		}
	}
	if _, err := s.UseInvite(ctx, "K7QX2MP", t0.Add(time.Minute)); !errors.Is(err, ErrInviteUsedUp) {
		t.Fatalf("third use of a 2-use invite: %v, want ErrInviteUsedUp", err)
	}
	if _, err := s.LookupInvite(ctx, "K7QX2MP", t0.Add(time.Minute)); !errors.Is(err, ErrInviteUsedUp) {
		t.Fatalf("lookup of a used-up invite: %v", err)
	}

	// The database keeps the code's hash only.
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM invites WHERE code_hash = ? OR room = 'K7QX2MP' OR creator = 'K7QX2MP'`, "K7QX2MP").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the plain code is in the table (%d rows, %v)", n, err)
	}

	// Expiry is exclusive: at Expires the code no longer works.
	exp := Invite{Code: "AAAAAAA", Room: "r", Creator: "admin", Created: t0, Expires: t0.Add(time.Hour)}
	if err := s.CreateInvite(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseInvite(ctx, "AAAAAAA", t0.Add(time.Hour-time.Millisecond)); err != nil {
		t.Fatalf("use just before expiry: %v", err)
	}
	if _, err := s.UseInvite(ctx, "AAAAAAA", t0.Add(time.Hour)); !errors.Is(err, ErrInviteExpired) {
		t.Fatalf("use at expiry: %v, want ErrInviteExpired", err)
	}

	// Revoked wins over everything and keeps its first time.
	rev := Invite{Code: "BBBBBBB", Room: "r", Creator: "admin", Created: t0, Expires: t0.Add(time.Hour)}
	if err := s.CreateInvite(ctx, rev); err != nil {
		t.Fatal(err)
	}
	r1, err := s.RevokeInvite(ctx, "BBBBBBB", t0.Add(time.Minute))
	if err != nil || !r1.Revoked.Equal(t0.Add(time.Minute)) {
		t.Fatalf("revoke = %+v, %v", r1, err)
	}
	r2, err := s.RevokeInvite(ctx, "BBBBBBB", t0.Add(2*time.Minute))
	if err != nil || !r2.Revoked.Equal(r1.Revoked) {
		t.Fatalf("second revoke = %+v, %v", r2, err)
	}
	if _, err := s.UseInvite(ctx, "BBBBBBB", t0.Add(2*time.Minute)); !errors.Is(err, ErrInviteRevoked) {
		t.Fatalf("use of a revoked invite: %v", err)
	}
	if _, err := s.RevokeInvite(ctx, "CCCCCCC", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke of an unknown code: %v", err)
	}

	// All of it survives a reopen.
	s.Close()
	s2, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, err := s2.LookupInvite(ctx, "K7QX2MP", t0); !errors.Is(err, ErrInviteUsedUp) || got.Uses != 2 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

// TestUseInviteConcurrent uses a 5-use invite from 40 goroutines at once:
// exactly 5 succeed.
func TestUseInviteConcurrent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if err := s.CreateInvite(ctx, Invite{Code: "DDDDDDD", Room: "r", Creator: "admin", Expires: t0.Add(time.Hour), MaxUses: 5}); err != nil {
		t.Fatal(err)
	}
	var ok, usedUp atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			_, err := s.UseInvite(ctx, "DDDDDDD", t0)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrInviteUsedUp):
				usedUp.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 || usedUp.Load() != 35 {
		t.Fatalf("%d uses succeeded and %d were refused, want 5 and 35", ok.Load(), usedUp.Load())
	}
}

func TestCreateInviteInvalid(t *testing.T) {
	s, _ := openTemp(t)
	for _, inv := range []Invite{
		{Room: "r", Creator: "c", Expires: t0},
		{Code: "x", Creator: "c", Expires: t0},
		{Code: "x", Room: "r", Expires: t0},
		{Code: "x", Room: "r", Creator: "c"},
		{Code: "x", Room: "r", Creator: "c", Expires: t0, MaxUses: -1},
	} {
		if err := s.CreateInvite(context.Background(), inv); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateInvite(%+v) = %v, want ErrInvalid", inv, err)
		}
	}
}
