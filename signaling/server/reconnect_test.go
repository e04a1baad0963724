package server_test

import (
	"github.com/confab/confab/signaling/server/servertest"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
)

// TestReconnectAfterServerRestart restarts the server under a connected
// session: the session reports reconnecting, rejoins with its token, gets
// the chat it missed, and a message sent while it was away is delivered
// once.
func TestReconnectAfterServerRestart(t *testing.T) {
	srv := servertest.Start(t)
	s := joinOpen(t, srv, "resilient", "Ada")
	c := collect(s)
	c.waitFor(t, 5*time.Second, "welcome", func(c *collector) bool { return c.welcome.Room != "" })
	if _, err := s.SendChat("before the restart"); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 5*time.Second, "first message", func(c *collector) bool { return len(c.chat) == 1 })

	srv.Stop()
	c.waitFor(t, 5*time.Second, "reconnecting state", func(c *collector) bool { return hasState(c, client.StateReconnecting) })
	// Sent while the server is down: kept and sent after the rejoin.
	id, err := s.SendChat("while you were away")
	if err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	// Someone else writes while Ada is still reconnecting or just back.
	other := joinOpen(t, srv, "resilient", "Grace")
	if _, err := other.SendChat("hello from Grace"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			c.mu.Lock()
			for _, ev := range c.all {
				t.Logf("event %T %+v", ev, ev)
			}
			c.mu.Unlock()
		}
	}()
	c.waitFor(t, 15*time.Second, "rejoined, with Grace's message and Ada's own delivered", func(c *collector) bool {
		if c.welcome.Room == "" || !c.welcome.Rejoined {
			return false
		}
		// Missed messages come in the rejoin's Welcome, later ones as events.
		var own, graces int
		for _, m := range append(append([]client.ChatMessage(nil), c.welcome.Chat...), c.chat...) {
			if m.ID == id {
				own++
			}
			if m.Text == "hello from Grace" {
				graces++
			}
		}
		return own == 1 && graces == 1
	})
	if s.State() != client.StateConnected {
		t.Fatalf("state %v after rejoin", s.State())
	}
	// No duplicates: the message from before the restart is not replayed
	// again (the rejoin asked for what came after the last seq seen).
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[int64]int{}
	for _, m := range append(append([]client.ChatMessage(nil), c.welcome.Chat...), c.chat...) {
		seen[m.Seq]++
		if seen[m.Seq] > 1 {
			t.Fatalf("message seq %d delivered twice: %+v", m.Seq, c.chat)
		}
	}
}

func hasState(c *collector, st client.State) bool {
	for _, ev := range c.all {
		if sc, ok := ev.(client.StateChanged); ok && sc.State == st {
			return true
		}
	}
	return false
}
