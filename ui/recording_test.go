package ui

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

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

func (c *fakeCall) StartRecording() error { return c.recording(true) }
func (c *fakeCall) StopRecording() error  { return c.recording(false) }

func (c *fakeCall) recording(start bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, start)
	return c.recErr
}

func (c *fakeCall) RecordingFolder(string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.folder
}

// recCalls returns the StartRecording (true) and StopRecording (false)
// calls so far.
func (c *fakeCall) recCalls() []bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.recs...)
}

// TestRecordButton: the Record button shows only when the server says
// the user may record; a tap asks the call to start and waits, disabled,
// for the server; the recording event turns it into Stop recording;
// stopping says which folder the recording went to, with an Open folder
// button; the server's refusals (recording_unavailable,
// permission_denied), a call that cannot send, and a full disk are said
// in plain words and leave the button at Record.
func TestRecordButton(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	if cs.CanRecord() {
		t.Fatal("the Record button shows without can_record")
	}
	self := client.Participant{ID: "p0", Name: "Dana", Mic: true, Camera: true}
	h.send(cs, c, client.Welcome{Room: "lobby", You: self, Rejoined: true, CanRecord: true})
	b := cs.RecordButton()
	if !cs.CanRecord() || b.Text() != "Record" || b.Disabled() || !strings.Contains(b.Tooltip(), "Record this call") {
		t.Fatalf("allowed: shows %v, text %q, disabled %v, tooltip %q", cs.CanRecord(), b.Text(), b.Disabled(), b.Tooltip())
	}

	// Start: the call is asked, the button waits for the server.
	test.Tap(b)
	eventually(t, "StartRecording", func() bool { return slices.Equal(c.recCalls(), []bool{true}) })
	if !b.Disabled() || b.Text() != "Record" {
		t.Errorf("while starting: disabled %v, text %q", b.Disabled(), b.Text())
	}
	test.Tap(b) // ignored while waiting
	h.send(cs, c, client.RecordingChanged{Active: true, Reason: wire.RecordingAdmin, By: "p0", ByName: "Dana"})
	if !cs.Recording() || b.Disabled() || b.Text() != "Stop recording" || b.Icon() != iconRecordStop || !strings.Contains(b.Tooltip(), "Stop recording") {
		t.Fatalf("recording: indicator %v, disabled %v, text %q, tooltip %q", cs.Recording(), b.Disabled(), b.Text(), b.Tooltip())
	}
	if got := c.recCalls(); !slices.Equal(got, []bool{true}) {
		t.Errorf("a tap while waiting was sent: %v", got)
	}

	// Stop: the bar says where the files went and opens the folder.
	dir := filepath.Join(t.TempDir(), "recordings", "3")
	c.get(func(c *fakeCall) { c.folder = dir })
	var opened []*url.URL
	cs.rec.open = func(u *url.URL) error { opened = append(opened, u); return nil }
	test.Tap(b)
	eventually(t, "StopRecording", func() bool { return slices.Equal(c.recCalls(), []bool{true, false}) })
	if !b.Disabled() || b.Text() != "Stop recording" {
		t.Errorf("while stopping: disabled %v, text %q", b.Disabled(), b.Text())
	}
	h.send(cs, c, client.RecordingChanged{Active: false, Reason: wire.RecordingAdmin, By: "p0", ByName: "Dana"})
	h.q.until(t, "the saved bar", func() bool { return cs.RecordingSaved() != "" })
	if cs.Recording() || b.Text() != "Record" || b.Disabled() || cs.Notice() != "Dana stopped recording" {
		t.Errorf("stopped: indicator %v, text %q, disabled %v, notice %q", cs.Recording(), b.Text(), b.Disabled(), cs.Notice())
	}
	if got := cs.RecordingSaved(); got != "The recording is saved in "+dir {
		t.Errorf("saved bar: %q", got)
	}
	test.Tap(cs.rec.OpenFolder)
	if len(opened) != 1 || opened[0].Scheme != "file" || opened[0].Path != filepath.ToSlash(dir) {
		t.Errorf("Open folder opened %v, want file://%s", opened, dir)
	}

	// Refusals, in plain words; the button is Record again each time.
	for _, tc := range []struct {
		code, want string
	}{
		{wire.CodeRecordingUnavailable, "Couldn't start recording: this server does not keep recordings."},
		{wire.CodePermissionDenied, "Couldn't start recording: only someone the server made an admin may record this call."},
	} {
		test.Tap(b)
		if !b.Disabled() {
			t.Fatalf("%s: not waiting after the tap", tc.code)
		}
		h.send(cs, c, client.ErrorEvent{Err: &wire.Error{Code: tc.code, Message: "detail"}})
		if cs.Notice() != tc.want || b.Disabled() || b.Text() != "Record" {
			t.Errorf("%s: notice %q, disabled %v, text %q", tc.code, cs.Notice(), b.Disabled(), b.Text())
		}
	}
	c.get(func(c *fakeCall) { c.recErr = client.ErrNotConnected })
	test.Tap(b)
	h.q.until(t, "the send failure", func() bool { return !b.Disabled() })
	if n := cs.Notice(); !strings.HasPrefix(n, "Couldn't start recording. ") {
		t.Errorf("send failure: notice %q", n)
	}
	c.get(func(c *fakeCall) { c.recErr = nil })

	// A full disk stops it: the button is Record again, the notice says
	// the call goes on, the saved bar shows again.
	test.Tap(b)
	h.send(cs, c, client.RecordingChanged{Active: true, Reason: wire.RecordingAdmin, By: "p0", ByName: "Dana"})
	if cs.RecordingSaved() != "" {
		t.Error("the saved bar of the last recording stays up while recording again")
	}
	h.send(cs, c, client.RecordingChanged{Active: false, Reason: wire.RecordingDiskFull})
	if b.Text() != "Record" || b.Disabled() || !strings.Contains(cs.Notice(), "disk is full") {
		t.Errorf("disk full: text %q, disabled %v, notice %q", b.Text(), b.Disabled(), cs.Notice())
	}
	h.q.until(t, "the saved bar after disk full", func() bool { return cs.RecordingSaved() != "" })

	// A rejoin where the server no longer allows it hides the button.
	h.send(cs, c, client.Welcome{Room: "lobby", You: self, Rejoined: true})
	if cs.CanRecord() {
		t.Error("the Record button shows after a rejoin without can_record")
	}
}
