package recording

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrPolicy reports a --record value the server cannot use.
var ErrPolicy = errors.New("recording: bad policy")

// maxPattern bounds a room pattern's length.
const maxPattern = 256

// Policy says which rooms the server records from their first join:
// none, all, or those whose name matches a glob pattern (path.Match
// syntax: * ? [a-z], e.g. "standup*"). The zero Policy records none.
type Policy struct {
	all     bool
	pattern string
}

// ParsePolicy reads "none", "all" or a room pattern.
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "none":
		return Policy{}, nil
	case "all":
		return Policy{all: true}, nil
	}
	if len(s) > maxPattern {
		return Policy{}, fmt.Errorf("%w: pattern longer than %d bytes", ErrPolicy, maxPattern)
	}
	if strings.TrimSpace(s) != s {
		return Policy{}, fmt.Errorf("%w: pattern %q begins or ends with whitespace", ErrPolicy, s)
	}
	if _, err := path.Match(s, ""); err != nil {
		return Policy{}, fmt.Errorf("%w: pattern %q: %v (use none, all, or a glob such as standup*)", ErrPolicy, s, err)
	}
	return Policy{pattern: s}, nil
}

// Matches reports whether the policy records room.
func (p Policy) Matches(room string) bool {
	if p.all {
		return true
	}
	if p.pattern == "" {
		return false
	}
	ok, _ := path.Match(p.pattern, room)
	return ok
}

// String is the policy as ParsePolicy reads it.
func (p Policy) String() string {
	switch {
	case p.all:
		return "all"
	case p.pattern == "":
		return "none"
	}
	return p.pattern
}
