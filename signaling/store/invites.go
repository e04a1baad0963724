package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Invite errors. UseInvite, LookupInvite and RevokeInvite return them
// (wrapped); match them with errors.Is.
var (
	// ErrNotFound reports a code (or another key) the store does not know.
	ErrNotFound = errors.New("store: not found")
	// ErrExists reports a key that is already taken (a code collision).
	ErrExists = errors.New("store: already exists")
	// ErrInviteExpired reports an invite whose expiry has passed.
	ErrInviteExpired = errors.New("store: invite expired")
	// ErrInviteUsedUp reports an invite used as often as it allows.
	ErrInviteUsedUp = errors.New("store: invite used up")
	// ErrInviteRevoked reports an invite that was revoked.
	ErrInviteRevoked = errors.New("store: invite revoked")
)

// Invite is an invite code's record. The store keeps the code's SHA-256
// only, so Code is set on the way in (CreateInvite) and echoed back by the
// calls that take a code, never read from the database.
type Invite struct {
	Code    string
	Room    string
	Creator string // who made it: an identity, or "admin" for the CLI
	Created time.Time
	Expires time.Time
	MaxUses int // 0: no limit
	Uses    int
	Revoked time.Time // zero: not revoked
}

// state says why inv cannot be used at now, or nil if it can.
func (inv Invite) state(now time.Time) error {
	switch {
	case !inv.Revoked.IsZero():
		return ErrInviteRevoked
	case !now.Before(inv.Expires):
		return ErrInviteExpired
	case inv.MaxUses > 0 && inv.Uses >= inv.MaxUses:
		return ErrInviteUsedUp
	}
	return nil
}

// Invites keeps invite codes. *SQLite implements it.
type Invites interface {
	// CreateInvite stores inv; ErrExists if its code is taken.
	CreateInvite(ctx context.Context, inv Invite) error
	// LookupInvite returns the invite of code as of now without using it:
	// ErrNotFound, or the record and ErrInviteRevoked, ErrInviteExpired or
	// ErrInviteUsedUp when it can no longer be used.
	LookupInvite(ctx context.Context, code string, now time.Time) (Invite, error)
	// UseInvite counts one use of code, atomically, and returns the
	// invite with the use counted; the errors are LookupInvite's, and then
	// nothing is counted.
	UseInvite(ctx context.Context, code string, now time.Time) (Invite, error)
	// RevokeInvite marks code revoked at now (once: a second call keeps
	// the first time) and returns it; ErrNotFound for an unknown code.
	RevokeInvite(ctx context.Context, code string, now time.Time) (Invite, error)
}

var _ Invites = (*SQLite)(nil)

// codeHash is the key a code is stored under.
func codeHash(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// CreateInvite stores inv under the SHA-256 of inv.Code. Code, Room and
// Creator must not be empty and Expires must be set. A zero Created is the
// store's clock. It returns ErrExists if the code is taken.
func (s *SQLite) CreateInvite(ctx context.Context, inv Invite) error {
	switch {
	case inv.Code == "", inv.Room == "", inv.Creator == "":
		return fmt.Errorf("store: create invite: empty code, room or creator: %w", ErrInvalid)
	case inv.Expires.IsZero():
		return fmt.Errorf("store: create invite: no expiry: %w", ErrInvalid)
	case inv.MaxUses < 0:
		return fmt.Errorf("store: create invite: negative use limit: %w", ErrInvalid)
	}
	if inv.Created.IsZero() {
		inv.Created = s.now()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO invites (code_hash, room, creator, created_ms, expires_ms, max_uses)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code_hash) DO NOTHING`,
		codeHash(inv.Code), inv.Room, inv.Creator, inv.Created.UnixMilli(), inv.Expires.UnixMilli(), inv.MaxUses)
	if err != nil {
		return fmt.Errorf("store: create invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create invite: %w", ErrExists)
	}
	return nil
}

// LookupInvite returns the invite of code without using it. The record is
// found by the code's hash and the hash compared again in constant time,
// so how long a lookup takes says nothing about how close a guess was.
func (s *SQLite) LookupInvite(ctx context.Context, code string, now time.Time) (Invite, error) {
	inv, err := s.readInvite(ctx, s.rdb, code)
	if err != nil {
		return Invite{}, fmt.Errorf("store: lookup invite: %w", err)
	}
	if err := inv.state(now); err != nil {
		return inv, fmt.Errorf("store: lookup invite: %w", err)
	}
	return inv, nil
}

// UseInvite counts one use of code in one statement, which checks
// revocation, expiry and the use limit as it counts, so concurrent uses
// never exceed the limit.
func (s *SQLite) UseInvite(ctx context.Context, code string, now time.Time) (Invite, error) {
	if code == "" {
		return Invite{}, fmt.Errorf("store: use invite: %w", ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE invites SET uses = uses + 1
		WHERE code_hash = ? AND revoked_ms = 0 AND expires_ms > ? AND (max_uses = 0 OR uses < max_uses)`,
		codeHash(code), now.UnixMilli())
	if err != nil {
		return Invite{}, fmt.Errorf("store: use invite: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Invite{}, fmt.Errorf("store: use invite: %w", err)
	}
	// Read back through the writer, which has just written it.
	inv, err := s.readInvite(ctx, s.db, code)
	if err != nil {
		return Invite{}, fmt.Errorf("store: use invite: %w", err)
	}
	if n == 0 {
		if err := inv.state(now); err != nil {
			return inv, fmt.Errorf("store: use invite: %w", err)
		}
		// Usable now but not a moment ago (the clock passed no boundary
		// backwards): treat as used up rather than count twice.
		return inv, fmt.Errorf("store: use invite: %w", ErrInviteUsedUp)
	}
	return inv, nil
}

// RevokeInvite marks code revoked at now. Revoking twice keeps the first
// time.
func (s *SQLite) RevokeInvite(ctx context.Context, code string, now time.Time) (Invite, error) {
	if code == "" {
		return Invite{}, fmt.Errorf("store: revoke invite: %w", ErrNotFound)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE invites SET revoked_ms = ? WHERE code_hash = ? AND revoked_ms = 0`,
		max(now.UnixMilli(), 1), codeHash(code)); err != nil {
		return Invite{}, fmt.Errorf("store: revoke invite: %w", err)
	}
	inv, err := s.readInvite(ctx, s.db, code)
	if err != nil {
		return Invite{}, fmt.Errorf("store: revoke invite: %w", err)
	}
	return inv, nil
}

// readInvite reads the invite of code through db; ErrNotFound if none.
func (s *SQLite) readInvite(ctx context.Context, db *sql.DB, code string) (Invite, error) {
	if code == "" {
		return Invite{}, ErrNotFound
	}
	want := codeHash(code)
	var (
		inv                             Invite
		hash                            []byte
		createdMS, expiresMS, revokedMS int64
	)
	err := db.QueryRowContext(ctx, `SELECT code_hash, room, creator, created_ms, expires_ms, max_uses, uses, revoked_ms
		FROM invites WHERE code_hash = ?`, want).
		Scan(&hash, &inv.Room, &inv.Creator, &createdMS, &expiresMS, &inv.MaxUses, &inv.Uses, &revokedMS)
	if errors.Is(err, sql.ErrNoRows) {
		return Invite{}, ErrNotFound
	}
	if err != nil {
		return Invite{}, err
	}
	if subtle.ConstantTimeCompare(hash, want) != 1 {
		return Invite{}, ErrNotFound
	}
	inv.Code = code
	inv.Created = time.UnixMilli(createdMS).UTC()
	inv.Expires = time.UnixMilli(expiresMS).UTC()
	if revokedMS != 0 {
		inv.Revoked = time.UnixMilli(revokedMS).UTC()
	}
	return inv, nil
}
