package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// handMade builds a compact JWT from raw header and payload JSON, signed with
// HMAC-SHA256 under secret when secret is not nil and with an empty signature
// otherwise.
func handMade(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if secret == nil {
		return s + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(s))
	return s + "." + enc.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	base := Claims{Identity: "alice", Name: "Alice", Room: "standup", Grants: DefaultGrants()}
	issue := func(t *testing.T, c Claims, ttl time.Duration, at time.Time) string {
		t.Helper()
		s, err := Issue(secret, c, ttl, at)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		return s
	}
	sign := func(t *testing.T, m jwt.SigningMethod, key any, c jwt.Claims) string {
		t.Helper()
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return s
	}
	expStr := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	validPayload := `{"sub":"alice","room":"standup","iss":"confab","exp":` + expStr + `}`

	tests := []struct {
		name    string
		raw     func(t *testing.T) string
		secret  []byte
		now     time.Time
		wantErr error
	}{
		{
			name: "valid",
			raw:  func(t *testing.T) string { return issue(t, base, time.Hour, testNow) },
		},
		{
			name: "valid within leeway after expiry",
			raw:  func(t *testing.T) string { return issue(t, base, time.Hour, testNow) },
			now:  testNow.Add(time.Hour + Leeway - time.Second),
		},
		{
			name:    "expired",
			raw:     func(t *testing.T) string { return issue(t, base, time.Hour, testNow) },
			now:     testNow.Add(time.Hour + Leeway + time.Second),
			wantErr: ErrExpired,
		},
		{
			name:    "not yet valid",
			raw:     func(t *testing.T) string { return issue(t, base, time.Hour, testNow.Add(time.Minute)) },
			wantErr: ErrNotYetValid,
		},
		{
			name:    "wrong secret",
			raw:     func(t *testing.T) string { return issue(t, base, time.Hour, testNow) },
			secret:  []byte("another secret entirely, 32 byte"),
			wantErr: ErrInvalid,
		},
		{
			name: "alg none",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"none","typ":"JWT"}`, validPayload, nil)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "HS512 with same secret",
			raw: func(t *testing.T) string {
				c := base
				c.Subject, c.Issuer = c.Identity, Issuer
				c.ExpiresAt = jwt.NewNumericDate(testNow.Add(time.Hour))
				return sign(t, jwt.SigningMethodHS512, secret, &c)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "HS384 with same secret",
			raw: func(t *testing.T) string {
				c := base
				c.Subject, c.Issuer = c.Identity, Issuer
				c.ExpiresAt = jwt.NewNumericDate(testNow.Add(time.Hour))
				return sign(t, jwt.SigningMethodHS384, secret, &c)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "RS256 header with HMAC signature",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"RS256","typ":"JWT"}`, validPayload, secret)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "hand-made HS256 is accepted",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"HS256","typ":"JWT"}`, validPayload, secret)
			},
		},
		{
			name: "no exp",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"HS256","typ":"JWT"}`,
					`{"sub":"alice","room":"standup","iss":"confab"}`, secret)
			},
			wantErr: ErrNoExpiry,
		},
		{
			name: "missing room",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"HS256","typ":"JWT"}`,
					`{"sub":"alice","iss":"confab","exp":`+expStr+`}`, secret)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "missing sub",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"HS256","typ":"JWT"}`,
					`{"room":"standup","iss":"confab","exp":`+expStr+`}`, secret)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "wrong issuer",
			raw: func(t *testing.T) string {
				return handMade(`{"alg":"HS256","typ":"JWT"}`,
					`{"sub":"alice","room":"standup","iss":"evil","exp":`+expStr+`}`, secret)
			},
			wantErr: ErrInvalid,
		},
		{
			name:    "garbage",
			raw:     func(t *testing.T) string { return "this is not a token" },
			wantErr: ErrInvalid,
		},
		{
			name:    "empty",
			raw:     func(t *testing.T) string { return "" },
			wantErr: ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := secret
			if tt.secret != nil {
				sec = tt.secret
			}
			now := testNow
			if !tt.now.IsZero() {
				now = tt.now
			}
			got, err := Verify(sec, tt.raw(t), now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Fatalf("Verify returned claims %+v with error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Identity != "alice" || got.Room != "standup" {
				t.Fatalf("claims = %+v, want identity alice in room standup", got)
			}
		})
	}
}

// TestVerifyDistinctSentinels checks that the time faults are not reported as
// ErrInvalid, so a caller can tell "log in again" from "bad token".
func TestVerifyDistinctSentinels(t *testing.T) {
	secret := []byte("s")
	raw, err := Issue(secret, Claims{Identity: "a", Room: "r"}, time.Minute, testNow)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(secret, raw, testNow.Add(time.Hour))
	if !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
		t.Fatalf("expired: got %v", err)
	}
	if !errors.Is(ErrNoExpiry, ErrInvalid) {
		t.Fatal("ErrNoExpiry does not match ErrInvalid")
	}
}

func TestRoundTrip(t *testing.T) {
	secret := []byte("round-trip-secret")
	in := Claims{
		Identity: "bob-42",
		Name:     "Bob Ünïcode",
		Room:     "design review",
		Grants:   Grants{Subscribe: true, Chat: true, Admin: true},
	}
	raw, err := Issue(secret, in, 10*time.Minute, testNow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(secret, raw, testNow.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.Identity != in.Identity || got.Name != in.Name || got.Room != in.Room || got.Grants != in.Grants {
		t.Fatalf("got %+v, want %+v", got, in)
	}
	if got.Subject != in.Identity || got.Issuer != Issuer {
		t.Fatalf("registered claims = %+v", got.RegisteredClaims)
	}
	if !got.IssuedAt.Equal(testNow) || !got.NotBefore.Equal(testNow) || !got.ExpiresAt.Equal(testNow.Add(10*time.Minute)) {
		t.Fatalf("times: iat %v nbf %v exp %v", got.IssuedAt, got.NotBefore, got.ExpiresAt)
	}
}

func TestIssueRejects(t *testing.T) {
	ok := Claims{Identity: "a", Room: "r"}
	tests := []struct {
		name    string
		secret  []byte
		c       Claims
		ttl     time.Duration
		wantErr error
	}{
		{"empty secret", nil, ok, time.Minute, ErrNoSecret},
		{"no identity", []byte("s"), Claims{Room: "r"}, time.Minute, ErrInvalid},
		{"no room", []byte("s"), Claims{Identity: "a"}, time.Minute, ErrInvalid},
		{"zero ttl", []byte("s"), ok, 0, ErrInvalid},
		{"negative ttl", []byte("s"), ok, -time.Second, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Issue(tt.secret, tt.c, tt.ttl, testNow); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Issue error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := Verify(nil, "x", testNow); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Verify with empty secret: %v", err)
	}
}

func TestDefaultGrants(t *testing.T) {
	if g := DefaultGrants(); g != (Grants{Publish: true, Subscribe: true, Chat: true}) {
		t.Fatalf("DefaultGrants() = %+v", g)
	}
}
