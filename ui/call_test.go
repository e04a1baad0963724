package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

var (
	fox    = client.Participant{ID: "p1", Name: "Fox Mulder", Mic: true, Camera: true}
	walter = client.Participant{ID: "p2", Name: "Walter Skinner", Mic: false, Camera: false}
)

func tileKeys(cs *CallScreen) []string {
	var keys []string
	for _, t := range cs.Tiles() {
		keys = append(keys, t.Key)
	}
	return keys
}

func TestParticipantsJoinAndLeave(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	if got := tileKeys(cs); len(got) != 2 || got[0] != "p0" || got[1] != "p1" {
		t.Fatalf("tiles = %v, want [p0 p1]", got)
	}
	if self := cs.Tile("p0"); !self.IsSelf() || !self.Mirrored() || self.label() != "Dana (you)" {
		t.Errorf("own tile: self %v mirrored %v label %q", self.IsSelf(), self.Mirrored(), self.label())
	}
	if cs.Tile("p1").Mirrored() {
		t.Error("someone else's tile is mirrored")
	}
	if cs.Controls().People.Text() != "2" {
		t.Errorf("people count = %q, want 2", cs.Controls().People.Text())
	}
	test.Tap(cs.Controls().People)
	if h.app.win.Canvas().Overlays().Top() == nil {
		t.Error("tapping the people button shows no list")
	}
	h.app.win.Canvas().Overlays().Top().Hide()

	h.send(cs, c, client.ParticipantJoined{Participant: walter})
	if got := tileKeys(cs); len(got) != 3 || got[2] != "p2" {
		t.Fatalf("tiles after join = %v", got)
	}
	w := cs.Tile("p2")
	if !w.MicMuted() || !w.CameraOff() || !w.ShowsPlaceholder() || w.Initials() != "WS" {
		t.Errorf("Walter's tile: muted %v camera off %v placeholder %v initials %q",
			w.MicMuted(), w.CameraOff(), w.ShowsPlaceholder(), w.Initials())
	}
	if len(cs.stage.Objects) != 3 {
		t.Errorf("stage holds %d objects, want 3", len(cs.stage.Objects))
	}

	walter.Mic = true
	h.send(cs, c, client.ParticipantUpdated{Participant: walter})
	if w.MicMuted() {
		t.Error("mute mark still shown after unmuting")
	}
	walter.Mic = false

	h.send(cs, c, client.SpeakersChanged{Speakers: []client.Speaker{{ID: "p1", Level: 0.9}, {ID: "p2", Level: 0.2}}})
	if !cs.Tile("p1").Speaking() || cs.Tile("p2").Speaking() {
		t.Errorf("speaking: p1 %v p2 %v, want only the loudest", cs.Tile("p1").Speaking(), cs.Tile("p2").Speaking())
	}

	h.send(cs, c, client.ParticipantLeft{ID: "p1", Reason: "left"})
	if got := tileKeys(cs); len(got) != 2 || got[1] != "p2" {
		t.Errorf("tiles after leave = %v, want [p0 p2]", got)
	}
	if cs.Tile("p1") != nil {
		t.Error("tile of someone who left is still there")
	}
	if cs.Controls().People.Text() != "2" {
		t.Errorf("people count = %q after a leave, want 2", cs.Controls().People.Text())
	}
}

func TestVideoTickRefreshesOnlyChangedTiles(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	mine, theirs := newFakeSource(32, 18), newFakeSource(32, 18)
	h.send(cs, c, client.VideoAdded{ParticipantID: "p0", Source: wire.SourceCamera, Local: true, Video: mine})
	h.send(cs, c, client.VideoAdded{ParticipantID: "p1", Source: wire.SourceCamera, Video: theirs})
	self, other := cs.Tile("p0"), cs.Tile("p1")
	if self.Video.Source() != client.VideoSource(mine) || other.Video.Source() != client.VideoSource(theirs) {
		t.Fatal("sources not attached to the tiles")
	}
	cs.tick()
	if self.Video.refreshes != 1 || other.Video.refreshes != 1 {
		t.Fatalf("after first tick: %d %d refreshes, want 1 1", self.Video.refreshes, other.Video.refreshes)
	}
	if self.ShowsPlaceholder() {
		t.Error("placeholder shown over live video")
	}
	cs.tick()
	if self.Video.refreshes != 1 || other.Video.refreshes != 1 {
		t.Errorf("unchanged frames redrawn: %d %d", self.Video.refreshes, other.Video.refreshes)
	}
	theirs.next(mustLatest(theirs))
	cs.tick()
	if self.Video.refreshes != 1 || other.Video.refreshes != 2 {
		t.Errorf("after one new frame: %d %d refreshes, want 1 2", self.Video.refreshes, other.Video.refreshes)
	}

	h.send(cs, c, client.VideoRemoved{ParticipantID: "p1", Source: wire.SourceCamera})
	if other.Video.Source() != nil || !other.ShowsPlaceholder() {
		t.Error("removed video still attached")
	}
}

func TestControlsToggle(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	ctl := cs.Controls()
	self := cs.Tile("p0")

	if ctl.Mic.Tooltip() != "Mute microphone (Ctrl+D)" {
		t.Errorf("mic tooltip = %q", ctl.Mic.Tooltip())
	}
	test.Tap(ctl.Mic)
	if !self.MicMuted() || ctl.Mic.Icon() != iconMicOff || ctl.Mic.Tooltip() != "Unmute microphone (Ctrl+D)" {
		t.Errorf("after muting: tile muted %v, tooltip %q", self.MicMuted(), ctl.Mic.Tooltip())
	}
	eventually(t, "SetMicMuted(true)", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = len(c.mic) == 1 && c.mic[0] })
		return
	})

	test.Tap(ctl.Camera)
	if !self.CameraOff() || ctl.Camera.Icon() != iconCameraOff {
		t.Errorf("after camera off: tile camera off %v", self.CameraOff())
	}
	eventually(t, "SetCameraOn(false)", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = len(c.cam) == 1 && !c.cam[0] })
		return
	})

	test.Tap(ctl.Share)
	if ctl.Share.Tooltip() != "Stop sharing your screen (Ctrl+Shift+S)" {
		t.Errorf("share tooltip while sharing = %q", ctl.Share.Tooltip())
	}
	eventually(t, "SetScreenShare(true)", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = len(c.share) == 1 && c.share[0] })
		return
	})
	if cs.Pinned() != "" {
		t.Errorf("own screen share was pinned: %q", cs.Pinned())
	}

	// Shortcuts do the same, from the window and from the chat box.
	cs.handleShortcut(shortcutMic.fyne())
	if self.MicMuted() {
		t.Error("Ctrl+D did not unmute")
	}
	cs.Chat().Entry.TypedShortcut(shortcutCam.fyne())
	if self.CameraOff() {
		t.Error("Ctrl+E in the chat box did not turn the camera on")
	}
	eventually(t, "the shortcut calls", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = len(c.mic) == 2 && !c.mic[1] && len(c.cam) == 2 && c.cam[1] })
		return
	})

	// A refused change is undone and explained.
	c.get(func(c *fakeCall) { c.camErr = errors.New("camera busy") })
	test.Tap(ctl.Camera)
	h.q.until(t, "the camera change to be undone", func() bool { return !self.CameraOff() })
	if cs.Notice() != "Couldn't change the camera. Camera busy." {
		t.Errorf("notice = %q", cs.Notice())
	}
}

func TestTooltipShowsShortcut(t *testing.T) {
	h := newHarness(t, Options{})
	cs, _ := h.welcome()
	cs.Controls().Chat.MouseIn(nil)
	if h.app.tips.text != "Open chat (Ctrl+Shift+C)" || !h.app.tips.box.Visible() {
		t.Errorf("tooltip = %q (visible %v)", h.app.tips.text, h.app.tips.box.Visible())
	}
	cs.Controls().Chat.MouseOut()
	if h.app.tips.box.Visible() {
		t.Error("tooltip still shown after the mouse left")
	}
}

func TestScreenShareAutoPin(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox, walter)
	sharing := fox
	sharing.Screen = true
	h.send(cs, c, client.ParticipantUpdated{Participant: sharing})
	screen := newFakeSource(64, 40)
	h.send(cs, c, client.VideoAdded{ParticipantID: "p1", Source: wire.SourceScreen, Video: screen})

	keys := tileKeys(cs)
	if len(keys) != 4 || keys[0] != "p1:screen" {
		t.Fatalf("tiles = %v, want the screen share first", keys)
	}
	st := cs.Tile("p1:screen")
	if !st.IsScreen() || st.Mirrored() || st.Video.Source() != client.VideoSource(screen) {
		t.Errorf("share tile: screen %v mirrored %v", st.IsScreen(), st.Mirrored())
	}
	if cs.Pinned() != "p1:screen" || !st.Pinned() || cs.stageLay.pinned != st {
		t.Fatalf("pinned = %q, want the share auto-pinned", cs.Pinned())
	}

	// The stage shows it big.
	cs.stage.Resize(fyne.NewSize(1000, 600))
	if st.Size().Width < 900 || cs.Tile("p0").Size().Width > 300 {
		t.Errorf("pinned tile %v, others %v", st.Size(), cs.Tile("p0").Size())
	}

	// Clicking it unpins; it is not pinned again by the next event.
	test.Tap(st)
	if cs.Pinned() != "" || st.Pinned() {
		t.Errorf("still pinned after a click: %q", cs.Pinned())
	}
	h.send(cs, c, client.SpeakersChanged{Speakers: []client.Speaker{{ID: "p2", Level: 1}}})
	if cs.Pinned() != "" {
		t.Errorf("unpinned share came back: %q", cs.Pinned())
	}

	// Clicking a camera tile pins it; again unpins.
	test.Tap(cs.Tile("p2"))
	if cs.Pinned() != "p2" || !cs.Tile("p2").Pinned() {
		t.Errorf("pinned = %q, want p2", cs.Pinned())
	}
	test.Tap(cs.Tile("p2"))
	if cs.Pinned() != "" {
		t.Errorf("pinned = %q after a second click", cs.Pinned())
	}

	// When the share stops its tile goes.
	sharing.Screen = false
	h.send(cs, c, client.VideoRemoved{ParticipantID: "p1", Source: wire.SourceScreen})
	h.send(cs, c, client.ParticipantUpdated{Participant: sharing})
	if cs.Tile("p1:screen") != nil {
		t.Error("share tile still there after the share stopped")
	}
}

func TestPinnedTileLeaving(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	test.Tap(cs.Tile("p1"))
	h.send(cs, c, client.ParticipantLeft{ID: "p1"})
	if cs.Pinned() != "" || cs.stageLay.pinned != nil {
		t.Errorf("pinned = %q after the pinned person left", cs.Pinned())
	}
}

func TestConnectionStates(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.join("Dana")
	if cs.State() != client.StateConnecting || cs.Controls().Status.Text != "Connecting…" || !cs.connecting.Visible() {
		t.Errorf("before welcome: state %v status %q", cs.State(), cs.Controls().Status.Text)
	}
	if !cs.spinning {
		t.Error("the joining spinner is still while joining")
	}
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana", Mic: true}})
	if cs.State() != client.StateConnected || cs.Controls().Status.Text != "Connected" || cs.connecting.Visible() {
		t.Errorf("after welcome: state %v status %q", cs.State(), cs.Controls().Status.Text)
	}
	// A hidden Activity that still turns repaints the window every frame.
	if cs.spinning {
		t.Error("the joining spinner still turns (hidden) after joining")
	}
	h.send(cs, c, client.StateChanged{State: client.StateReconnecting, Err: errors.New("network down")})
	if cs.Banner() == "" || cs.Controls().Status.Text != "Reconnecting…" {
		t.Errorf("reconnecting: banner %q status %q", cs.Banner(), cs.Controls().Status.Text)
	}
	h.send(cs, c, client.StateChanged{State: client.StateConnected})
	if cs.Banner() != "" {
		t.Errorf("banner %q still shown after reconnecting", cs.Banner())
	}
}

func TestLeaveReturnsToEntry(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	test.Tap(cs.Controls().Leave)
	if h.app.Call() != nil {
		t.Error("call screen still current after leaving")
	}
	if h.app.root.Objects[0] != h.app.Entry().content {
		t.Error("entry screen not shown after leaving")
	}
	eventually(t, "Leave", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = c.leaves == 1 })
		return
	})
	// Late events are ignored.
	c.events <- client.ParticipantLeft{ID: "p1"}
	c.events <- client.StateChanged{State: client.StateLeft}
	close(c.events)
	<-cs.done
	h.q.drain()
	if h.app.Entry().ErrorLabel.Visible() {
		t.Errorf("error shown after a normal leave: %q", h.app.Entry().ErrorLabel.Text)
	}
	if cs.Tile("p1") == nil {
		t.Error("events after leaving were applied")
	}
	if h.app.Entry().NameEntry.Text != "Dana" {
		t.Errorf("name not kept: %q", h.app.Entry().NameEntry.Text)
	}
}

func TestCallEndsUnexpectedly(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	h.send(cs, c, client.StateChanged{State: client.StateLeft, Err: &wire.Error{Code: wire.CodePermissionDenied}})
	if h.app.Call() != nil {
		t.Fatal("still on the call screen")
	}
	want := "The call ended. You are not allowed to join this room."
	if got := h.app.Entry().ErrorLabel.Text; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestWindowCloseLeaves(t *testing.T) {
	h := newHarness(t, Options{})
	_, c := h.welcome()
	closed := false
	h.app.win.SetOnClosed(func() { closed = true })
	h.app.Close() // as the close button, and as a TERM signal does
	eventually(t, "Leave on close", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = c.leaves == 1 })
		return
	})
	close(c.events)
	h.q.until(t, "the window to close", func() bool { return closed })
}

// afterCallDevices checks that the entry screen, shown while the call
// still holds the devices, says so inside the preview box, and brings the
// preview and the meter back once the call has let them go.
func afterCallDevices(t *testing.T, h *harness, c *fakeCall, gate chan struct{}) {
	t.Helper()
	e := h.app.Entry()
	h.q.until(t, "the preview's refusal while the call holds the camera", func() bool {
		return e.PreviewNote.Visible() && e.PreviewNote.Text == "Waiting for the call to release the camera…"
	})
	if w := e.PreviewNote.Size().Width; w < 300 {
		t.Errorf("the preview note is %v wide: long messages run out of the 400 px box", w)
	}
	if e.Preview.Source() != nil || e.level != nil {
		t.Fatal("preview or meter running while the call holds the devices")
	}
	close(gate)
	h.q.until(t, "the preview and the meter back after the call let go", func() bool {
		return e.Preview.Source() != nil && e.level != nil && !e.PreviewNote.Visible()
	})
	c.get(func(c *fakeCall) {
		if c.leaves != 1 {
			t.Errorf("Leave called %d times, want 1", c.leaves)
		}
	})
}

func TestPreviewComesBackAfterLeaving(t *testing.T) {
	h := newHarness(t, Options{})
	h.b.holdDevices = true
	cs, c := h.welcome(fox)
	gate := make(chan struct{})
	c.get(func(c *fakeCall) { c.leaveGate = gate })
	test.Tap(cs.Controls().Leave)
	afterCallDevices(t, h, c, gate)
}

func TestDroppedCallReleasesDevices(t *testing.T) {
	h := newHarness(t, Options{})
	h.b.holdDevices = true
	cs, c := h.welcome(fox)
	gate := make(chan struct{})
	c.get(func(c *fakeCall) { c.leaveGate = gate })
	h.send(cs, c, client.StateChanged{State: client.StateLeft, Err: client.ErrUnreachable})
	if h.app.Call() != nil {
		t.Fatal("still on the call screen after the call dropped")
	}
	afterCallDevices(t, h, c, gate)
}

func TestJoinWithEnterMovesFocusOutOfTheForm(t *testing.T) {
	h := newHarness(t, Options{})
	e := h.app.Entry()
	test.Type(e.NameEntry, "Dana")
	canvas := h.app.win.Canvas()
	canvas.Focus(e.RoomEntry)
	e.RoomEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.q.until(t, "the call screen", func() bool { return h.app.Call() != nil })
	if f := canvas.Focused(); f == e.RoomEntry || f == e.NameEntry || f == e.ServerEntry {
		t.Fatalf("focus stayed in the hidden entry form (%T)", f)
	}
	if canvas.Focused() != nil {
		test.TypeOnCanvas(canvas, "x")
	}
	if e.RoomEntry.Text != "lobby" {
		t.Errorf("typing in the call edited the hidden room field: %q", e.RoomEntry.Text)
	}
}

func TestReconnectBannerTellsTheTruthAndRejoins(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	h.send(cs, c, client.StateChanged{State: client.StateReconnecting, Err: client.ErrUnreachable})
	h.send(cs, c, client.Reconnecting{Attempt: 0})
	if cs.Banner() != "Connection lost. Reconnecting…" || !cs.RejoinNow.Visible() {
		t.Errorf("banner %q, rejoin button shown %v", cs.Banner(), cs.RejoinNow.Visible())
	}
	until := time.Date(2026, 1, 2, 15, 4, 0, 0, time.Local)
	h.send(cs, c, client.Reconnecting{Attempt: 4, Until: until, Err: client.ErrUnreachable})
	want := "Connection lost: can't reach the built-in server (4 tries so far). Still trying until 15:04."
	if cs.Banner() != want {
		t.Errorf("banner = %q\nwant     %q", cs.Banner(), want)
	}
	test.Tap(cs.RejoinNow)
	eventually(t, "ReconnectNow", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = c.reconnects == 1 })
		return
	})
	h.send(cs, c, client.StateChanged{State: client.StateConnected})
	if cs.Banner() != "" {
		t.Errorf("banner %q after reconnecting", cs.Banner())
	}

	// Giving up ends the call; the entry screen offers to rejoin.
	h.send(cs, c, client.StateChanged{State: client.StateReconnecting, Err: client.ErrUnreachable})
	h.send(cs, c, client.StateChanged{State: client.StateLeft, Err: client.ErrUnreachable})
	e := h.app.Entry()
	if e.JoinButton.Text != "Rejoin lobby" {
		t.Errorf("join button = %q after the call dropped, want Rejoin lobby", e.JoinButton.Text)
	}
	test.Tap(e.JoinButton)
	h.q.until(t, "the call screen again", func() bool { return h.app.Call() != nil && h.app.Call() != cs })
	if n := h.b.joinCount(); n != 2 {
		t.Errorf("%d joins, want 2", n)
	}
}

func TestJoinAndLeaveAreAnnounced(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	if cs.Notice() != "" {
		t.Errorf("notice %q for the people already there", cs.Notice())
	}
	h.send(cs, c, client.ParticipantJoined{Participant: walter})
	if cs.Notice() != "Walter Skinner joined" {
		t.Errorf("notice = %q, want Walter Skinner joined", cs.Notice())
	}
	h.send(cs, c, client.ParticipantLeft{ID: "p1", Reason: "left"})
	if cs.Notice() != "Fox Mulder left" {
		t.Errorf("notice = %q, want Fox Mulder left", cs.Notice())
	}
	h.send(cs, c, client.ParticipantLeft{ID: "p1", Reason: "left"}) // again: not announced twice
	// A rejoin's welcome says who is here now: "left" would be stale.
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana"}, Participants: []client.Participant{fox}, Rejoined: true})
	if cs.Notice() != "" {
		t.Errorf("notice %q still up after the rejoin's welcome", cs.Notice())
	}
	eventually(t, "a join and a leave sound", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = len(c.sounds) == 2 })
		return
	})
	c.get(func(c *fakeCall) {
		if c.sounds[0] != sounds.Join || c.sounds[1] != sounds.Leave {
			t.Errorf("sounds = %v", c.sounds)
		}
	})
}

func TestAloneInTheRoom(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	if !cs.Alone() {
		t.Fatal("no \"You're the only one here\" in an empty room")
	}
	test.Tap(cs.InviteButton)
	if got := h.fa.Clipboard().Content(); !strings.Contains(got, "lobby") {
		t.Errorf("invite on the clipboard = %q, want the room name in it", got)
	}
	h.send(cs, c, client.ParticipantJoined{Participant: fox})
	if cs.Alone() {
		t.Error("still alone with Fox in the room")
	}
	h.send(cs, c, client.ParticipantLeft{ID: "p1"})
	if !cs.Alone() {
		t.Error("not alone again after Fox left")
	}
}

func TestSwitchDevicesDuringACall(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	test.Tap(cs.Controls().Devices)
	dp := cs.Devices()
	if dp == nil || dp.Camera.Selected != "Webcam" || dp.Microphone.Selected != "Mic" {
		t.Fatalf("device picker %+v: want the call's devices selected", dp)
	}
	dp.Camera.SetSelected("Desk camera")
	test.Tap(cs.Controls().Mic) // mute: the microphone then only changes for later
	dp.Microphone.SetSelected("Headset")
	eventually(t, "the camera restarted on the new device", func() (ok bool) {
		c.get(func(c *fakeCall) {
			ok = len(c.used) == 2 && len(c.cam) == 2 && !c.cam[0] && c.cam[1]
		})
		return
	})
	c.get(func(c *fakeCall) {
		if c.used[0] != "camera cam2" || c.used[1] != "mic mic2" {
			t.Errorf("devices chosen %v", c.used)
		}
		if len(c.mic) != 1 || !c.mic[0] {
			t.Errorf("mic calls %v: a muted mic is not restarted", c.mic)
		}
	})
	if got := h.fa.Preferences().String(prefCamera); got != "cam2" {
		t.Errorf("camera preference %q, want cam2 for next time", got)
	}
}

func TestWindowHasAMinimumSize(t *testing.T) {
	h := newHarness(t, Options{})
	h.welcome(fox)
	min := h.app.win.Content().MinSize()
	if min.Width < 720 || min.Height < 480 {
		t.Errorf("window content min size %v: the window can shrink until the controls overlap", min)
	}
	// The controls bar fits in the minimum width.
	if bar := h.app.Call().Controls().bar.MinSize(); bar.Width > min.Width {
		t.Errorf("controls bar needs %v, wider than the minimum window %v", bar.Width, min.Width)
	}
}

func TestPresentingOwnScreen(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	test.Tap(cs.Controls().Share)
	if !cs.Presenting() {
		t.Fatal("no \"You are presenting\" bar while sharing")
	}
	h.send(cs, c, client.VideoAdded{ParticipantID: "p0", Source: wire.SourceScreen, Local: true, Video: newFakeSource(64, 40)})
	own := cs.Tile("p0:screen")
	if own == nil || own.Video.Source() != nil || !own.ShowsPlaceholder() {
		t.Fatal("your own screen is drawn in your tile: a mirror in a mirror")
	}
	test.Tap(cs.StopPresenting)
	eventually(t, "the share stopped", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = len(c.share) == 2 && c.share[0] && !c.share[1] })
		return
	})
	if cs.Presenting() {
		t.Error("presenting bar still shown after stopping")
	}
}

func TestSpeakerView(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox, walter)
	if cs.Large() != "" {
		t.Fatalf("large tile %q in the grid", cs.Large())
	}
	test.Tap(cs.Controls().View)
	if !cs.SpeakerView() || cs.Large() != "p1" {
		t.Fatalf("speaker view %v, large %q: want the first other person large before anyone speaks", cs.SpeakerView(), cs.Large())
	}
	h.send(cs, c, client.SpeakersChanged{Speakers: []client.Speaker{{ID: "p2", Level: 0.8}}})
	if cs.Large() != "p2" {
		t.Errorf("large %q, want the active speaker p2", cs.Large())
	}
	cs.stage.Resize(fyne.NewSize(1000, 600))
	if big, small := cs.Tile("p2").Size(), cs.Tile("p0").Size(); big.Width < 3*small.Width {
		t.Errorf("speaker %v not large over the strip (%v)", big, small)
	}
	// A pin wins over the speaker; the grid comes back with the button.
	test.Tap(cs.Tile("p1"))
	if cs.Large() != "p1" {
		t.Errorf("large %q after pinning p1", cs.Large())
	}
	test.Tap(cs.Tile("p1"))
	test.Tap(cs.Controls().View)
	if cs.Large() != "" {
		t.Errorf("large %q back in the grid", cs.Large())
	}
}

func TestScreenPicker(t *testing.T) {
	h := newHarness(t, Options{})
	h.b.devices.Screens = []Device{{ID: "scr0", Label: "Built-in display"}, {ID: "scr1", Label: "Projector"}}
	cs, c := h.welcome(fox)
	test.Tap(cs.Controls().Share)
	sp := cs.ScreenPicker()
	if sp == nil || len(sp.Screens.Options) != 2 {
		t.Fatalf("no screen picker with both screens: %+v", sp)
	}
	if cs.model.self.Screen {
		t.Fatal("sharing before a screen was picked")
	}
	test.Tap(sp.CancelButton)
	if cs.ScreenPicker() != nil || cs.Presenting() {
		t.Fatal("cancel left the picker up or started sharing")
	}
	test.Tap(cs.Controls().Share)
	sp = cs.ScreenPicker()
	sp.Screens.SetSelected("Projector (2)")
	test.Tap(sp.ShareButton)
	eventually(t, "the projector shared", func() (ok bool) {
		c.get(func(c *fakeCall) {
			ok = len(c.used) == 1 && c.used[0] == "screen scr1" && len(c.share) == 1 && c.share[0]
		})
		return
	})
	if !cs.Presenting() {
		t.Error("no presenting bar after sharing")
	}
	// Stopping needs no picker.
	test.Tap(cs.Controls().Share)
	if cs.ScreenPicker() != nil {
		t.Error("picker shown to stop sharing")
	}
}

func TestEventsAreBatched(t *testing.T) {
	ch := make(chan client.Event, 100)
	for i := 0; i < 70; i++ {
		ch <- client.StateChanged{State: client.StateConnected}
	}
	first := <-ch
	batch, open := drainEvents(ch, first)
	if len(batch) != maxEventBatch || !open {
		t.Fatalf("first batch: %d events, open %v; want %d, true", len(batch), open, maxEventBatch)
	}
	close(ch)
	batch, open = drainEvents(ch, <-ch)
	if len(batch) != 70-maxEventBatch || open {
		t.Fatalf("last batch: %d events, open %v; want %d, false", len(batch), open, 70-maxEventBatch)
	}
}

// The own camera has frames before the call screen shows: its tile draws
// one as soon as the source arrives, not a tick later (issue 9, item 8).
func TestOwnVideoDrawnWithoutWaitingForATick(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	h.send(cs, c, client.VideoAdded{ParticipantID: "p0", Source: wire.SourceCamera, Local: true, Video: newFakeSource(32, 18)})
	if own := cs.Tile("p0"); !own.Video.HasFrame() || own.ShowsPlaceholder() || cs.ticks != 0 {
		t.Fatalf("own video: frame %v, placeholder %v after %d ticks", own.Video.HasFrame(), own.ShowsPlaceholder(), cs.ticks)
	}
}
