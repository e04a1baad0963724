package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
)

// events records a session's events with the time each arrived.
type events struct {
	mu  sync.Mutex
	all []client.Event
	at  []time.Time
}

func record(s *client.Session) *events {
	e := &events{}
	go func() {
		for ev := range s.Events() {
			e.mu.Lock()
			e.all = append(e.all, ev)
			e.at = append(e.at, time.Now())
			e.mu.Unlock()
		}
	}()
	return e
}

// waitFor polls cond over the events until it holds, failing after d.
func (e *events) waitFor(t *testing.T, d time.Duration, what string, cond func(all []client.Event, at []time.Time) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		e.mu.Lock()
		ok := cond(e.all, e.at)
		e.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			e.mu.Lock()
			for _, ev := range e.all {
				t.Logf("event %T %+v", ev, ev)
			}
			e.mu.Unlock()
			t.Fatalf("after %v: no %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReconnectKeepsTryingAndRejoinNow stops the server under a session:
// the session keeps trying for minutes, not seconds, waiting longer
// between attempts, says when the next attempt is due, and ReconnectNow
// rejoins at once when the server is back instead of waiting that out.
func TestReconnectKeepsTryingAndRejoinNow(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Join(ctx, client.Config{Server: srv.URL, Room: "outage", Name: "Ada", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Leave()
	ev := record(s)
	ev.waitFor(t, 20*time.Second, "welcome", func(all []client.Event, _ []time.Time) bool {
		for _, e := range all {
			if _, ok := e.(client.Welcome); ok {
				return true
			}
		}
		return false
	})

	srv.Stop()
	// Wait for an attempt whose next try is several seconds away.
	var slow client.Reconnecting
	ev.waitFor(t, 60*time.Second, "a reconnect attempt with a wait of 5 s or more", func(all []client.Event, at []time.Time) bool {
		for i, e := range all {
			if r, ok := e.(client.Reconnecting); ok && r.Next.Sub(at[i]) >= 5*time.Second {
				slow = r
				return true
			}
		}
		return false
	})
	if left := time.Until(slow.Until); left < 5*time.Minute {
		t.Errorf("the session gives up in %v: it should keep trying for minutes", left.Round(time.Second))
	}
	if slow.Attempt < 3 || slow.Err == nil {
		t.Errorf("attempt %d err %v: want several failed attempts with their cause", slow.Attempt, slow.Err)
	}
	if st := s.State(); st != client.StateReconnecting {
		t.Fatalf("state %v while the server is down", st)
	}

	srv.Restart()
	s.ReconnectNow()
	ev.waitFor(t, 30*time.Second, "a rejoin", func(all []client.Event, _ []time.Time) bool {
		for _, e := range all {
			if w, ok := e.(client.Welcome); ok && w.Rejoined {
				return true
			}
		}
		return false
	})
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for i, e := range ev.all {
		if w, ok := e.(client.Welcome); ok && w.Rejoined && !ev.at[i].Before(slow.Next) {
			t.Errorf("rejoined at %v, not before the attempt due at %v: ReconnectNow did not cut the wait short",
				ev.at[i].Format("15:04:05.000"), slow.Next.Format("15:04:05.000"))
		}
	}
}
