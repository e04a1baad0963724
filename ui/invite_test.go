package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// inviterCall is a fake call that makes invite links: it waits for gate,
// then answers link or err.
type inviterCall struct {
	*fakeCall
	gate chan struct{}
	link string
	err  error
}

func (c *inviterCall) InviteLink(ctx context.Context) (string, time.Time, error) {
	select {
	case <-c.gate:
	case <-ctx.Done():
		return "", time.Time{}, ctx.Err()
	}
	return c.link, time.Date(2030, 1, 1, 15, 4, 0, 0, time.Local), c.err
}

// TestInviteActionCopiesALink: the call bar's Invite button makes a link
// through the call (the buttons are disabled meanwhile) and copies it
// with a notice that says until when it works; the alone card's button
// does the same.
func TestInviteActionCopiesALink(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	ic := &inviterCall{fakeCall: c, gate: make(chan struct{}), link: "http://192.0.2.7:7880/j/K7QX2MP"}
	cs.call = ic
	inv := cs.Controls().Invite
	if inv == nil || inv.Tooltip() == "" {
		t.Fatal("no Invite button in the call bar")
	}
	h.fa.Clipboard().SetContent("")
	test.Tap(inv)
	if !inv.Disabled() || !cs.InviteButton.Disabled() {
		t.Error("the Invite buttons are enabled while the link is being made")
	}
	test.Tap(inv) // ignored while the first is under way
	close(ic.gate)
	h.q.until(t, "the link on the clipboard", func() bool { return h.fa.Clipboard().Content() == ic.link })
	if n := cs.Notice(); !strings.Contains(n, "Invite link copied") || !strings.Contains(n, "until 15:04") || !strings.Contains(n, ic.link) {
		t.Errorf("notice %q", n)
	}
	if inv.Disabled() || cs.InviteButton.Disabled() {
		t.Error("the Invite buttons stay disabled")
	}

	h.fa.Clipboard().SetContent("")
	test.Tap(cs.InviteButton)
	h.q.until(t, "the alone card's button copies the link too", func() bool { return h.fa.Clipboard().Content() == ic.link })
}

// TestInviteFallsBackToText: a server that makes no links (or does not
// answer) gets today's text on the clipboard, and a notice that says so.
func TestInviteFallsBackToText(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	ic := &inviterCall{fakeCall: c, gate: make(chan struct{}), err: errors.New("the server makes no invite links")}
	close(ic.gate)
	cs.call = ic
	test.Tap(cs.Controls().Invite)
	h.q.until(t, "the text on the clipboard", func() bool { return strings.Contains(h.fa.Clipboard().Content(), "lobby") })
	if n := cs.Notice(); !strings.Contains(n, "makes no invite links") {
		t.Errorf("notice %q", n)
	}
	// A call that is no Inviter copies the text at once.
	cs.call = c
	h.fa.Clipboard().SetContent("")
	test.Tap(cs.Controls().Invite)
	if got := h.fa.Clipboard().Content(); !strings.Contains(got, "Join me in Confab") {
		t.Errorf("clipboard %q", got)
	}
}
