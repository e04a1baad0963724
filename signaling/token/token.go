// Package token issues and verifies the HS256 JSON Web Tokens (RFC 7519) that
// let a participant join a Confab room.
//
// A token carries who joins (sub), under which display name, which room, and
// what they may do there (Grants). All functions take the current time as an
// argument so that callers and tests control the clock; none keeps state, so
// they are safe for concurrent use.
package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim that Issue writes and Verify requires.
const Issuer = "confab"

// Leeway is the clock skew that Verify tolerates on exp and nbf, so that a
// token issued by a server whose clock runs slightly ahead is not refused.
const Leeway = 5 * time.Second

// Grants lists what the holder of a token may do in its room.
type Grants struct {
	Publish   bool `json:"publish"`
	Subscribe bool `json:"subscribe"`
	Chat      bool `json:"chat"`
	Admin     bool `json:"admin,omitempty"`
	// Guest marks a token exchanged for an invite code: its holder may
	// join, but not make invites of its own.
	Guest bool `json:"guest,omitempty"`
}

// DefaultGrants returns the grants of an ordinary participant: publish,
// subscribe and chat, but not admin.
func DefaultGrants() Grants {
	return Grants{Publish: true, Subscribe: true, Chat: true}
}

// Claims is the payload of a room token. Identity travels in the registered
// sub claim; the embedded RegisteredClaims are set by Issue.
type Claims struct {
	Identity string `json:"-"` // carried in jwt "sub"
	Name     string `json:"name"`
	Room     string `json:"room"`
	Grants   Grants `json:"grants"`
	jwt.RegisteredClaims
}

// Issue signs c with secret using HS256 and returns the compact token. It sets
// sub to c.Identity, iss to Issuer, iat and nbf to now and exp to now+ttl,
// overwriting whatever c held in those claims. c.Identity and c.Room must not
// be empty and ttl must be positive, or Issue returns an error wrapping
// ErrInvalid. JWT times have a precision of one second.
func Issue(secret []byte, c Claims, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", ErrNoSecret
	}
	switch {
	case c.Identity == "":
		return "", fmt.Errorf("token: issue: empty identity: %w", ErrInvalid)
	case c.Room == "":
		return "", fmt.Errorf("token: issue: empty room: %w", ErrInvalid)
	case ttl <= 0:
		return "", fmt.Errorf("token: issue: ttl %v is not positive: %w", ttl, ErrInvalid)
	}
	c.Subject = c.Identity
	c.Issuer = Issuer
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("token: issue: %w", err)
	}
	return s, nil
}

// Verify checks raw against secret at time now and returns its claims, with
// Identity filled from sub. It accepts only HS256 (RFC 7518 section 3.2):
// alg "none" and every other algorithm are refused. The token must carry exp,
// sub, room and iss "confab". Expiry and not-before are checked against now
// with Leeway of tolerance.
//
// The error wraps ErrInvalid, ErrNoExpiry (which also matches ErrInvalid),
// ErrExpired or ErrNotYetValid; any non-nil error means the token must be
// refused.
func Verify(secret []byte, raw string, now time.Time) (*Claims, error) {
	if len(secret) == 0 {
		return nil, ErrNoSecret
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(Issuer),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var c Claims
	_, err := p.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		// WithValidMethods already refuses other algorithms; this check keeps
		// the key from ever being handed to a method other than HS256.
		if t.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return secret, nil
	})
	if err != nil {
		return nil, classify(err, &c)
	}
	switch {
	case c.Subject == "":
		return nil, fmt.Errorf("token: verify: missing sub: %w", ErrInvalid)
	case c.Room == "":
		return nil, fmt.Errorf("token: verify: missing room: %w", ErrInvalid)
	}
	c.Identity = c.Subject
	return &c, nil
}

// classify maps an error of the jwt parser to this package's sentinels. Only
// a token whose signature was verified reaches the claim checks, so c is
// trusted only in that case.
func classify(err error, c *Claims) error {
	if !errors.Is(err, jwt.ErrTokenInvalidClaims) {
		// Malformed, unverifiable, wrong algorithm or bad signature.
		return fmt.Errorf("token: verify: %w: %v", ErrInvalid, err)
	}
	switch {
	case c.ExpiresAt == nil:
		return fmt.Errorf("token: verify: %w", ErrNoExpiry)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("token: verify: %w", ErrExpired)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fmt.Errorf("token: verify: %w", ErrNotYetValid)
	default:
		return fmt.Errorf("token: verify: %w: %v", ErrInvalid, err)
	}
}
