package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

func TestErrorText(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		err    error
		server string
		want   string
	}{
		{&wire.Error{Code: wire.CodeRoomFull}, "", "The room is full (16 people)."},
		{&wire.Error{Code: "not_invited", Message: "you are not invited to this call"}, "", "This room is a private call between people, and you are not in it. Room names starting with \"call-\" are kept for calls."},
		{&wire.Error{Code: "no_such_call"}, "", "That call is over. Room names starting with \"call-\" are kept for calls between people."},
		{fmt.Errorf("join refused: %w", &wire.Error{Code: wire.CodeTokenExpired}), "", "Your invite has expired. Ask for a new one."},
		{fmt.Errorf("x: %w", &wire.Error{Code: wire.CodeTokenInvalid}), "", "Your invite is not valid. Ask for a new one."},
		{&wire.Error{Code: wire.CodeTokenNotYetValid}, "", "Your invite is not valid yet. Check your computer's clock or try again later."},
		{&wire.Error{Code: wire.CodeRoomMismatch}, "", "Your invite is for a different room."},
		{&wire.Error{Code: wire.CodePermissionDenied}, "", "You are not allowed to join this room."},
		{&wire.Error{Code: wire.CodeRateLimited}, "", "Too many attempts. Wait a moment and try again."},
		{&wire.Error{Code: wire.CodeDuplicateIdentity}, "", "You are already in this room from another window or device."},
		{&wire.Error{Code: "new_code", Message: "something odd"}, "", "The server refused: Something odd."},
		{fmt.Errorf("%w: dial tcp: refused", client.ErrUnreachable), "10.0.0.5:7880",
			"Can't reach the server at 10.0.0.5:7880. Check the address and your connection, then try again."},
		{refused, "", "Can't reach the built-in server. Check the address and your connection, then try again."},
		{&net.DNSError{Err: "no such host", Name: "nowhere"}, "nowhere:1",
			"Can't reach the server at nowhere:1. Check the address and your connection, then try again."},
		{fmt.Errorf("join: %w", context.DeadlineExceeded), "h:1",
			"The server at h:1 did not answer in time. Check the address and your connection, then try again."},
		{errors.New("camera exploded"), "", "Something went wrong: Camera exploded."},
	}
	for _, c := range cases {
		if got := ErrorText(c.err, c.server); got != c.want {
			t.Errorf("ErrorText(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if ErrorText(nil, "") != "" {
		t.Error("ErrorText(nil) is not empty")
	}
}
