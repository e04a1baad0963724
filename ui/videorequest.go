package ui

import (
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// VideoRequester is implemented by a Call that can ask the server for the
// layer of a remote camera that suits its tile (PROTOCOL.md §5.3,
// set_layer): small for a thumbnail, large for a pinned tile, nothing
// while the window is minimised. It is called from a background goroutine.
type VideoRequester interface {
	RequestVideo(participantID, source string, r client.VideoRequest) error
}

// videoRequestEvery spaces the checks of what each tile needs.
const videoRequestEvery = 300 * time.Millisecond

// videoAsk is what was last asked for one tile's video.
type videoAsk struct {
	w, h   int
	paused bool
}

// same reports whether a and b are close enough not to ask again: a
// change of size under a fifth is not worth a new layer.
func (a videoAsk) same(b videoAsk) bool {
	if a.paused || b.paused {
		return a.paused == b.paused
	}
	near := func(x, y int) bool { return x == y || 5*abs(x-y) < max(x, y) }
	return near(a.w, b.w) && near(a.h, b.h)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// requestVideos asks for each remote camera at its tile's size in device
// pixels, or for nothing while its tile is hidden or the window is
// minimised; a remote screen share whole, or nothing while hidden. It runs
// on the UI goroutine from the ticker; the requests go out in order off
// it.
func (cs *CallScreen) requestVideos(now time.Time) {
	vr, ok := cs.call.(VideoRequester)
	if !ok || cs.detached || now.Sub(cs.asksAt) < videoRequestEvery {
		return
	}
	cs.asksAt = now
	if cs.asked == nil {
		cs.asked = map[string]videoAsk{}
	}
	c := cs.app.win.Canvas()
	shown := cs.app.win.Content().Visible() && windowShown(c)
	scale := c.Scale()
	for _, t := range cs.order {
		if t.self {
			continue
		}
		sz := t.Size()
		want := videoAsk{w: int(sz.Width * scale), h: int(sz.Height * scale)}
		if !shown || !t.Visible() || !cs.stage.Visible() || want.w <= 0 || want.h <= 0 || (t.cameraOff && !t.screen) {
			want = videoAsk{paused: true}
		}
		source := wire.SourceCamera
		if t.screen {
			// A screen share is sent whole (never simulcast): shown, it
			// is asked for with the server's default.
			source = wire.SourceScreen
			if !want.paused {
				want = videoAsk{}
			}
		}
		if last, ok := cs.asked[t.Key]; ok && last.same(want) {
			continue
		}
		cs.asked[t.Key] = want
		pid := t.ParticipantID
		cs.ops <- func() {
			_ = vr.RequestVideo(pid, source, client.VideoRequest{Width: want.w, Height: want.h, Paused: want.paused})
		}
	}
}
