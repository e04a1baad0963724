package server

import (
	"fmt"
	"sync"
	"time"

	"github.com/confab/confab/signaling/wire"
)

// Raised hands and reactions (PROTOCOL.md §5.1 set_hand and react).
// A raised hand is participant state, guarded by room.mu like mic and
// camera, and goes with the connection: a new join starts with the hand
// down. A reaction is passed on to the room and not kept.

// Reaction limit: at most reactBurst reactions in any reactWindow, per
// participant (room and identity, across its connections).
const (
	reactBurst  = 5
	reactWindow = 2 * time.Second
)

// reactLimiter allows at most reactBurst reactions in any reactWindow. It
// is part of a participant's limits and safe for concurrent use.
type reactLimiter struct {
	mu   sync.Mutex
	at   [reactBurst]time.Time // when the last reactBurst reactions were let through, a ring
	next int                   // the oldest of them
}

// allow reports whether a reaction at now is within the limit, and counts
// it if so.
func (l *reactLimiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if oldest := l.at[l.next]; !oldest.IsZero() && now.Sub(oldest) < reactWindow {
		return false
	}
	l.at[l.next] = now
	l.next = (l.next + 1) % reactBurst
	return true
}

// handleSetHand raises or lowers p's hand and tells everyone in the room,
// p too, with participant_updated (as set_source does). Raising a raised
// hand keeps its place in the queue.
func (p *peer) handleSetHand(h wire.SetHand) {
	r := p.room
	r.mu.Lock()
	if p.left { // replaced by a newer connection of the same identity
		r.mu.Unlock()
		return
	}
	changed := (p.handRaisedAt != 0) != h.Raised
	switch {
	case changed && h.Raised:
		p.handRaisedAt = r.handStampLocked(p.s.cfg.Now())
	case changed:
		p.handRaisedAt = 0
	}
	r.broadcastLocked(nil, wire.TypeParticipantUpdated, wire.ParticipantEvent{Participant: p.stateLocked()})
	r.mu.Unlock()
	if !changed {
		return
	}
	kind := "hand_lower"
	if h.Raised {
		p.s.metrics.handRaises.Add(1)
		kind = "hand_raise"
	}
	r.event(p.id, kind, "")
}

// handStampLocked returns the hand_raised_at for a hand going up at now:
// its Unix ms, moved past the room's last one so that no two hands in a
// room share a time and sorting by it gives the order of raising. r.mu
// must be held.
func (r *room) handStampLocked(now time.Time) int64 {
	at := max(now.UnixMilli(), r.lastHand+1)
	r.lastHand = at
	return at
}

// handleReact passes a reaction (its emoji already checked against the
// allow-list) on to everyone in the room, p too, within p's reaction limit.
func (p *peer) handleReact(rc wire.React) {
	if !p.limits.react.allow(time.Now()) {
		p.s.metrics.rateLimited.Add(1)
		p.sendError(wire.CodeRateLimited, fmt.Sprintf("too many reactions: at most %d in %v; slow down", reactBurst, reactWindow), "")
		return
	}
	r := p.room
	r.mu.Lock()
	if !p.left {
		r.broadcastLocked(nil, wire.TypeReaction, wire.Reaction{From: p.id, Emoji: rc.Emoji, At: p.s.cfg.Now().UnixMilli()})
		p.s.metrics.reactions.Add(1)
	}
	r.mu.Unlock()
}
