package meeting

import (
	"testing"
	"time"

	"github.com/confab/confab/signaling/store"
)

func TestCompute(t *testing.T) {
	t0 := time.UnixMilli(1_000_000)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	ev := func(s float64, id, kind, detail string) store.Event {
		return store.Event{Room: "r", Identity: id, Kind: kind, At: at(s), Detail: detail}
	}
	events := []store.Event{
		ev(0, "a", store.KindJoin, "Alice"),
		ev(0.2, "a", KindTalkStart, ""),
		ev(1, "b", store.KindJoin, "Bob"),
		ev(1, "b", store.KindMicMute, "at join"),
		ev(2, "a", KindTalkStop, ""),
		ev(3, "a", store.KindCameraOff, ""),
		ev(4, "b", store.KindMicUnmute, ""),
		ev(4, "b", store.KindScreenStart, ""),
		ev(5, "b", store.KindLeave, "left"),
		ev(6, "b", store.KindJoin, "Bob"),
		ev(6.5, "b", KindTalkStart, ""), // still talking at the end
		ev(7, "", KindRating, `{"rating":4,"comment":"ok"}`),
	}
	a := Compute(7, "r", t0, at(8), at(8), events, 3)
	if a.Running || a.DurationMS != 8000 || a.PeakParticipants != 2 || a.ChatMessages != 3 || len(a.Ratings) != 1 || a.Ratings[0].Rating != 4 {
		t.Fatalf("%+v", a)
	}
	want := []Participant{
		{Identity: "a", Name: "Alice", Joins: 1, FirstJoinAt: t0.UnixMilli(), LastLeaveAt: at(8).UnixMilli(), PresentMS: 8000, TalkMS: 1800, CameraOffMS: 5000},
		{Identity: "b", Name: "Bob", Joins: 2, Leaves: 1, FirstJoinAt: at(1).UnixMilli(), LastLeaveAt: at(8).UnixMilli(), PresentMS: 6000, TalkMS: 1500, MutedMS: 3000, ScreenMS: 1000},
	}
	for i, w := range want {
		if a.Participants[i] != w {
			t.Errorf("participant %d:\n got %+v\nwant %+v", i, a.Participants[i], w)
		}
	}
	// Running: figures up to now.
	r := Compute(7, "r", t0, time.Time{}, at(2), events[:3], 0)
	if !r.Running || r.EndedAt != 0 || r.DurationMS != 2000 || r.Participants[0].PresentMS != 2000 || r.Participants[1].LastLeaveAt != 0 {
		t.Errorf("running: %+v", r)
	}
}
