// Package meeting computes a meeting's analytics from its event log: how
// long it ran, who was there and for how long, who talked, muted, turned
// the camera off or shared the screen, and the ratings it got.
//
// It is pure computation over store.Event values; the server feeds it the
// events of a running meeting from memory and those of an ended one (or one
// a crash left open) from the store, so every reader sees the same figures.
package meeting

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/confab/confab/signaling/store"
)

// Event kinds the meeting log holds besides the store's Kind constants.
const (
	// KindTalkStart and KindTalkStop bracket a span in which the server
	// heard someone speak (RFC 6464 audio levels above the speaker
	// threshold); At is the first and the last loud packet.
	KindTalkStart = "talk_start"
	KindTalkStop  = "talk_stop"
	// KindRating is a feedback rating (Detail: JSON with "rating" and
	// "comment").
	KindRating = "rating"
)

// How a meeting ended (Analytics.EndedBy).
const (
	EndedLastLeave     = "last_leave"     // the last participant left
	EndedServerStop    = "server_stop"    // the server shut down with people in it
	EndedServerRestart = "server_restart" // found open after a crash; ended when last seen running
)

// Analytics are one meeting's figures. Times are Unix milliseconds,
// durations milliseconds.
type Analytics struct {
	ID        int64  `json:"id"`
	Room      string `json:"room"`
	StartedAt int64  `json:"started_at"`
	// EndedAt is 0 while the meeting runs; its figures then run to now.
	EndedAt          int64         `json:"ended_at"`
	Running          bool          `json:"running"`
	EndedBy          string        `json:"ended_by,omitempty"`
	DurationMS       int64         `json:"duration_ms"`
	PeakParticipants int           `json:"peak_participants"`
	ChatMessages     int           `json:"chat_messages"`
	Participants     []Participant `json:"participants"`
	Ratings          []Rating      `json:"ratings"`
}

// Participant is one identity's share of a meeting.
type Participant struct {
	Identity string `json:"identity"`
	Name     string `json:"name"`
	Joins    int    `json:"joins"`
	Leaves   int    `json:"leaves"`
	// FirstJoinAt and LastLeaveAt are Unix ms; LastLeaveAt is 0 while
	// the participant is in the meeting.
	FirstJoinAt int64 `json:"first_join_at"`
	LastLeaveAt int64 `json:"last_leave_at"`
	PresentMS   int64 `json:"present_ms"`
	TalkMS      int64 `json:"talk_ms"`
	MutedMS     int64 `json:"muted_ms"`
	CameraOffMS int64 `json:"camera_off_ms"`
	ScreenMS    int64 `json:"screen_ms"`
}

// Rating is a feedback rating given for the meeting.
type Rating struct {
	Identity string `json:"identity"`
	Rating   int    `json:"rating"`
	Comment  string `json:"comment,omitempty"`
	At       int64  `json:"at"`
}

// span accumulates the time a flag was on.
type span struct {
	on    bool
	since time.Time
	total time.Duration
}

func (s *span) set(on bool, at time.Time) {
	if on == s.on {
		return
	}
	if s.on {
		s.total += at.Sub(s.since)
	}
	s.on, s.since = on, at
}

func (s *span) upTo(at time.Time) time.Duration {
	if s.on && at.After(s.since) {
		return s.total + at.Sub(s.since)
	}
	return s.total
}

type person struct {
	p                                    Participant
	present, muted, camOff, screen, talk span
	order                                int
}

// Compute returns the analytics of a meeting of room that started at start
// and ended at end (zero: still running, figures up to now), from its
// events in time order. chats is the number of chat messages in it.
func Compute(id int64, room string, start, end, now time.Time, events []store.Event, chats int) Analytics {
	a := Analytics{ID: id, Room: room, StartedAt: start.UnixMilli(), ChatMessages: chats,
		Participants: []Participant{}, Ratings: []Rating{}}
	upTo := end
	if end.IsZero() {
		a.Running = true
		upTo = now
	} else {
		a.EndedAt = end.UnixMilli()
	}
	if upTo.Before(start) {
		upTo = start
	}
	a.DurationMS = upTo.Sub(start).Milliseconds()
	people := map[string]*person{}
	get := func(id string) *person {
		if p := people[id]; p != nil {
			return p
		}
		p := &person{p: Participant{Identity: id, Name: id}, order: len(people)}
		people[id] = p
		return p
	}
	present := 0
	for _, e := range events {
		at := e.At
		if at.After(upTo) {
			at = upTo
		}
		if e.Kind == KindRating {
			a.Ratings = append(a.Ratings, rating(e))
			continue
		}
		if e.Identity == "" {
			continue
		}
		p := get(e.Identity)
		switch e.Kind {
		case store.KindJoin:
			if !p.present.on {
				present++
				a.PeakParticipants = max(a.PeakParticipants, present)
			}
			if e.Detail != "" {
				p.p.Name = e.Detail
			}
			if p.p.Joins == 0 {
				p.p.FirstJoinAt = at.UnixMilli()
			}
			p.p.Joins++
			p.p.LastLeaveAt = 0
			p.present.set(true, at)
			// A participant comes in unmuted with the camera on unless
			// the log says otherwise right after the join.
			p.muted.set(false, at)
			p.camOff.set(false, at)
			p.screen.set(false, at)
		case store.KindLeave:
			if p.present.on {
				present--
			}
			p.p.Leaves++
			p.p.LastLeaveAt = at.UnixMilli()
			p.leave(at)
		case store.KindMicMute:
			p.muted.set(p.present.on, at)
		case store.KindMicUnmute:
			p.muted.set(false, at)
		case store.KindCameraOff:
			p.camOff.set(p.present.on, at)
		case store.KindCameraOn:
			p.camOff.set(false, at)
		case store.KindScreenStart:
			p.screen.set(p.present.on, at)
		case store.KindScreenStop:
			p.screen.set(false, at)
		case KindTalkStart:
			p.talk.set(p.present.on, at)
		case KindTalkStop:
			p.talk.set(false, at)
		}
	}
	list := make([]*person, 0, len(people))
	for _, p := range people {
		if p.p.Joins == 0 {
			continue // events of someone who never joined in this span
		}
		p.p.PresentMS = p.present.upTo(upTo).Milliseconds()
		p.p.TalkMS = p.talk.upTo(upTo).Milliseconds()
		p.p.MutedMS = p.muted.upTo(upTo).Milliseconds()
		p.p.CameraOffMS = p.camOff.upTo(upTo).Milliseconds()
		p.p.ScreenMS = p.screen.upTo(upTo).Milliseconds()
		if !end.IsZero() && p.present.on {
			p.p.LastLeaveAt = end.UnixMilli() // closed with the meeting
		}
		list = append(list, p)
	}
	slices.SortFunc(list, func(x, y *person) int {
		if x.p.FirstJoinAt != y.p.FirstJoinAt {
			return int(x.p.FirstJoinAt - y.p.FirstJoinAt)
		}
		return x.order - y.order
	})
	for _, p := range list {
		a.Participants = append(a.Participants, p.p)
	}
	return a
}

// leave closes everything p had on at at.
func (p *person) leave(at time.Time) {
	p.present.set(false, at)
	p.muted.set(false, at)
	p.camOff.set(false, at)
	p.screen.set(false, at)
	p.talk.set(false, at)
}

func rating(e store.Event) Rating {
	r := Rating{Identity: e.Identity, At: e.At.UnixMilli()}
	var d struct {
		Rating  json.RawMessage `json:"rating"`
		Comment string          `json:"comment"`
	}
	if json.Unmarshal([]byte(e.Detail), &d) == nil {
		r.Rating, _ = strconv.Atoi(string(d.Rating))
		r.Comment = d.Comment
	}
	return r
}
