package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// requestLog records RequestVideo calls of fakeCall, by participant.
// requestLog records RequestVideo calls of fakeCall for p1's camera (m)
// and screen share (screen).
var requestLog = struct {
	sync.Mutex
	m, screen map[*fakeCall][]client.VideoRequest
}{m: map[*fakeCall][]client.VideoRequest{}, screen: map[*fakeCall][]client.VideoRequest{}}

func (c *fakeCall) RequestVideo(participantID, source string, r client.VideoRequest) error {
	requestLog.Lock()
	defer requestLog.Unlock()
	switch {
	case participantID == "p1" && source == "camera":
		requestLog.m[c] = append(requestLog.m[c], r)
	case participantID == "p1" && source == "screen":
		requestLog.screen[c] = append(requestLog.screen[c], r)
	}
	return nil
}

func requestsOf(c *fakeCall) []client.VideoRequest {
	requestLog.Lock()
	defer requestLog.Unlock()
	return append([]client.VideoRequest(nil), requestLog.m[c]...)
}

func screenRequestsOf(c *fakeCall) []client.VideoRequest {
	requestLog.Lock()
	defer requestLog.Unlock()
	return append([]client.VideoRequest(nil), requestLog.screen[c]...)
}

// TestScreenShareIsPausedWhileHidden: a remote screen share is asked for
// whole (the server's default) while shown, once, and paused while the
// call is hidden.
func TestScreenShareIsPausedWhileHidden(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox, walter)
	sharing := fox
	sharing.Screen = true
	h.send(cs, c, client.ParticipantUpdated{Participant: sharing})
	h.send(cs, c, client.VideoAdded{ParticipantID: "p1", Source: wire.SourceScreen, Video: newFakeSource(64, 40)})
	look := func() {
		cs.asksAt = time.Time{}
		cs.tick()
	}
	look()
	eventually(t, "a request for Fox's screen", func() bool { return len(screenRequestsOf(c)) == 1 })
	if r := screenRequestsOf(c)[0]; r != (client.VideoRequest{}) {
		t.Fatalf("shown screen share asked for %+v, want the default", r)
	}
	look() // nothing changed: nothing asked
	cs.stage.Hide()
	look()
	eventually(t, "a pause while hidden", func() bool {
		r := screenRequestsOf(c)
		return len(r) == 2 && r[1].Paused
	})
	cs.stage.Show()
	look()
	eventually(t, "asked again when shown", func() bool {
		r := screenRequestsOf(c)
		return len(r) == 3 && r[2] == (client.VideoRequest{})
	})
}

// TestVideoIsAskedForAtItsTileSize: each remote camera is asked for at its
// tile's size, larger when pinned, not again for a small change, and
// paused while the camera is off.
func TestVideoIsAskedForAtItsTileSize(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox, walter)
	look := func() {
		cs.asksAt = time.Time{}
		cs.tick()
	}
	look()
	eventually(t, "a request for Fox's camera", func() bool { return len(requestsOf(c)) == 1 })
	grid := requestsOf(c)[0]
	if grid.Paused || grid.Width <= 0 || grid.Height <= 0 {
		t.Fatalf("grid request %+v", grid)
	}
	look()                  // nothing changed: nothing asked
	test.Tap(cs.Tile("p1")) // pin: large
	look()
	eventually(t, "a larger request once pinned", func() bool { return len(requestsOf(c)) == 2 })
	if pinned := requestsOf(c)[1]; pinned.Width <= grid.Width || pinned.Paused {
		t.Errorf("pinned request %+v, grid %+v: want larger", pinned, grid)
	}
	h.app.win.Resize(h.app.win.Canvas().Size().AddWidthHeight(8, 8)) // a few pixels: not worth a new layer
	look()
	off := fox
	off.Camera = false
	h.send(cs, c, client.ParticipantUpdated{Participant: off})
	look()
	eventually(t, "a pause while Fox's camera is off", func() bool {
		r := requestsOf(c)
		return len(r) == 3 && r[2].Paused
	})
}
