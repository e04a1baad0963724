package ui

import (
	"strings"
	"testing"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// TestRecordingIndicator: joining a recorded room shows the red
// indicator and says so at once; a stop for a full disk hides it and
// says the call goes on; an admin's start shows it with their name; a
// request that changed nothing changes nothing.
func TestRecordingIndicator(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.join("Dana")
	if cs.Recording() {
		t.Fatal("indicator before the welcome")
	}
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana"}, Recording: true})
	if !cs.Recording() || cs.RecordingText() != "● Recording" || !cs.notice.Visible() || cs.noticeText.Text != "This call is being recorded" {
		t.Fatalf("recorded at join: indicator %v %q, notice %q", cs.Recording(), cs.RecordingText(), cs.noticeText.Text)
	}

	h.send(cs, c, client.RecordingChanged{Active: false, Reason: wire.RecordingDiskFull})
	if cs.Recording() || !strings.Contains(cs.noticeText.Text, "disk is full") || !strings.Contains(cs.noticeText.Text, "call goes on") {
		t.Errorf("after disk full: indicator %v, notice %q", cs.Recording(), cs.noticeText.Text)
	}

	h.send(cs, c, client.RecordingChanged{Active: true, Reason: wire.RecordingAdmin, By: "ann", ByName: "Ann"})
	if !cs.Recording() || cs.noticeText.Text != "Ann started recording this call" {
		t.Errorf("admin start: indicator %v, notice %q", cs.Recording(), cs.noticeText.Text)
	}
	cs.noticeText.SetText("")
	h.send(cs, c, client.RecordingChanged{Active: true, Reason: wire.RecordingAdmin, By: "ann", ByName: "Ann"})
	if !cs.Recording() || cs.noticeText.Text != "" {
		t.Errorf("a start that changed nothing: indicator %v, notice %q", cs.Recording(), cs.noticeText.Text)
	}
	h.send(cs, c, client.RecordingChanged{Active: false, Reason: wire.RecordingAdmin, By: "ann", ByName: "Ann"})
	if cs.Recording() || cs.noticeText.Text != "Ann stopped recording" {
		t.Errorf("admin stop: indicator %v, notice %q", cs.Recording(), cs.noticeText.Text)
	}
	// A rejoin into a room no longer recorded keeps it off.
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana"}, Rejoined: true})
	if cs.Recording() {
		t.Error("indicator after a rejoin into an unrecorded room")
	}
}
