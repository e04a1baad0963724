package ui

import (
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

func TestVideoPacerHoldsVideoWhileTheLoopIsBusy(t *testing.T) {
	var p videoPacer
	t0 := time.Unix(1000, 0)
	if !p.allow(0, t0) {
		t.Fatal("a tick on time was refused")
	}
	p.drew(t0)
	if p.allow(busyLate, t0.Add(40*time.Millisecond)) {
		t.Error("a tick that waited behind a frame drew video")
	}
	if !p.allow(busyLate-time.Millisecond, t0.Add(80*time.Millisecond)) {
		t.Error("a tick barely late was refused")
	}
	// However busy the loop, video does not stop.
	if !p.allow(time.Second, t0.Add(maxVideoGap)) {
		t.Errorf("video held back for %v", maxVideoGap)
	}
}

func TestCallTickDrawsNoVideoWhenLate(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	src := newFakeSource(32, 18)
	h.send(cs, c, client.VideoAdded{ParticipantID: "p1", Source: wire.SourceCamera, Video: src})
	tile := cs.Tile("p1")
	cs.tickLate(0) // the first frame
	src.next(mustLatest(src))
	n := tile.Video.refreshes
	cs.tickLate(0)
	if tile.Video.refreshes != n+1 {
		t.Fatalf("a tick on time: %d refreshes, want %d", tile.Video.refreshes, n+1)
	}
	n++
	src.next(mustLatest(src))
	cs.tickLate(busyLate)
	if tile.Video.refreshes != n {
		t.Errorf("a late tick redrew video: %d refreshes, want %d", tile.Video.refreshes, n)
	}
	cs.tickLate(0)
	if tile.Video.refreshes != n+1 {
		t.Errorf("the next tick on time: %d refreshes, want %d", tile.Video.refreshes, n+1)
	}
}

func TestVideoPacerDrawsAGridAtTheGridRate(t *testing.T) {
	var p videoPacer
	t0 := time.Unix(1000, 0)
	tick := time.Second / 30
	for _, c := range []struct {
		tiles int
		want  int // redraws in 30 ticks on time
	}{{1, 30}, {2, 30}, {gridTiles, gridFrameRate}, {9, gridFrameRate}} {
		p = videoPacer{}
		p.setTiles(c.tiles)
		n := 0
		for i := 0; i < 30; i++ {
			now := t0.Add(time.Duration(i) * tick)
			if p.allow(0, now) {
				p.drew(now)
				n++
			}
		}
		if n != c.want {
			t.Errorf("%d tiles: %d redraws in a second of ticks, want %d", c.tiles, n, c.want)
		}
	}
}
