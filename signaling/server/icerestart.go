package server

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/wire"
)

const (
	// iceRestartAfter is how long media may be disconnected before the
	// server offers an ICE restart (at once when ICE has failed).
	iceRestartAfter = 2 * time.Second
	// iceRetryEvery spaces further restarts while media stays down.
	iceRetryEvery = 5 * time.Second
	// mediaGiveUp ends a session whose media has been down this long
	// despite restarts; the client then rejoins from scratch (PROTOCOL.md §8).
	mediaGiveUp = 45 * time.Second
)

// iceWatch follows a peer's ICE state while media is down. Its own mu
// guards it; the timer's callback runs on its own goroutine and takes no
// other lock while holding mu.
type iceWatch struct {
	mu    sync.Mutex
	down  time.Time   // when media stopped; zero while connected
	timer *time.Timer // the next check while down
	ended bool        // the peer is closing: no more checks
}

// iceStateChanged is pion's ICE connection state callback.
func (p *peer) iceStateChanged(st webrtc.ICEConnectionState) {
	w := &p.ice
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	switch st {
	case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
		if !w.down.IsZero() {
			p.log.Info("media back", "after", time.Since(w.down).Round(time.Millisecond))
		}
		w.down = time.Time{}
		if w.timer != nil {
			w.timer.Stop()
			w.timer = nil
		}
	case webrtc.ICEConnectionStateDisconnected, webrtc.ICEConnectionStateFailed:
		if w.down.IsZero() {
			w.down = time.Now()
			p.log.Info("media stopped", "ice", st.String())
		}
		wait := iceRestartAfter
		if st == webrtc.ICEConnectionStateFailed {
			wait = 0
		}
		if w.timer == nil {
			w.timer = time.AfterFunc(wait, p.iceCheck)
		} else if wait == 0 {
			w.timer.Reset(0)
		}
	}
}

// iceCheck runs while media is down: it restarts ICE, and gives up after
// mediaGiveUp.
func (p *peer) iceCheck() {
	w := &p.ice
	w.mu.Lock()
	if w.ended || w.down.IsZero() {
		w.timer = nil
		w.mu.Unlock()
		return
	}
	if time.Since(w.down) > mediaGiveUp {
		w.timer = nil
		w.mu.Unlock()
		p.log.Warn("media did not come back; closing the session")
		p.fail(wire.CodeInternal, "the media connection was lost")
		return
	}
	w.timer = time.AfterFunc(iceRetryEvery, p.iceCheck)
	w.mu.Unlock()
	p.restartICE("media stopped")
}

// stopICEWatch ends the checks; cleanup calls it.
func (p *peer) stopICEWatch() {
	w := &p.ice
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// restartICE makes the next offer restart ICE (new credentials, fresh
// candidates: RFC 8445 §9) and sends it as soon as no other offer waits
// for its answer.
func (p *peer) restartICE(why string) {
	p.negMu.Lock()
	if p.closing || !p.ready {
		p.negMu.Unlock()
		return
	}
	p.iceRestart = true
	p.negMu.Unlock()
	p.log.Info("restarting ICE", "why", why)
	p.negotiate()
}
