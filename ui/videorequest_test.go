package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/client"
)

// requestLog records RequestVideo calls of fakeCall, by participant.
var requestLog = struct {
	sync.Mutex
	m map[*fakeCall][]client.VideoRequest
}{m: map[*fakeCall][]client.VideoRequest{}}

func (c *fakeCall) RequestVideo(participantID, source string, r client.VideoRequest) error {
	requestLog.Lock()
	defer requestLog.Unlock()
	if participantID == "p1" && source == "camera" {
		requestLog.m[c] = append(requestLog.m[c], r)
	}
	return nil
}

func requestsOf(c *fakeCall) []client.VideoRequest {
	requestLog.Lock()
	defer requestLog.Unlock()
	return append([]client.VideoRequest(nil), requestLog.m[c]...)
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
