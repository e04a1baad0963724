// Package icewatch acts while a PeerConnection's media is down: the
// server restarts ICE, the client asks it to. Both follow pion's ICE
// connection state the same way, so the timing lives here once.
package icewatch

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Watch calls its action while media is down: first after the connection
// has been disconnected for a while (at once when ICE has failed), then
// at a fixed interval until media is back or Stop is called. Its mu
// guards it; the action runs on a timer's goroutine without mu held.
type Watch struct {
	first, every time.Duration
	act          func(down time.Duration)

	mu    sync.Mutex
	since time.Time   // when media went down; zero while it is up
	timer *time.Timer // the next action while down
	ended bool
}

// New returns a Watch that calls act (with how long media has been down)
// first after first, then every every.
func New(first, every time.Duration, act func(down time.Duration)) *Watch {
	return &Watch{first: first, every: every, act: act}
}

// State takes pion's ICE connection state changes
// (PeerConnection.OnICEConnectionStateChange).
func (w *Watch) State(st webrtc.ICEConnectionState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	switch st {
	case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
		w.since = time.Time{}
		w.stopTimerLocked()
	case webrtc.ICEConnectionStateDisconnected, webrtc.ICEConnectionStateFailed:
		if w.since.IsZero() {
			w.since = time.Now()
		}
		wait := w.first
		if st == webrtc.ICEConnectionStateFailed {
			wait = 0
		}
		if w.timer == nil {
			w.timer = time.AfterFunc(wait, w.fire)
		} else if wait == 0 {
			w.timer.Reset(0)
		}
	}
}

func (w *Watch) fire() {
	w.mu.Lock()
	if w.ended || w.since.IsZero() {
		w.timer = nil
		w.mu.Unlock()
		return
	}
	down := time.Since(w.since)
	w.timer = time.AfterFunc(w.every, w.fire)
	w.mu.Unlock()
	w.act(down)
}

// Stop ends the watch; no action starts after it returns.
func (w *Watch) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	w.stopTimerLocked()
}

func (w *Watch) stopTimerLocked() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}
