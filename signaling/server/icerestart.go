package server

import (
	"time"

	"github.com/confab/confab/signaling/internal/icewatch"
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

// newICEWatch restarts ICE while p's media is down, and gives up after
// mediaGiveUp.
func (p *peer) newICEWatch() *icewatch.Watch {
	return icewatch.New(iceRestartAfter, iceRetryEvery, func(down time.Duration) {
		if down > mediaGiveUp {
			p.ice.Stop()
			p.log.Warn("media did not come back; closing the session", "down", down.Round(time.Second))
			p.fail(wire.CodeInternal, "the media connection was lost")
			return
		}
		p.restartICE("media stopped")
	})
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
