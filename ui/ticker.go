package ui

import (
	"sync/atomic"
	"time"
)

// startTicker runs f through do (on the UI goroutine) every interval until
// the returned stop func is called. A tick is skipped while the previous
// one has not run yet, so work never queues up behind a busy UI. f gets
// how long the tick waited for the UI goroutine: the time the window's
// draw loop was busy with something else, mostly drawing a frame.
func startTicker(every time.Duration, do func(func()), f func(late time.Duration)) (stop func()) {
	done := make(chan struct{})
	var pending atomic.Bool
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if pending.CompareAndSwap(false, true) {
					posted := time.Now()
					do(func() {
						pending.Store(false)
						f(time.Since(posted))
					})
				}
			}
		}
	}()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			close(done)
		}
	}
}

// busyLate is how late a tick must run to show that the draw loop was
// busy drawing a frame when it was due: far more than a goroutine's
// wake-up on a loaded machine, far less than a frame of software GL.
const busyLate = 12 * time.Millisecond

// maxVideoGap is the longest a pacer holds video back: the views redraw
// at least this often, however busy the draw loop is.
const maxVideoGap = 250 * time.Millisecond

// videoPacer decides, tick by tick, whether the video views may redraw.
// Every redraw of a view makes the whole window repaint (Fyne draws the
// window whole), and with software GL a repaint costs tens of ms of the
// UI goroutine, during which a click waits unseen. So a tick that ran late
// (the loop was still drawing the previous frame) draws no video: the loop
// gets an idle turn in which input is answered at once, and video slows
// down instead of keeping the loop busy back to back. On a fast machine
// ticks run on time and every one may draw. It is used on the UI
// goroutine only.
type videoPacer struct {
	lastDraw time.Time
	// every is the shortest time between redraws; 0 for none.
	every time.Duration
}

// gridTiles is how many tiles with video make a grid whose video is
// drawn at gridFrameRate: thumbnails, as in other meeting apps' gallery
// views. Every frame redrawn repaints the whole window, so the cost
// follows the rate, not the number of tiles.
const (
	gridTiles     = 3
	gridFrameRate = 15
)

// setTiles sets the redraw rate for n tiles showing video: every tick
// (the frame rate of the tick) for one or two, gridFrameRate for more.
func (p *videoPacer) setTiles(n int) {
	p.every = 0
	if n >= gridTiles {
		p.every = time.Second / gridFrameRate
	}
}

// allow reports whether video may redraw on a tick that ran late by late
// at now; the caller calls drew when it did redraw. A tick comes a few
// ms early or late, so the rate limit allows a quarter of a period early.
func (p *videoPacer) allow(late time.Duration, now time.Time) bool {
	since := now.Sub(p.lastDraw)
	if p.every > 0 && since < p.every-p.every/4 {
		return false
	}
	return late < busyLate || since >= maxVideoGap
}

// drew records a redraw at now.
func (p *videoPacer) drew(now time.Time) { p.lastDraw = now }
