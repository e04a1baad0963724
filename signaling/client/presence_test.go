package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// rejoins counts the Welcome events of a rejoin.
func rejoins(all []client.Event) int {
	n := 0
	for _, e := range all {
		if w, ok := e.(client.Welcome); ok && w.Rejoined {
			n++
		}
	}
	return n
}

// TestHandSurvivesReconnect: the server forgets a hand with the
// connection, so after a rejoin the session raises it again by itself;
// a hand lowered during the outage stays down. React refuses while
// reconnecting and outside the allow-list; Reactions is the list.
func TestHandSurvivesReconnect(t *testing.T) {
	if !slices.Equal(client.Reactions, wire.Reactions) {
		t.Fatalf("client.Reactions %q; want wire.Reactions %q", client.Reactions, wire.Reactions)
	}
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Join(ctx, client.Config{Server: srv.URL, Room: "hands", Name: "Ada", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Leave()
	ev := record(s)
	if err := s.React("🙂"); !errors.Is(err, wire.ErrBadReaction) {
		t.Errorf("React outside the list: %v; want wire.ErrBadReaction", err)
	}
	if err := s.SetHandRaised(true); err != nil {
		t.Fatal(err)
	}
	if err := s.React(wire.ReactionThinking); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, 20*time.Second, "own hand up and own reaction", func(all []client.Event, _ []time.Time) bool {
		reacted := false
		for _, e := range all {
			if r, ok := e.(client.ReactionReceived); ok && r.Emoji == wire.ReactionThinking && r.From == s.Self().ID {
				reacted = true
			}
		}
		return reacted && s.Self().HandRaisedAt != 0
	})

	outage := func(during func()) {
		t.Helper()
		n := rejoins(ev.snapshot())
		srv.Stop()
		ev.waitFor(t, 20*time.Second, "reconnecting", func([]client.Event, []time.Time) bool { return s.State() == client.StateReconnecting })
		during()
		srv.Restart()
		s.ReconnectNow()
		ev.waitFor(t, 60*time.Second, "a rejoin", func(all []client.Event, _ []time.Time) bool { return rejoins(all) > n })
	}
	outage(func() {
		if err := s.React(wire.ReactionClap); !errors.Is(err, client.ErrNotConnected) {
			t.Errorf("React while reconnecting: %v; want ErrNotConnected", err)
		}
	})
	ev.waitFor(t, 20*time.Second, "the hand raised again after the rejoin", func([]client.Event, []time.Time) bool {
		return s.Self().HandRaisedAt != 0
	})
	// Another participant sees it.
	other, err := client.Join(ctx, client.Config{Server: srv.URL, Room: "hands", Name: "Grace", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Leave()
	oev := record(other)
	id := s.Self().ID
	oev.waitFor(t, 20*time.Second, "Grace sees Ada's hand", func(all []client.Event, _ []time.Time) bool {
		for _, e := range all {
			if w, ok := e.(client.Welcome); ok {
				for _, p := range w.Participants {
					if p.ID == id && p.HandRaisedAt != 0 {
						return true
					}
				}
			}
		}
		return false
	})

	outage(func() {
		if err := s.SetHandRaised(false); err != nil {
			t.Errorf("SetHandRaised while reconnecting: %v", err)
		}
	})
	// Lowered while away: down after the rejoin, and not raised again.
	time.Sleep(500 * time.Millisecond)
	if h := s.Self().HandRaisedAt; h != 0 {
		t.Errorf("hand lowered during the outage is up after the rejoin (at %d)", h)
	}
	s.Leave()
	if err := s.SetHandRaised(true); !errors.Is(err, client.ErrClosed) {
		t.Errorf("SetHandRaised after Leave: %v; want ErrClosed", err)
	}
	if err := s.React(wire.ReactionThumbsUp); !errors.Is(err, client.ErrClosed) {
		t.Errorf("React after Leave: %v; want ErrClosed", err)
	}
}

func (e *events) snapshot() []client.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}
