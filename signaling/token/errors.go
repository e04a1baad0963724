package token

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Match them with errors.Is: the returned
// errors wrap them with detail about the fault.
var (
	// ErrInvalid reports a token that is not a JWT, is signed with another
	// secret or another algorithm than HS256, or lacks a required claim
	// (sub, room, iss). It is also returned by Issue for claims that could
	// not produce a valid token.
	ErrInvalid = errors.New("token invalid")

	// ErrNoExpiry reports a correctly signed token without an exp claim.
	// errors.Is(err, ErrInvalid) is also true for it.
	ErrNoExpiry = fmt.Errorf("no expiry: %w", ErrInvalid)

	// ErrExpired reports a token whose exp lies in the past (beyond Leeway).
	ErrExpired = errors.New("token expired")

	// ErrNotYetValid reports a token whose nbf lies in the future (beyond
	// Leeway).
	ErrNotYetValid = errors.New("token not yet valid")

	// ErrNoSecret reports an empty signing secret.
	ErrNoSecret = errors.New("token: empty secret")
)
