package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/wire"
)

func TestEntryDefaults(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	if e.RoomEntry.Text != "lobby" {
		t.Errorf("room = %q, want the default lobby", e.RoomEntry.Text)
	}
	if e.NameEntry.Text != "" || e.ServerEntry.Text != "" {
		t.Errorf("name %q server %q, want both empty", e.NameEntry.Text, e.ServerEntry.Text)
	}
	if e.ServerHint.Text != "Hosting on 127.0.0.1:7880" {
		t.Errorf("server hint = %q", e.ServerHint.Text)
	}
	if e.CameraSelect.Selected != "Webcam" || e.MicSelect.Selected != "Mic" || e.SpeakerSelect.Selected != "Speakers" {
		t.Errorf("devices not preselected: %q %q %q", e.CameraSelect.Selected, e.MicSelect.Selected, e.SpeakerSelect.Selected)
	}
	h.q.until(t, "the preview", func() bool { return e.Preview.Source() != nil })
	if got := h.b.previews; len(got) != 1 || got[0] != "cam1/false" {
		t.Errorf("previews opened = %v, want [cam1/false]", got)
	}
	h.q.until(t, "the mic meter", func() bool { return e.level != nil })
	e.tick()
	if !e.Preview.HasFrame() || !e.Preview.mirror {
		t.Errorf("preview has frame %v mirrored %v, want both", e.Preview.HasFrame(), e.Preview.mirror)
	}
	if e.MicMeter.Level() != 0.5 {
		t.Errorf("mic level = %v, want 0.5 from the backend", e.MicMeter.Level())
	}
}

func TestEntryValidation(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	e.RoomEntry.SetText("")
	test.Tap(e.JoinButton)
	if !e.NameError.Visible() || e.NameError.Text != "Enter a name." {
		t.Errorf("name error = %q (visible %v)", e.NameError.Text, e.NameError.Visible())
	}
	if !e.RoomError.Visible() || e.RoomError.Text != "Enter a room name." {
		t.Errorf("room error = %q (visible %v)", e.RoomError.Text, e.RoomError.Visible())
	}
	test.Type(e.NameEntry, "Dana")
	if e.NameError.Visible() {
		t.Errorf("name error still shown after typing a name: %q", e.NameError.Text)
	}
	test.Type(e.RoomEntry, strings.Repeat("r", wire.MaxNameRunes+1))
	want := fmt.Sprintf("The room name can be at most %d characters.", wire.MaxNameRunes)
	if e.RoomError.Text != want {
		t.Errorf("room error = %q, want %q", e.RoomError.Text, want)
	}
	test.Tap(e.JoinButton)
	e.RoomEntry.SetText("room\u202Eevil")
	if !strings.Contains(e.RoomError.Text, "characters that can't be used") {
		t.Errorf("room error for a bidi override = %q", e.RoomError.Text)
	}
	h.q.drain()
	if n := h.b.joinCount(); n != 0 {
		t.Errorf("Join called %d times with invalid fields", n)
	}
}

func TestEntryJoinProgressThenError(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	gate := make(chan struct{})
	h.b.gate = gate
	h.b.joinErr = fmt.Errorf("join refused: %w", &wire.Error{Code: wire.CodeRoomFull, Message: "room is full"})
	test.Type(e.NameEntry, "Dana")
	e.RoomEntry.SetText("standup")
	e.ServerEntry.SetText("10.0.0.5:7880")
	test.Tap(e.JoinButton)

	if !e.Joining() || !e.JoinButton.Disabled() || !e.Progress.Visible() || !e.CancelButton.Visible() {
		t.Fatalf("while joining: joining %v, button disabled %v, progress %v, cancel %v",
			e.Joining(), e.JoinButton.Disabled(), e.Progress.Visible(), e.CancelButton.Visible())
	}
	if e.JoinButton.Text != "Joining…" {
		t.Errorf("join button says %q while joining", e.JoinButton.Text)
	}
	test.Tap(e.JoinButton) // a second tap must not join twice
	close(gate)
	h.q.until(t, "the join to fail", func() bool { return !e.Joining() })

	if got, want := e.ErrorLabel.Text, "The room is full (16 people)."; got != want || !e.ErrorLabel.Visible() {
		t.Errorf("error = %q (visible %v), want %q", got, e.ErrorLabel.Visible(), want)
	}
	if e.NameEntry.Text != "Dana" || e.RoomEntry.Text != "standup" || e.ServerEntry.Text != "10.0.0.5:7880" {
		t.Errorf("fields not kept: %q %q %q", e.NameEntry.Text, e.RoomEntry.Text, e.ServerEntry.Text)
	}
	if e.JoinButton.Disabled() || e.Progress.Visible() {
		t.Errorf("after failure: button disabled %v, progress %v", e.JoinButton.Disabled(), e.Progress.Visible())
	}
	if n := h.b.joinCount(); n != 1 {
		t.Errorf("Join called %d times, want 1", n)
	}
	req := h.b.joins[0]
	if req.Name != "Dana" || req.Room != "standup" || req.Server != "10.0.0.5:7880" || req.CameraID != "cam1" || req.MicID != "mic1" || req.SpeakerID != "spk1" {
		t.Errorf("join request = %+v", req)
	}
	if h.app.Call() != nil {
		t.Error("a call screen exists after a failed join")
	}
}

func TestEntryCancelJoin(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	h.b.gate = make(chan struct{}) // never opens
	test.Type(e.NameEntry, "Dana")
	test.Tap(e.JoinButton)
	test.Tap(e.CancelButton)
	h.q.until(t, "the join to stop", func() bool { return !e.Joining() })
	if e.ErrorLabel.Visible() {
		t.Errorf("cancelling shows an error: %q", e.ErrorLabel.Text)
	}
	if h.app.Call() != nil {
		t.Error("a cancelled join opened the call screen")
	}
}

func TestEntryRemembersLastRoom(t *testing.T) {
	fa := test.NewTempApp(t)
	h := newHarnessOn(t, fa, newFakeBackend(), Options{})
	e := h.app.Entry()
	e.RoomEntry.SetText("standup")
	cs, _ := h.join("Dana")
	if cs == nil {
		t.Fatal("no call screen")
	}

	again := newHarnessOn(t, fa, newFakeBackend(), Options{})
	if got := again.app.Entry().RoomEntry.Text; got != "standup" {
		t.Errorf("room after restart = %q, want the last one used", got)
	}
	if got := again.app.Entry().NameEntry.Text; got != "Dana" {
		t.Errorf("name after restart = %q, want the last one used", got)
	}
	withOpt := newHarnessOn(t, fa, newFakeBackend(), Options{Room: "given"})
	if got := withOpt.app.Entry().RoomEntry.Text; got != "given" {
		t.Errorf("room with Options.Room = %q, want given", got)
	}
}

func TestEntryNoCameraOffersTestPattern(t *testing.T) {
	fa := test.NewTempApp(t)
	b := newFakeBackend()
	b.devices.Cameras = nil
	h := newHarnessOn(t, fa, b, Options{})
	e := h.app.Entry()
	if !e.NoCamera.Visible() {
		t.Error("no-camera message hidden")
	}
	if !e.CameraSelect.Disabled() || e.CameraSelect.PlaceHolder != "No camera found" {
		t.Errorf("camera picker: disabled %v, placeholder %q", e.CameraSelect.Disabled(), e.CameraSelect.PlaceHolder)
	}
	if e.PreviewNote.Text != "Camera off" {
		t.Errorf("preview note = %q", e.PreviewNote.Text)
	}
	test.Tap(e.TestPattern)
	h.q.until(t, "the test pattern preview", func() bool { return e.Preview.Source() != nil })
	if got := h.b.previews[len(h.b.previews)-1]; got != "/true" {
		t.Errorf("preview opened as %q, want the test pattern", got)
	}
	test.Type(e.NameEntry, "Dana")
	cs, _ := h.join("Dana")
	if cs == nil || !h.b.joins[0].UseTestPattern || h.b.joins[0].CameraID != "" {
		t.Errorf("join request = %+v, want the test pattern and no camera", h.b.joins[0])
	}
	eventually(t, "the preview to stop", func() bool {
		h.b.mu.Lock()
		defer h.b.mu.Unlock()
		return h.b.stops >= 1
	})
}

func TestAutoJoin(t *testing.T) {
	h := newHarness(t, Options{Name: "Bot", Room: "r1", AutoJoin: true})
	h.q.until(t, "the auto join", func() bool { return h.app.Call() != nil })
	if r := h.b.joins[0]; r.Name != "Bot" || r.Room != "r1" {
		t.Errorf("auto join request = %+v", r)
	}
}

func TestServerHintFollowsTheServerField(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	test.Type(e.ServerEntry, "http://10.0.0.5:7880")
	if want := "Joining the server at http://10.0.0.5:7880; the built-in server is not used."; e.ServerHint.Text != want {
		t.Errorf("hint with a server typed = %q, want %q", e.ServerHint.Text, want)
	}
	e.ServerEntry.SetText("")
	if e.ServerHint.Text != "Hosting on 127.0.0.1:7880" {
		t.Errorf("hint with the field cleared = %q", e.ServerHint.Text)
	}
}

func TestServerHintFollowsATakeOver(t *testing.T) {
	fa := test.NewTempApp(t)
	b := newFakeBackend()
	b.hint = "Using the Confab server already running on this computer (127.0.0.1:7880)"
	h := newHarnessOn(t, fa, b, Options{})
	e := h.app.Entry()
	if e.ServerHint.Text != b.hint {
		t.Fatalf("hint = %q", e.ServerHint.Text)
	}
	b.serverChanged("Hosting on this computer (127.0.0.1:7880); only this computer can join")
	h.q.until(t, "the hint to say this app hosts the server now", func() bool {
		return strings.HasPrefix(e.ServerHint.Text, "Hosting on this computer")
	})
}

func TestJoinMutedWithCameraOff(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	h.q.until(t, "the preview and the meter", func() bool { return e.Preview.Source() != nil && e.level != nil })
	test.Tap(e.MicToggle)
	test.Tap(e.CameraToggle)
	h.q.drain()
	if e.Preview.Source() != nil || e.level != nil {
		t.Error("preview or meter still running with the camera and mic turned off")
	}
	if e.PreviewNote.Text != "Your camera will be off when you join" || e.MicToggle.Icon() != iconMicOff || e.CameraToggle.Icon() != iconCameraOff {
		t.Errorf("note %q, toggles not shown off", e.PreviewNote.Text)
	}
	cs, _ := h.join("Dana")
	h.b.mu.Lock()
	req := h.b.joins[0]
	h.b.mu.Unlock()
	if !req.MicOff || !req.CameraOff {
		t.Errorf("join request mic off %v camera off %v, want both", req.MicOff, req.CameraOff)
	}
	if cs.Controls().Mic.Icon() != iconMicOff || cs.Controls().Camera.Icon() != iconCameraOff {
		t.Error("the call's controls do not show the mic muted and the camera off")
	}
	// Back on the entry screen the choices are kept and the devices stay off.
	test.Tap(cs.Controls().Leave)
	h.q.drain()
	if !e.MicOff() || !e.CameraOff() {
		t.Error("choices lost after the call")
	}
	test.Tap(e.CameraToggle)
	h.q.until(t, "the preview after turning the camera back on", func() bool { return e.Preview.Source() != nil })
}
