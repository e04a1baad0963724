package client

import (
	"errors"
	"slices"
	"time"

	"github.com/confab/confab/signaling/wire"
)

// Raising a hand and reacting (PROTOCOL.md §5.1 set_hand and react, §5.2
// reaction). Whose hand is up arrives with the participants, in
// Participant.HandRaisedAt (Welcome, ParticipantJoined, ParticipantUpdated
// and Self); reactions arrive as ReactionReceived.

// ErrNotConnected reports a call that needs the connection while the
// session is reconnecting.
var ErrNotConnected = errors.New("client: not connected")

// Reactions lists the emoji React accepts, in the order a picker shows
// them. It is a copy: changing it changes what React accepts not at all.
var Reactions = slices.Clone(wire.Reactions)

// ReactionReceived reports a reaction sent to the room, your own included
// (From is then Self().ID). At is when the server received it. Show it
// for a few seconds; it is not kept or replayed.
type ReactionReceived struct {
	From, Emoji string
	At          time.Time
}

func (ReactionReceived) event() {}

// SetHandRaised raises or lowers your hand. The server tells everyone,
// you too: a ParticipantUpdated for you follows, and Self().HandRaisedAt
// is the time the server gave the hand (0 once lowered). Raising a raised
// hand keeps its place. The hand stays up until lowered or the session
// ends; the server forgets it when a connection ends, so after a
// reconnect the session raises it again (it then counts as raised at the
// rejoin). It returns ErrClosed after Leave or the end of the session.
func (s *Session) SetHandRaised(raised bool) error {
	s.mu.Lock()
	if s.finished || s.leaving {
		s.mu.Unlock()
		return ErrClosed
	}
	s.handUp = raised
	c := s.conn
	s.mu.Unlock()
	// While reconnecting c is the lost connection and this goes nowhere;
	// restoreHand sends the wish after the rejoin. set_hand is idempotent,
	// so sending it twice around a rejoin does no harm.
	c.sendMsg(wire.TypeSetHand, wire.SetHand{Raised: raised})
	return nil
}

// React sends emoji, one of Reactions, to everyone in the room, you too
// (as ReactionReceived). An emoji not in Reactions is refused here with an
// error wrapping wire.ErrBadReaction; ErrNotConnected while reconnecting
// (a reaction is not worth sending late); ErrClosed after the session
// ended. The server allows 5 reactions in any 2 seconds and answers more
// with an ErrorEvent whose *wire.Error has code rate_limited.
func (s *Session) React(emoji string) error {
	r := wire.React{Emoji: emoji}
	if err := r.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.finished || s.leaving {
		s.mu.Unlock()
		return ErrClosed
	}
	c, st := s.conn, s.state
	s.mu.Unlock()
	if st != StateConnected {
		return ErrNotConnected
	}
	c.sendMsg(wire.TypeReact, r)
	return nil
}

// restoreHand, after a join, sends the hand state the user wants when the
// server's differs (a rejoin starts with the hand down).
func (s *Session) restoreHand(c *conn, you wire.Participant) {
	s.mu.Lock()
	up := s.handUp
	s.mu.Unlock()
	if up != (you.HandRaisedAt != 0) {
		c.sendMsg(wire.TypeSetHand, wire.SetHand{Raised: up})
	}
}

// reactionArrived reports a reaction message from the server.
func (s *Session) reactionArrived(env wire.Envelope) error {
	var r wire.Reaction
	if err := wire.DecodeData(env, &r); err != nil {
		return err
	}
	s.events.push(ReactionReceived{From: r.From, Emoji: r.Emoji, At: time.UnixMilli(r.At)})
	return nil
}
