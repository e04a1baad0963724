package meeting

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/confab/confab/signaling/store"
)

// Load returns the analytics of m: the stored ones of an ended meeting,
// computed from the event log for one still open (up to now). Either way
// the ratings are those given from the meeting's start until the room's
// next meeting starts, so a rating made after the call counts.
func Load(ctx context.Context, st store.Meetings, m store.Meeting, now time.Time) (Analytics, error) {
	var a Analytics
	if m.End.IsZero() || len(m.Analytics) == 0 {
		events, err := st.EventsBetween(ctx, m.Room, m.Start, now)
		if err != nil {
			return Analytics{}, err
		}
		chats, err := st.ChatCount(ctx, m.Room, m.Start, now)
		if err != nil {
			return Analytics{}, err
		}
		a = Compute(m.ID, m.Room, m.Start, m.End, now, events, chats)
		a.EndedBy = m.EndedBy
	} else if err := json.Unmarshal(m.Analytics, &a); err != nil {
		return Analytics{}, fmt.Errorf("meeting %d: stored analytics: %w", m.ID, err)
	}
	next := time.UnixMilli(math.MaxInt64 / 2)
	later, err := st.Meetings(ctx, store.MeetingFilter{Room: m.Room, Since: m.Start.Add(time.Millisecond)})
	if err != nil {
		return Analytics{}, err
	}
	for _, l := range later {
		if l.ID != m.ID && l.Start.Before(next) {
			next = l.Start
		}
	}
	events, err := st.EventsBetween(ctx, m.Room, m.Start, next.Add(-time.Millisecond))
	if err != nil {
		return Analytics{}, err
	}
	a.Ratings = []Rating{}
	for _, e := range events {
		if e.Kind == KindRating {
			a.Ratings = append(a.Ratings, rating(e))
		}
	}
	return a, nil
}

// Close ends a meeting a crash left open: at the last time the server saw
// it running or its last event, whichever is later, with its analytics
// computed and stored. It returns them.
func Close(ctx context.Context, st store.Meetings, m store.Meeting) (Analytics, error) {
	end := m.Alive
	events, err := st.EventsBetween(ctx, m.Room, m.Start, time.UnixMilli(math.MaxInt64/2))
	if err != nil {
		return Analytics{}, err
	}
	// Events after a later meeting of the room began are not this one's.
	later, err := st.Meetings(ctx, store.MeetingFilter{Room: m.Room, Since: m.Start.Add(time.Millisecond)})
	if err != nil {
		return Analytics{}, err
	}
	limit := time.Time{}
	for _, l := range later {
		if l.ID != m.ID && (limit.IsZero() || l.Start.Before(limit)) {
			limit = l.Start
		}
	}
	kept := events[:0]
	for _, e := range events {
		if !limit.IsZero() && !e.At.Before(limit) {
			break
		}
		if e.Kind != KindRating && e.At.After(end) {
			end = e.At
		}
		kept = append(kept, e)
	}
	chats, err := st.ChatCount(ctx, m.Room, m.Start, end)
	if err != nil {
		return Analytics{}, err
	}
	a := Compute(m.ID, m.Room, m.Start, end, end, kept, chats)
	a.EndedBy = EndedServerRestart
	b, err := json.Marshal(a)
	if err != nil {
		return Analytics{}, err
	}
	if err := st.CloseMeeting(ctx, m.ID, end, EndedServerRestart, b); err != nil {
		return Analytics{}, err
	}
	return a, nil
}
