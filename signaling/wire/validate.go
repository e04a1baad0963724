package wire

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validation errors, wrapped with details.
var (
	ErrEmpty      = errors.New("empty")
	ErrTooLong    = errors.New("too long")
	ErrNotUTF8    = errors.New("not valid UTF-8")
	ErrControl    = errors.New("contains control characters")
	ErrBidi       = errors.New("contains bidirectional override characters")
	ErrBadSource  = errors.New("unknown source")
	ErrBadRequest = errors.New("bad request")
	// ErrTextTooLarge reports chat text over MaxChatBytes; it is the one
	// validation error with its own wire code, too_large.
	ErrTextTooLarge = errors.New("chat text too large")
)

// isBidiControl reports the embedding, override and isolate controls that
// can reorder how text is displayed (the "Trojan Source" characters).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// ValidateName checks a display name, identity or room name: 1 to
// MaxNameRunes characters of valid UTF-8, not only spaces, with no control
// or bidirectional override characters.
func ValidateName(what, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s: %w", what, ErrEmpty)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: %w", what, ErrNotUTF8)
	}
	if utf8.RuneCountInString(s) > MaxNameRunes {
		return fmt.Errorf("%s: %w (max %d characters)", what, ErrTooLong, MaxNameRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("%s: %w", what, ErrControl)
		}
		if isBidiControl(r) {
			return fmt.Errorf("%s: %w", what, ErrBidi)
		}
	}
	return nil
}

// ValidateChatText checks chat text: 1 to MaxChatBytes bytes of valid UTF-8,
// no control characters but newline and tab, no bidirectional overrides.
func ValidateChatText(s string) error {
	if len(s) > MaxChatBytes {
		return fmt.Errorf("text: %w: %w (max %d bytes)", ErrTextTooLarge, ErrTooLong, MaxChatBytes)
	}
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("text: %w", ErrEmpty)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("text: %w", ErrNotUTF8)
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("text: %w", ErrControl)
		}
		if isBidiControl(r) {
			return fmt.Errorf("text: %w", ErrBidi)
		}
	}
	return nil
}

// validateID checks a client-chosen id: 1 to MaxMessageIDBytes printable ASCII.
func validateID(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s: %w", what, ErrEmpty)
	}
	if len(s) > MaxMessageIDBytes {
		return fmt.Errorf("%s: %w", what, ErrTooLong)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fmt.Errorf("%s: %w", what, ErrControl)
		}
	}
	return nil
}

// Validate checks a Join.
func (j *Join) Validate() error {
	if j.Token == "" {
		return fmt.Errorf("token: %w", ErrEmpty)
	}
	if len(j.Token) > MaxTokenBytes {
		return fmt.Errorf("token: %w", ErrTooLong)
	}
	if j.AfterSeq < 0 {
		return fmt.Errorf("after_seq: %w: negative", ErrBadRequest)
	}
	return ValidateName("room", j.Room)
}

// Validate checks an Answer.
func (a *Answer) Validate() error {
	if a.SDP == "" {
		return fmt.Errorf("sdp: %w", ErrEmpty)
	}
	if len(a.SDP) > MaxSDPBytes {
		return fmt.Errorf("sdp: %w", ErrTooLong)
	}
	return nil
}

// Validate checks a SetSource.
func (s *SetSource) Validate() error {
	if !ValidSource(s.Source) {
		return fmt.Errorf("%w: %q", ErrBadSource, truncate(s.Source, 32))
	}
	return nil
}

// Validate checks a ChatSend.
func (c *ChatSend) Validate() error {
	if err := validateID("id", c.ID); err != nil {
		return err
	}
	return ValidateChatText(c.Text)
}

// Validate checks a HistoryRequest.
func (h *HistoryRequest) Validate() error {
	if len(h.Req) > MaxMessageIDBytes {
		return fmt.Errorf("req: %w", ErrTooLong)
	}
	if h.Before < 0 || h.After < 0 || h.Limit < 0 || h.Limit > HistoryPage {
		return fmt.Errorf("%w: before and after must be >= 0 and limit 0..%d", ErrBadRequest, HistoryPage)
	}
	if h.Before > 0 && h.After > 0 {
		return fmt.Errorf("%w: before and after are exclusive", ErrBadRequest)
	}
	return nil
}
