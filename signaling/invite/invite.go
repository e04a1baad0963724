// Package invite makes and checks the short codes of invite links
// (http://HOST:PORT/j/CODE): seven characters from an alphabet without
// look-alikes, drawn from crypto/rand, kept in the store with their room,
// creator, expiry and use limit. The server's HTTP API and the
// confab-server CLI both issue codes through New.
package invite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/confab/confab/signaling/store"
)

// Alphabet is what codes are made of: digits and capital letters without
// 0/O, 1/I/L, so a code read aloud or off a screen is typed right. Codes
// are case-insensitive: lower-case input is read as upper-case.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLen is the length of a code. 31^7 is about 2.75e10 codes; with the
// server's limit of misses per address, guessing one is hopeless.
const CodeLen = 7

// Limits on what an invite may be given.
const (
	// DefaultTTL is how long an invite is valid when not told.
	DefaultTTL = time.Hour
	// MinTTL and MaxTTL bound an invite's life.
	MinTTL = time.Minute
	MaxTTL = 30 * 24 * time.Hour
	// MaxUses bounds an invite's use limit (0 means no limit).
	MaxUses = 10000
)

// Errors of this package; match them with errors.Is.
var (
	// ErrBadOptions reports an out-of-range ttl or use limit.
	ErrBadOptions = errors.New("invite: bad options")
	// ErrNoCode reports that no free code was found (the store kept
	// answering that each new code was taken).
	ErrNoCode = errors.New("invite: could not find a free code")
)

// NewCode returns a fresh random code.
func NewCode() (string, error) {
	// Rejection sampling keeps every character equally likely: bytes at or
	// above the largest multiple of len(Alphabet) are drawn again.
	const n = len(Alphabet)
	const limit = 256 - 256%n
	out := make([]byte, 0, CodeLen)
	buf := make([]byte, 2*CodeLen)
	for len(out) < CodeLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("invite: random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < CodeLen {
				out = append(out, Alphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// Normalize returns s as a code (upper-cased) and whether it has the shape
// of one: CodeLen characters of Alphabet. A string of another shape can
// never be a code, so callers answer it as an unknown code.
func Normalize(s string) (string, bool) {
	if len(s) != CodeLen {
		return "", false
	}
	c := strings.ToUpper(s)
	for i := 0; i < len(c); i++ {
		if strings.IndexByte(Alphabet, c[i]) < 0 {
			return "", false
		}
	}
	return c, true
}

// Options are what New is asked for.
type Options struct {
	Room    string
	Creator string
	// TTL is how long the code is valid (0: DefaultTTL).
	TTL time.Duration
	// MaxUses is how many times it may be exchanged for a token (0: no
	// limit).
	MaxUses int
}

// Check validates o (with TTL 0 read as DefaultTTL) and returns it with
// the default filled in.
func (o Options) Check() (Options, error) {
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	switch {
	case o.TTL < MinTTL || o.TTL > MaxTTL:
		return o, fmt.Errorf("%w: ttl %v not in %v..%v", ErrBadOptions, o.TTL, MinTTL, MaxTTL)
	case o.MaxUses < 0 || o.MaxUses > MaxUses:
		return o, fmt.Errorf("%w: uses %d not in 0..%d", ErrBadOptions, o.MaxUses, MaxUses)
	case o.Room == "" || o.Creator == "":
		return o, fmt.Errorf("%w: empty room or creator", ErrBadOptions)
	}
	return o, nil
}

// New makes a fresh code for o and stores it; it returns the stored
// invite, Code included.
func New(ctx context.Context, st store.Invites, o Options, now time.Time) (store.Invite, error) {
	o, err := o.Check()
	if err != nil {
		return store.Invite{}, err
	}
	for range 8 {
		code, err := NewCode()
		if err != nil {
			return store.Invite{}, err
		}
		inv := store.Invite{Code: code, Room: o.Room, Creator: o.Creator, Created: now,
			Expires: now.Add(o.TTL), MaxUses: o.MaxUses}
		err = st.CreateInvite(ctx, inv)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return store.Invite{}, err
		}
		inv.Created = time.UnixMilli(now.UnixMilli()).UTC()
		inv.Expires = time.UnixMilli(inv.Expires.UnixMilli()).UTC()
		return inv, nil
	}
	return store.Invite{}, ErrNoCode
}

// Path is the path of code's link on the server: /j/CODE.
func Path(code string) string { return "/j/" + code }
