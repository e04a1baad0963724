package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// maxRoomSize is how many people a room holds; the server refuses more
// with wire.CodeRoomFull.
const maxRoomSize = 16

// ErrorText turns an error from joining or from a running call into plain
// words for the person at the screen. server is the address that was
// used; empty means the built-in server.
func ErrorText(err error, server string) string {
	if err == nil {
		return ""
	}
	if msg, ok := knownErrorText(err, server); ok {
		return msg
	}
	return "Something went wrong: " + sentence(err.Error())
}

// causeText words err for a sentence that already says what failed: the
// plain words of a known error, else the error itself.
func causeText(err error, server string) string {
	if msg, ok := knownErrorText(err, server); ok {
		return msg
	}
	return sentence(err.Error())
}

// knownErrorText words the errors the UI knows: server refusals, network
// trouble, timeouts.
func knownErrorText(err error, server string) (string, bool) {
	var we *wire.Error
	if errors.As(err, &we) {
		return wireErrorText(we), true
	}
	where := "the built-in server"
	if server != "" {
		where = "the server at " + server
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "Joining was cancelled.", true
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("%s did not answer in time. Check the address and your connection, then try again.", capitalize(where)), true
	case errors.Is(err, client.ErrUnreachable), errors.Is(err, syscall.ECONNREFUSED), isNetError(err):
		return fmt.Sprintf("Can't reach %s. Check the address and your connection, then try again.", where), true
	case errors.Is(err, client.ErrProtocol):
		return fmt.Sprintf("%s answered in a way this app does not understand. It may run another version of Confab.", capitalize(where)), true
	case errors.Is(err, client.ErrClosed):
		return "The call has already ended.", true
	}
	return "", false
}

// wireErrorText words one of the server's stable error codes.
func wireErrorText(we *wire.Error) string {
	switch we.Code {
	case wire.CodeTokenInvalid:
		return "Your invite is not valid. Ask for a new one."
	case wire.CodeTokenExpired:
		return "Your invite has expired. Ask for a new one."
	case wire.CodeTokenNotYetValid:
		return "Your invite is not valid yet. Check your computer's clock or try again later."
	case wire.CodeRoomMismatch:
		return "Your invite is for a different room."
	case wire.CodePermissionDenied:
		return "You are not allowed to join this room."
	case wire.CodeRoomFull:
		return fmt.Sprintf("The room is full (%d people).", maxRoomSize)
	case wire.CodeRateLimited:
		return "Too many attempts. Wait a moment and try again."
	case wire.CodeDuplicateIdentity:
		return "You are already in this room from another window or device."
	case wire.CodeUnsupportedProtocol:
		return "The server runs a different version of Confab. Update the app and try again."
	case wire.CodeInternal:
		return "The server had a problem. Try again in a moment."
	case calls.CodeNotInvited:
		return "This room is a private call between people, and you are not in it. Room names starting with \"call-\" are kept for calls."
	case calls.CodeNoSuchCall:
		return "That call is over. Room names starting with \"call-\" are kept for calls between people."
	}
	if we.Message != "" {
		return "The server refused: " + sentence(we.Message)
	}
	return fmt.Sprintf("The server refused (%s).", we.Code)
}

// isNetError reports errors from dialing: refused connections, unknown
// hosts, bad URLs.
func isNetError(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	return errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &ue)
}

// isTimeout reports network timeouts.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// sentence makes a Go error string read as a sentence: first letter upper
// case, a full stop at the end.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "unknown error."
	}
	s = capitalize(s)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// validationText words an error from wire.ValidateName for a field.
func validationText(field string, err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, wire.ErrEmpty):
		return fmt.Sprintf("Enter a %s.", field)
	case errors.Is(err, wire.ErrTooLong):
		return fmt.Sprintf("The %s can be at most %d characters.", field, wire.MaxNameRunes)
	case errors.Is(err, wire.ErrControl), errors.Is(err, wire.ErrBidi), errors.Is(err, wire.ErrNotUTF8):
		return fmt.Sprintf("The %s contains characters that can't be used.", field)
	}
	return sentence(err.Error())
}
