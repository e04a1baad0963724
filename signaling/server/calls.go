package server

import (
	"time"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// ringTick is how often the ring loop looks for invitations that rang out.
const ringTick = 50 * time.Millisecond

// leaveReasonLeft is the reason of a participant who left on purpose
// (the leave message or a normal close); other leaves (a dropped
// connection, a rejoin from elsewhere) leave time to come back.
const leaveReasonLeft = "left"

// personCall is a call between people: a private room the server made,
// its members and their states. It is guarded by onlineHub.mu.
type personCall struct {
	id, room, kind string
	from, fromName string
	created        time.Time
	members        map[string]*callMember
	order          []string // member ids in the order they were invited
	// answered: someone besides the caller accepted once; the call then
	// ends with hung_up when one person is left.
	answered bool
	// last is the final state a member reached last: the end reason of a
	// call nobody answered.
	last  string
	ended string
}

// callMember is one person in a call.
type callMember struct {
	id, name, state, invitedBy string
	// deadline ends a ringing invitation (no_answer) or an accepted
	// member who never enters the room (failed).
	deadline time.Time
}

// snapshot is the call as its members see it.
func (lc *personCall) snapshot() calls.Call {
	c := calls.Call{ID: lc.id, Kind: lc.kind, From: lc.from, FromName: lc.fromName, Created: lc.created.UnixMilli(),
		Members: make([]calls.Member, 0, len(lc.order)), Ended: lc.ended}
	for _, id := range lc.order {
		m := lc.members[id]
		c.Members = append(c.Members, calls.Member{ID: m.id, Name: m.name, State: m.state, InvitedBy: m.invitedBy})
	}
	return c
}

// inCallLocked returns the call in which id is an active member, or nil.
func (h *onlineHub) inCallLocked(id string) *personCall {
	for _, lc := range h.calls {
		if m := lc.members[id]; m != nil && calls.Active(m.state) {
			return lc
		}
	}
	return nil
}

// invite starts a call or asks more people into one (PROTOCOL.md
// "invite"). Everyone named must be online; someone already in another
// call is marked busy and not rung.
func (h *onlineHub) invite(c *onlineConn, in calls.Invite) {
	now := h.s.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	me := c.person
	to := make([]string, 0, len(in.To))
	seen := map[string]bool{}
	for _, id := range in.To {
		if id == me.id {
			c.sendError(wire.CodeBadMessage, "you cannot call yourself", in.Ref)
			return
		}
		if !seen[id] {
			seen[id] = true
			to = append(to, id)
		}
	}
	if !me.invites.AllowN(time.Now(), len(to)) {
		h.s.metrics.rateLimited.Add(1)
		c.sendError(wire.CodeRateLimited, "too many invitations; wait a little", in.Ref)
		return
	}
	for _, id := range to {
		if h.people[id] == nil {
			c.sendError(calls.CodeNotOnline, id+" is not online on this server", in.Ref)
			return
		}
	}
	lc := (*personCall)(nil)
	var join *calls.Join
	if in.Call == "" {
		if h.inCallLocked(me.id) != nil {
			c.sendError(calls.CodeInCall, "you are in a call already; invite into it or hang up first", in.Ref)
			return
		}
		lc = &personCall{id: "c-" + randomHex(8), room: calls.RoomPrefix + randomHex(12), kind: in.Kind,
			from: me.id, fromName: me.name, created: now, members: map[string]*callMember{}}
		lc.add(&callMember{id: me.id, name: me.name, state: calls.StateAccepted, deadline: now.Add(h.ring)})
		tok, err := h.callToken(lc, me.id, me.name)
		if err != nil {
			c.sendError(wire.CodeInternal, "could not issue a token", in.Ref)
			return
		}
		join = &calls.Join{Room: lc.room, Token: tok}
	} else {
		lc = h.calls[in.Call]
		var m *callMember
		if lc != nil {
			m = lc.members[me.id]
		}
		if m == nil || (m.state != calls.StateJoined && m.state != calls.StateAccepted) {
			c.sendError(calls.CodeNoSuchCall, "you are not in that call", in.Ref)
			return
		}
	}
	fresh := 0
	for _, id := range to {
		if m := lc.members[id]; m == nil || !calls.Active(m.state) {
			fresh++
		}
	}
	if len(lc.members)+fresh > calls.MaxMembers+countFinal(lc, to) {
		c.sendError(wire.CodeBadMessage, "a call has at most 16 people", in.Ref)
		return
	}
	if in.Call == "" {
		h.calls[lc.id], h.rooms[lc.room] = lc, lc
	}
	changed := []string{me.id}
	for _, id := range to {
		m := lc.members[id]
		if m != nil && calls.Active(m.state) {
			continue
		}
		p := h.people[id]
		if m == nil {
			m = &callMember{id: id, name: p.name}
			lc.add(m)
		}
		m.invitedBy, m.name = me.id, p.name
		if p.selfBusy || h.inCallLocked(id) != nil {
			m.state = calls.StateBusy
			lc.last = calls.StateBusy
		} else {
			m.state, m.deadline = calls.StateRinging, now.Add(h.ring)
		}
		changed = append(changed, id)
	}
	h.s.log.Info("call invite", "call", lc.id, "from", me.id, "to", to)
	h.settleLocked(lc, now)
	h.updateLocked(lc, c, changed)
	c.sendMsg(calls.TypeCall, calls.CallMsg{Ref: in.Ref, Call: lc.snapshot(), Join: join})
	h.busyChangedLocked(changed...)
}

// countFinal counts the people in to who are members in a final state:
// inviting them again takes no new place.
func countFinal(lc *personCall, to []string) int {
	n := 0
	for _, id := range to {
		if m := lc.members[id]; m != nil && !calls.Active(m.state) {
			n++
		}
	}
	return n
}

// add appends m to the call.
func (lc *personCall) add(m *callMember) {
	lc.members[m.id] = m
	lc.order = append(lc.order, m.id)
}

// callToken issues id's token for the call's room.
func (h *onlineHub) callToken(lc *personCall, id, name string) (string, error) {
	return token.Issue(h.s.cfg.Secret, token.Claims{Identity: id, Name: name, Room: lc.room, Grants: token.DefaultGrants()},
		h.s.cfg.TokenTTL, h.s.cfg.Now())
}

// answer handles accept, decline, cancel and hangup.
func (h *onlineHub) answer(c *onlineConn, typ string, a calls.Answer) {
	now := h.s.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	me := c.person
	lc := h.calls[a.Call]
	var m *callMember
	if lc != nil {
		m = lc.members[me.id]
	}
	if m == nil {
		c.sendError(calls.CodeNoSuchCall, "no such call", a.Ref)
		return
	}
	var join *calls.Join
	changed := []string{me.id}
	switch typ {
	case calls.TypeAccept:
		switch m.state {
		case calls.StateRinging:
			m.state, m.deadline = calls.StateAccepted, now.Add(h.ring)
			lc.answered = true
		case calls.StateAccepted, calls.StateJoined: // another window asks again
		default:
			c.sendError(calls.CodeNoSuchCall, "this invitation is no longer ringing ("+m.state+")", a.Ref)
			return
		}
		tok, err := h.callToken(lc, me.id, me.name)
		if err != nil {
			c.sendError(wire.CodeInternal, "could not issue a token", a.Ref)
			return
		}
		join = &calls.Join{Room: lc.room, Token: tok}
	case calls.TypeDecline:
		if m.state != calls.StateRinging {
			c.sendError(calls.CodeNoSuchCall, "this invitation is no longer ringing ("+m.state+")", a.Ref)
			return
		}
		m.state, lc.last = calls.StateDeclined, calls.StateDeclined
	case calls.TypeCancel:
		if !calls.Active(m.state) {
			c.sendError(calls.CodeNoSuchCall, "you are not in that call", a.Ref)
			return
		}
		targets := a.To
		if len(targets) == 0 {
			targets = lc.order
		}
		for _, id := range targets {
			t := lc.members[id]
			if t == nil || t.state != calls.StateRinging || (t.invitedBy != me.id && lc.from != me.id) {
				continue
			}
			t.state, lc.last = calls.StateCancelled, calls.StateCancelled
			changed = append(changed, id)
		}
	case calls.TypeHangup:
		if !calls.Active(m.state) {
			c.sendError(calls.CodeNoSuchCall, "you are not in that call", a.Ref)
			return
		}
		if m.state == calls.StateRinging {
			m.state, lc.last = calls.StateDeclined, calls.StateDeclined
		} else {
			m.state = calls.StateLeft
			if me.id == lc.from && !lc.answered {
				lc.last = calls.StateCancelled // the caller gave up before an answer
				for _, t := range lc.members {
					if t.state == calls.StateRinging {
						t.state = calls.StateCancelled
						changed = append(changed, t.id)
					}
				}
			}
		}
	}
	h.settleLocked(lc, now)
	h.updateLocked(lc, c, changed)
	c.sendMsg(calls.TypeCall, calls.CallMsg{Ref: a.Ref, Call: lc.snapshot(), Join: join})
	h.busyChangedLocked(changed...)
}

// settleLocked ends lc when nobody is left to talk to: no one active, or
// one person alone with nobody ringing. A call someone answered ends with
// hung_up; one nobody answered with the last refusal (declined, no_answer,
// busy, cancelled, failed). Members still ringing then are cancelled.
func (h *onlineHub) settleLocked(lc *personCall, now time.Time) {
	if lc.ended != "" {
		return
	}
	active := 0
	for _, m := range lc.members {
		if calls.Active(m.state) {
			active++
		}
	}
	if active >= 2 {
		return // two can talk, or the caller waits for an answer
	}
	switch {
	case lc.answered:
		lc.ended = calls.EndHungUp
	case lc.last != "":
		lc.ended = lc.last
	default:
		lc.ended = calls.EndCancelled
	}
	for _, m := range lc.members {
		if m.state == calls.StateRinging {
			m.state = calls.StateCancelled
		}
	}
	h.s.log.Info("call ended", "call", lc.id, "reason", lc.ended, "after", now.Sub(lc.created).Round(time.Millisecond))
}

// updateLocked sends lc to the connections of its active members and of
// changed (every member once it has ended), except the connection skip,
// which gets the answer to its request instead. An ended call is then
// forgotten: its room admits nobody more.
func (h *onlineHub) updateLocked(lc *personCall, skip *onlineConn, changed []string) {
	b, err := encodeFrame(calls.TypeCall, calls.CallMsg{Call: lc.snapshot()})
	if err != nil {
		return
	}
	to := map[string]bool{}
	for _, id := range changed {
		to[id] = true
	}
	for id, m := range lc.members {
		// A member whose state has just become final hears it once; one
		// that ended earlier hears no more of the call until it ends.
		if calls.Active(m.state) || lc.ended != "" {
			to[id] = true
		}
	}
	for id := range to {
		p := h.people[id]
		if p == nil {
			continue
		}
		for c := range p.conns {
			if c != skip {
				c.enqueue(b)
			}
		}
	}
	if lc.ended != "" {
		delete(h.calls, lc.id)
		delete(h.rooms, lc.room)
		ids := make([]string, 0, len(lc.members))
		for id := range lc.members {
			ids = append(ids, id)
		}
		h.busyChangedLocked(ids...)
	}
}

// ringLoop ends invitations that rang for the ring timeout (no_answer) and
// accepted members who never entered the room (failed).
func (h *onlineHub) ringLoop() {
	defer h.wg.Done()
	tick := time.NewTicker(ringTick)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		now := h.s.cfg.Now()
		h.mu.Lock()
		for _, lc := range h.calls {
			var changed []string
			// Accepted members first, then the ringing ones: a caller who
			// never entered the room and an invitation that rang out at
			// the same time (both get the ring timeout at the invite)
			// end the call as no_answer, whatever the map's order.
			for _, st := range [...]string{calls.StateAccepted, calls.StateRinging} {
				for _, m := range lc.members {
					if m.state != st || now.Before(m.deadline) {
						continue
					}
					if st == calls.StateRinging {
						m.state, lc.last = calls.StateNoAnswer, calls.StateNoAnswer
					} else {
						m.state, lc.last = calls.StateFailed, calls.StateFailed
					}
					changed = append(changed, m.id)
				}
			}
			if len(changed) > 0 {
				h.settleLocked(lc, now)
				h.updateLocked(lc, nil, changed)
				h.busyChangedLocked(changed...)
			}
		}
		h.mu.Unlock()
	}
}

// wentOfflineLocked fails id's invitations still ringing, and its place in
// calls it accepted but has not entered: an app that closed will not come.
// h.mu must be held.
func (h *onlineHub) wentOfflineLocked(id string) {
	now := h.s.cfg.Now()
	for _, lc := range h.calls {
		m := lc.members[id]
		if m == nil || (m.state != calls.StateRinging && m.state != calls.StateAccepted) {
			continue
		}
		m.state, lc.last = calls.StateFailed, calls.StateFailed
		h.settleLocked(lc, now)
		h.updateLocked(lc, nil, []string{id})
	}
}

// admit says whether identity may join room: rooms named like calls' admit
// only the accepted or joined members of a running call. It returns a
// join refusal's code and message, or "".
func (h *onlineHub) admit(room, identity string) (string, string) {
	if !calls.IsCallRoom(room) {
		return "", ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	lc := h.rooms[room]
	if lc == nil {
		return calls.CodeNoSuchCall, "this call is over, or never was"
	}
	m := lc.members[identity]
	if m == nil || (m.state != calls.StateAccepted && m.state != calls.StateJoined) {
		return calls.CodeNotInvited, "you are not invited to this call"
	}
	return "", ""
}

// roomEvent hears joins and leaves of every room (room.event): a member
// entering a call's room is joined; one leaving on purpose has left, one
// whose connection dropped has the ring timeout to come back. It never
// blocks on I/O: callers hold room locks.
func (h *onlineHub) roomEvent(room, identity, kind, detail string) {
	if kind != store.KindJoin && kind != store.KindLeave || !calls.IsCallRoom(room) {
		return
	}
	now := h.s.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	lc := h.rooms[room]
	if lc == nil {
		return
	}
	m := lc.members[identity]
	if m == nil {
		return
	}
	switch {
	case kind == store.KindJoin && (m.state == calls.StateAccepted || m.state == calls.StateJoined):
		m.state = calls.StateJoined
	case kind == store.KindLeave && m.state == calls.StateJoined && detail == leaveReasonLeft:
		m.state = calls.StateLeft
	case kind == store.KindLeave && m.state == calls.StateJoined:
		m.state, m.deadline = calls.StateAccepted, now.Add(h.ring)
	default:
		return
	}
	h.settleLocked(lc, now)
	h.updateLocked(lc, nil, []string{identity})
	h.busyChangedLocked(identity)
}
