package server

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/wire"
)

// speakerTick is how often active speakers are re-evaluated.
const speakerTick = 250 * time.Millisecond

// room is one call. mu guards peers and every peer's state fields. Chat is
// stored by the server's storeWriter, which alone delivers it, under mu and
// in seq order, so everyone sees one order; mu is never held across I/O.
type room struct {
	s        *Server
	name     string
	speakers *sfu.SpeakerDetector
	stop     chan struct{}

	mu      sync.Mutex
	peers   map[string]*peer
	joining map[*peer]*chatHold // peers reading their join page
	// inflight counts chat messages queued for the store writer and not
	// yet delivered or refused: the room stays open for them, so they
	// reach whoever joins it next.
	inflight atomic.Int64
	members  int      // len(peers) as last counted in metrics
	lastHand int64    // the latest hand_raised_at given out (handStampLocked)
	rec      *roomRec // the recording, nil when not recorded (recording.go)
	closed   bool
}

func (r *room) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers)
}

// enter places p in the room called name, opening it if needed, and queues
// the joined message and the room's announcement. It returns nil and an
// error code when p cannot enter.
func (s *Server) enter(name string, p *peer, afterSeq int64) (*room, string, string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, wire.CodeInternal, "the server is shutting down"
	}
	r := s.rooms[name]
	if r == nil || r.closed {
		r = &room{s: s, name: name, peers: make(map[string]*peer), joining: make(map[*peer]*chatHold),
			speakers: sfu.NewSpeakerDetector(), stop: make(chan struct{})}
		s.rooms[name] = r
		s.wg.Add(1) // under s.mu with s.closed false: Close waits for it
		go r.speakerLoop()
		if s.cfg.Record.Matches(name) {
			r.startRecordingLocked("", "", wire.RecordingPolicy) // no one else has r yet
		}
	}
	// The chat page is read from the store without r.mu; messages delivered
	// meanwhile are held for p and merged into the page below, so none
	// falls between the page and the live messages. The room stays open
	// while p is joining.
	hold := &chatHold{}
	r.mu.Lock()
	r.joining[p] = hold
	s.mu.Unlock()
	r.mu.Unlock()
	read, readMore, err := s.readJoinChat(name, afterSeq)
	r.mu.Lock()
	delete(r.joining, p)
	if err != nil {
		p.log.Error("chat history", "err", err)
		if afterSeq > 0 {
			r.mu.Unlock()
			r.closeIfEmpty()
			return nil, wire.CodeInternal, "the chat history could not be read; try again"
		}
		readMore = true // older messages may exist
	}
	page := mergeJoinChat(read, readMore, hold.msgs, afterSeq)

	var replaced *peer
	if old := r.peers[p.id]; old != nil {
		replaced = old
	} else if len(r.peers) >= s.cfg.MaxParticipants {
		r.mu.Unlock()
		return nil, wire.CodeRoomFull, "the room is full"
	}
	var renegotiate []*peer
	if replaced != nil {
		renegotiate = r.removeLocked(replaced, "joined again from another place")
	}

	// The snapshot and the announcement are made under r.mu, so no state
	// change or chat message falls between them and the page.
	p.room = r
	joined := wire.Joined{Room: name, Participants: []wire.Participant{}, Chat: page.chat, ChatMore: page.more, ChatGap: page.gap,
		ServerTime: s.cfg.Now().UnixMilli()}
	joined.ICEServers = p.iceServers
	joined.Recording = r.rec != nil
	joined.CanRecord = p.grants.Admin && s.cfg.RecordDir != ""
	for _, q := range r.peers {
		joined.Participants = append(joined.Participants, q.stateLocked())
		if p.grants.Subscribe {
			for _, t := range q.published {
				p.subscribe(t)
			}
		}
	}
	slices.SortFunc(joined.Participants, func(a, b wire.Participant) int { return int(a.JoinedAt - b.JoinedAt) })
	r.peers[p.id] = p
	p.chatFloor = page.floor
	r.countMembersLocked()
	joined.You = p.stateLocked()
	p.sendMsg(wire.TypeJoined, joined)
	p.welcome()
	r.broadcastLocked(p, wire.TypeParticipantJoined, wire.ParticipantEvent{Participant: joined.You})
	r.mu.Unlock()

	if replaced != nil {
		replaced.fail(wire.CodeDuplicateIdentity, "you joined this room again from another place")
	}
	for _, q := range renegotiate {
		q.negotiate()
	}
	r.event(p.id, "join", p.name)
	r.joinState(p.id, joined.You)
	return r, "", ""
}

// stateLocked returns p's public state; r.mu must be held.
func (p *peer) stateLocked() wire.Participant {
	st := wire.Participant{ID: p.id, Name: p.name, Mic: p.mic, Camera: p.camera, Screen: p.screen,
		JoinedAt: p.joinedAt.UnixMilli(), Tracks: []wire.Track{}, HandRaisedAt: p.handRaisedAt}
	for _, src := range []string{wire.SourceMicrophone, wire.SourceCamera, wire.SourceScreen} {
		if t := p.published[src]; t != nil {
			st.Tracks = append(st.Tracks, wire.Track{ID: t.ID, Source: src, Kind: t.Kind.String()})
		}
	}
	return st
}

// broadcastLocked queues a message for every peer but except; r.mu must be held.
func (r *room) broadcastLocked(except *peer, t string, payload any) {
	b, err := wire.Encode(t, payload)
	if err != nil {
		return
	}
	for _, q := range r.peers {
		if q != except {
			q.sendRaw(b)
		}
	}
}

// publish makes t, a track p publishes, reach everyone else in the room.
func (r *room) publish(p *peer, t *sfu.Track) {
	r.mu.Lock()
	if p.left {
		r.mu.Unlock()
		return
	}
	var subscribers []*peer
	if old := p.published[t.Source]; old != nil {
		subscribers = append(subscribers, r.dropTrackLocked(old)...)
	}
	p.published[t.Source] = t
	r.recordTrackLocked(p, t)
	for _, q := range r.peers {
		if q != p && q.grants.Subscribe {
			q.subscribe(t)
			subscribers = append(subscribers, q)
		}
	}
	r.broadcastLocked(nil, wire.TypeParticipantUpdated, wire.ParticipantEvent{Participant: p.stateLocked()})
	r.mu.Unlock()
	for _, q := range uniq(subscribers) {
		q.negotiate()
	}
}

// unpublish takes t away from the subscribers when its publisher stops.
func (r *room) unpublish(p *peer, t *sfu.Track) {
	r.mu.Lock()
	if p.published[t.Source] != t {
		r.mu.Unlock()
		return
	}
	delete(p.published, t.Source)
	subscribers := r.dropTrackLocked(t)
	if !p.left {
		r.broadcastLocked(nil, wire.TypeParticipantUpdated, wire.ParticipantEvent{Participant: p.stateLocked()})
	}
	r.mu.Unlock()
	for _, q := range uniq(subscribers) {
		q.negotiate()
	}
}

// dropTrackLocked removes t from every subscriber and returns them.
func (r *room) dropTrackLocked(t *sfu.Track) []*peer {
	var out []*peer
	for _, q := range r.peers {
		if q.unsubscribe(t.ID) {
			out = append(out, q)
		}
	}
	return out
}

// remove takes p out of the room and closes the room when it is empty.
func (r *room) remove(p *peer, reason string) {
	r.mu.Lock()
	renegotiate := r.removeLocked(p, reason)
	r.countMembersLocked()
	r.mu.Unlock()
	for _, q := range renegotiate {
		q.negotiate()
	}
	r.closeIfEmpty()
}

// removeLocked takes p out; it returns the peers that need a new offer.
func (r *room) removeLocked(p *peer, reason string) []*peer {
	if p.left {
		return nil
	}
	p.left = true
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
	var out []*peer
	for _, t := range p.published {
		out = append(out, r.dropTrackLocked(t)...)
	}
	r.speakers.Forget(p.id)
	r.broadcastLocked(p, wire.TypeParticipantLeft, wire.ParticipantLeft{ID: p.id, Reason: reason})
	r.event(p.id, "leave", reason) // before the pumps end, so shutdown waits for it
	return uniq(out)
}

func (r *room) closeIfEmpty() {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.peers) > 0 || len(r.joining) > 0 || r.inflight.Load() > 0 || r.closed {
		return
	}
	r.closed = true
	close(r.stop)
	if r.s.closed {
		r.stopRecordingLocked(wire.RecordingServerStop, "", "")
	} else {
		r.stopRecordingLocked(wire.RecordingMeetingEnd, "", "")
	}
	r.s.meetings.closeRoom(r.name, r.s.closed)
	if r.s.rooms[r.name] == r {
		delete(r.s.rooms, r.name)
	}
}

// speakerLoop tells the room who speaks whenever the list changes.
func (r *room) speakerLoop() {
	defer r.s.wg.Done()
	tick := time.NewTicker(speakerTick)
	defer tick.Stop()
	var last []string
	for {
		select {
		case <-r.stop:
			return
		case now := <-tick.C:
			active := r.speakers.Active(now)
			r.s.meetings.speaking(r, now, active)
			ids := make([]string, len(active))
			msg := wire.Speakers{Speakers: make([]wire.Speaker, len(active))}
			for i, a := range active {
				ids[i] = a.ID
				msg.Speakers[i] = wire.Speaker{ID: a.ID, Level: float64(int(a.Level*100)) / 100}
			}
			if slices.Equal(ids, last) {
				continue
			}
			last = ids
			r.mu.Lock()
			r.broadcastLocked(nil, wire.TypeSpeakers, msg)
			r.mu.Unlock()
		}
	}
}

// event queues an entry for the meeting event log. It never blocks: the
// store writer writes it with the next batch (and before Server.Close
// returns); failures are logged, not fatal.
func (r *room) event(identity, kind, detail string) {
	e := store.Event{Room: r.name, Identity: identity, Kind: kind, At: r.s.cfg.Now(), Detail: detail}
	r.s.writer.event(e)
	r.s.meetings.observe(e)
	r.s.support.roomEvent(r.name, identity, kind, detail) // the support desk hears joins and leaves
	r.s.online.roomEvent(r.name, identity, kind, detail)  // so do calls between people
}

// countMembersLocked brings the participants gauge up to date with
// len(r.peers); r.mu must be held.
func (r *room) countMembersLocked() {
	r.s.metrics.participants.Add(int64(len(r.peers) - r.members))
	r.members = len(r.peers)
}

func toWire(msgs []store.ChatMessage) []wire.ChatMessage {
	out := make([]wire.ChatMessage, len(msgs))
	for i, m := range msgs {
		out[i] = wireChat(m)
	}
	return out
}

func uniq(ps []*peer) []*peer {
	seen := make(map[*peer]bool, len(ps))
	out := ps[:0:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
