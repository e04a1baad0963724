package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/confab/confab/signaling/meeting"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/wire"
)

// Meeting tracking bounds.
const (
	// meetingAliveEvery is how often a running meeting's "alive" time is
	// stored; after a crash the meeting ends at the last one (or its last
	// event), so this bounds how far its end can be early.
	meetingAliveEvery = time.Second
	// maxMeetingEvents bounds the events a running meeting keeps in
	// memory; past it the end-of-meeting analytics read the store.
	maxMeetingEvents = 200_000
	meetingTimeout   = 10 * time.Second
)

// meetingTracker turns rooms into meetings: it opens one at a room's first
// join, sees the room's events (observe, from room.event), brackets talk
// time from the speaker detector (speaking, from the room's speaker loop),
// keeps the meeting's "alive" time in the store, and at the room's close
// computes the analytics and stores them (closeRoom). At start it closes
// the meetings a crash left open.
//
// Goroutines: observe, speaking and closeRoom may be called with the
// server's and a room's locks held, so they never do I/O: store work runs
// on goroutines of t.wg. close is called once by Server.Close.
type meetingTracker struct {
	s   *Server
	st  store.Meetings // nil: the store keeps no meetings, nothing tracked
	log interface {
		Error(string, ...any)
		Info(string, ...any)
	}

	mu     sync.Mutex
	live   map[string]*liveMeeting // by room
	closed bool
	wg     sync.WaitGroup
	stop   chan struct{}
}

// liveMeeting is a running meeting.
type liveMeeting struct {
	room    string
	start   time.Time
	opened  chan struct{} // closed when id is known (or opening failed)
	id      int64         // set before opened is closed; 0 if it failed
	events  []store.Event
	dropped bool            // events went past maxMeetingEvents
	last    time.Time       // the last join/leave or other event
	talking map[string]bool // who has a talk_start without a talk_stop
}

func newMeetingTracker(s *Server) *meetingTracker {
	t := &meetingTracker{s: s, log: s.log, live: make(map[string]*liveMeeting), stop: make(chan struct{})}
	t.st, _ = s.cfg.Store.(store.Meetings)
	if t.st == nil {
		return t
	}
	t.recover()
	t.wg.Add(1)
	go t.aliveLoop()
	return t
}

// recover closes the meetings a crash (or kill) left open.
func (t *meetingTracker) recover() {
	ctx, cancel := context.WithTimeout(context.Background(), meetingTimeout)
	defer cancel()
	open, err := t.st.OpenMeetings(ctx)
	if err != nil {
		t.log.Error("meetings: reading open meetings", "err", err)
		return
	}
	for _, m := range open {
		a, err := meeting.Close(ctx, t.st, m)
		if err != nil {
			t.log.Error("meetings: closing a meeting left open", "id", m.ID, "room", m.Room, "err", err)
			continue
		}
		t.log.Info("meetings: closed a meeting left open by a stop", "id", m.ID, "room", m.Room,
			"ended", time.UnixMilli(a.EndedAt).UTC().Format(time.RFC3339Nano))
	}
}

// observe adds e, one of the room's events, to its meeting, opening the
// meeting at a join when none runs.
func (t *meetingTracker) observe(e store.Event) {
	if t.st == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	lm := t.live[e.Room]
	if lm == nil {
		if e.Kind != store.KindJoin || t.closed {
			return
		}
		lm = &liveMeeting{room: e.Room, start: e.At, opened: make(chan struct{}), talking: make(map[string]bool)}
		t.live[e.Room] = lm
		t.wg.Add(1)
		go t.open(lm)
	}
	if len(lm.events) < maxMeetingEvents {
		lm.events = append(lm.events, e)
	} else {
		lm.dropped = true
	}
	if e.At.After(lm.last) {
		lm.last = e.At
	}
	if e.Kind == store.KindLeave {
		delete(lm.talking, e.Identity)
	}
}

func (t *meetingTracker) open(lm *liveMeeting) {
	defer t.wg.Done()
	defer close(lm.opened)
	ctx, cancel := context.WithTimeout(context.Background(), meetingTimeout)
	defer cancel()
	id, err := t.st.OpenMeeting(ctx, lm.room, lm.start)
	if err != nil {
		t.log.Error("meetings: opening a meeting", "room", lm.room, "err", err)
		return
	}
	t.mu.Lock()
	lm.id = id
	t.mu.Unlock()
}

// speaking logs talk_start for who joined the active speakers and
// talk_stop for who left them, at the first and last loud packet the
// detector heard. It is called by the room's speaker loop.
func (t *meetingTracker) speaking(r *room, now time.Time, active []sfu.SpeakerLevel) {
	if t.st == nil {
		return
	}
	var out []store.Event
	t.mu.Lock()
	lm := t.live[r.name]
	if lm == nil {
		t.mu.Unlock()
		return
	}
	on := make(map[string]bool, len(active))
	for _, a := range active {
		on[a.ID] = true
		if !lm.talking[a.ID] {
			lm.talking[a.ID] = true
			out = append(out, store.Event{Room: r.name, Identity: a.ID, Kind: meeting.KindTalkStart, At: talkTime(r, a.ID, now, true)})
		}
	}
	for id := range lm.talking {
		if !on[id] {
			delete(lm.talking, id)
			out = append(out, store.Event{Room: r.name, Identity: id, Kind: meeting.KindTalkStop, At: talkTime(r, id, now, false)})
		}
	}
	t.mu.Unlock()
	for _, e := range out {
		t.s.writer.event(e)
		t.observe(e)
	}
}

// talkTime is when id's talk began or ended: the detector's last loud
// packet, which for a start is within a tick of the first. The speaker
// detector runs on the wall clock, Config.Now may not; it is mapped across.
func talkTime(r *room, id string, now time.Time, start bool) time.Time {
	at := now
	if h := r.speakers.Heard(id); !h.IsZero() && h.Before(now) {
		at = h
	}
	if start {
		// The smoothing needs a few packets (about 0.1 s) to pass the
		// threshold; the first loud one came before.
		at = at.Add(-speakerSmoothing)
	}
	return r.s.cfg.Now().Add(at.Sub(time.Now()))
}

// speakerSmoothing is about how long the detector's smoothed level takes
// to pass its threshold after a voice starts.
const speakerSmoothing = 100 * time.Millisecond

// closeRoom ends room's meeting: its end is the room's last event (the
// last leave). It is called when the room closes, with the server's and
// the room's locks held.
func (t *meetingTracker) closeRoom(room string, serverClosing bool) {
	if t.st == nil {
		return
	}
	t.mu.Lock()
	lm := t.live[room]
	delete(t.live, room)
	if lm == nil || t.closed {
		t.mu.Unlock()
		return
	}
	t.wg.Add(1)
	t.mu.Unlock()
	how := meeting.EndedLastLeave
	if serverClosing {
		how = meeting.EndedServerStop
	}
	go t.finish(lm, how)
}

// finish computes and stores the analytics of lm, which has ended at its
// last event.
func (t *meetingTracker) finish(lm *liveMeeting, how string) {
	defer t.wg.Done()
	<-lm.opened
	t.mu.Lock()
	id, events, end, dropped := lm.id, lm.events, lm.last, lm.dropped
	t.mu.Unlock()
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), meetingTimeout)
	defer cancel()
	if dropped {
		time.Sleep(time.Second) // the store writer writes what is queued within a batch or two
		var err error
		if events, err = t.st.EventsBetween(ctx, lm.room, lm.start, end); err != nil {
			t.log.Error("meetings: reading events", "id", id, "err", err)
			return
		}
	}
	chats, err := t.st.ChatCount(ctx, lm.room, lm.start, end)
	if err != nil {
		t.log.Error("meetings: counting chat", "id", id, "err", err)
	}
	a := meeting.Compute(id, lm.room, lm.start, end, end, events, chats)
	a.EndedBy = how
	b, err := json.Marshal(a)
	if err == nil {
		err = t.st.CloseMeeting(ctx, id, end, how, b)
	}
	if err != nil {
		t.log.Error("meetings: storing analytics", "id", id, "err", err)
	}
}

// aliveLoop stores, every meetingAliveEvery, that the running meetings
// still run.
func (t *meetingTracker) aliveLoop() {
	defer t.wg.Done()
	tick := time.NewTicker(meetingAliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		now := t.s.cfg.Now()
		t.mu.Lock()
		var ids []int64
		for _, lm := range t.live {
			if lm.id != 0 {
				ids = append(ids, lm.id)
			}
		}
		t.mu.Unlock()
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), meetingTimeout)
			if err := t.st.MeetingAlive(ctx, id, now); err != nil {
				t.log.Error("meetings: alive", "id", id, "err", err)
			}
			cancel()
		}
	}
}

// close ends the meetings still running (a server stop) and waits for the
// tracker's goroutines. It is called once, by Server.Close, after the
// connections have ended.
func (t *meetingTracker) close() {
	if t.st == nil {
		return
	}
	t.mu.Lock()
	rest := t.live
	t.live = map[string]*liveMeeting{}
	t.closed = true
	t.wg.Add(len(rest))
	t.mu.Unlock()
	for _, lm := range rest {
		go t.finish(lm, meeting.EndedServerStop)
	}
	close(t.stop)
	t.wg.Wait()
}

// joinState logs the mic and camera a participant joined with, when off,
// right after its join, so the analytics count muted and camera-off time
// from the start.
func (r *room) joinState(id string, st wire.Participant) {
	if !st.Mic {
		r.event(id, store.KindMicMute, "at join")
	}
	if !st.Camera {
		r.event(id, store.KindCameraOff, "at join")
	}
}
