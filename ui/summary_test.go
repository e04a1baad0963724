package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/client"
)

func TestCallSummaryCountsTalk(t *testing.T) {
	var s callSummary
	t0 := time.Unix(1000, 0)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	s.note(client.Welcome{Room: "lobby", You: client.Participant{ID: "me", Name: "Dana"}, Participants: []client.Participant{{ID: "a", Name: "Fox"}}}, at(0))
	s.note(client.SpeakersChanged{Speakers: []client.Speaker{{ID: "a"}}}, at(1))
	s.note(client.SpeakersChanged{Speakers: []client.Speaker{{ID: "a"}, {ID: "me"}}}, at(3))
	s.note(client.SpeakersChanged{}, at(4))
	s.note(client.ParticipantJoined{Participant: client.Participant{ID: "b", Name: "Scully"}}, at(5))
	s.note(client.SpeakersChanged{Speakers: []client.Speaker{{ID: "b"}}}, at(6))
	s.note(client.ParticipantLeft{ID: "b"}, at(8))
	got, ok := s.result(at(10))
	if !ok || got.Room != "lobby" || got.Duration != 10*time.Second || len(got.People) != 3 {
		t.Fatalf("%+v", got)
	}
	want := []SummaryPerson{{Name: "Dana", You: true, Talk: time.Second}, {Name: "Fox", Talk: 3 * time.Second}, {Name: "Scully", Talk: 2 * time.Second}}
	for i, w := range want {
		if got.People[i] != w {
			t.Errorf("person %d = %+v, want %+v", i, got.People[i], w)
		}
	}
	var none callSummary
	if _, ok := none.result(at(1)); ok {
		t.Error("a call that never started has a summary")
	}
}

// TestSummaryAfterLeaving leaves a call and finds the summary over the
// entry screen, with bars in proportion to talk time, and closes it.
func TestSummaryAfterLeaving(t *testing.T) {
	h := newHarness(t, Options{})
	scully := client.Participant{ID: "p2", Name: "Dana Scully", Mic: true, Camera: true}
	cs, _ := h.welcome(fox, scully)
	// Fox speaks 3 s, then Dana 1 s (times given, not waited for).
	t0 := time.Now().Add(-10 * time.Second)
	cs.summary.note(client.SpeakersChanged{Speakers: []client.Speaker{{ID: "p1"}}}, t0)
	cs.summary.note(client.SpeakersChanged{Speakers: []client.Speaker{{ID: "p0"}}}, t0.Add(3*time.Second))
	cs.summary.note(client.SpeakersChanged{}, t0.Add(4*time.Second))
	test.Tap(cs.Controls().Leave)
	if h.app.root.Objects[0] != h.app.Entry().content {
		t.Fatal("entry screen not shown after leaving")
	}
	v := h.app.Summary()
	if v == nil || !v.popup.Visible() || len(v.Bars) != 3 {
		t.Fatalf("summary %+v", v)
	}
	self, foxBar, scullyBar := v.Bars[0].MinSize().Width, v.Bars[1].MinSize().Width, v.Bars[2].MinSize().Width
	if scullyBar != 0 || foxBar < 2.9*self || foxBar > 3.1*self || foxBar+self < summaryBarWidth-1 {
		t.Errorf("bars: you %.0f, Fox %.0f, Scully %.0f", self, foxBar, scullyBar)
	}
	test.Tap(v.Done)
	if h.app.Summary() != nil || v.popup.Visible() {
		t.Error("summary still shown after Close")
	}
	h.q.drain()
}
