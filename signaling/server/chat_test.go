package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// joinOpen joins receive-only through /api/token, as a person would.
func joinOpen(t *testing.T, srv *servertest.Server, room, name string) *client.Session {
	t.Helper()
	s, err := client.Join(joinCtx(t), client.Config{Server: srv.URL, Room: room, Name: name, LoopbackOnly: true})
	if err != nil {
		t.Fatalf("join %s: %v", name, err)
	}
	t.Cleanup(func() { s.Leave() })
	return s
}

// collector gathers a session's events on its own goroutine.
type collector struct {
	mu      sync.Mutex
	welcome client.Welcome
	chat    []client.ChatMessage
	history []client.HistoryLoaded
	all     []client.Event
	changed chan struct{}
}

func collect(s *client.Session) *collector {
	c := &collector{changed: make(chan struct{}, 1)}
	go func() {
		for ev := range s.Events() {
			c.mu.Lock()
			c.all = append(c.all, ev)
			switch e := ev.(type) {
			case client.Welcome:
				c.welcome = e
			case client.ChatReceived:
				c.chat = append(c.chat, e.Message)
			case client.HistoryLoaded:
				c.history = append(c.history, e)
			}
			c.mu.Unlock()
			select {
			case c.changed <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

// waitFor polls cond under the collector's lock until it holds or d passes.
func (c *collector) waitFor(t *testing.T, d time.Duration, what string, cond func(c *collector) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		c.mu.Lock()
		ok := cond(c)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestChatOrderReplayAndRestart(t *testing.T) {
	srv := servertest.Start(t)
	const senders, each = 3, 50
	sessions := make([]*client.Session, senders)
	cols := make([]*collector, senders)
	for i := range sessions {
		sessions[i] = joinOpen(t, srv, "chatroom", fmt.Sprintf("Sender %d", i))
		cols[i] = collect(sessions[i])
	}
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if _, err := s.SendChat(fmt.Sprintf("message %d from %d", j, i)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				time.Sleep(110 * time.Millisecond) // under the 10/s chat limit
			}
		}()
	}
	wg.Wait()
	for i, c := range cols {
		c.waitFor(t, 20*time.Second, fmt.Sprintf("150 messages at session %d", i), func(c *collector) bool { return len(c.chat) >= senders*each })
	}
	// Everyone saw one order: seq 1..150, the same ids in the same order.
	ref := cols[0].chat
	for i, m := range ref {
		if m.Seq != int64(i+1) {
			t.Fatalf("session 0: message %d has seq %d", i, m.Seq)
		}
	}
	for k, c := range cols[1:] {
		for i := range ref {
			if c.chat[i].ID != ref[i].ID || c.chat[i].Seq != ref[i].Seq {
				t.Fatalf("session %d differs at %d: %+v vs %+v", k+1, i, c.chat[i], ref[i])
			}
		}
	}
	// The sender is who the token says.
	for _, m := range ref {
		if !strings.HasPrefix(m.Name, "Sender ") || !strings.HasPrefix(m.From, "u-") {
			t.Fatalf("message %+v: sender not from the token", m)
		}
	}

	// A resend of the same id is stored once.
	ws, _ := rawJoin(t, srv, "chatroom", "resender")
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "dup-1", Text: "once"})
	var first, second wire.ChatEvent
	expect(t, ws, wire.TypeChat, &first)
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "dup-1", Text: "once"})
	expect(t, ws, wire.TypeChat, &second)
	if first.Message.Seq != second.Message.Seq || first.Message.Seq != senders*each+1 {
		t.Fatalf("resend stored twice: seq %d then %d", first.Message.Seq, second.Message.Seq)
	}
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "after-dup", Text: "next"})
	var next wire.ChatEvent
	expect(t, ws, wire.TypeChat, &next)
	if next.Message.Seq != first.Message.Seq+1 {
		t.Fatalf("message after a resend has seq %d; want %d", next.Message.Seq, first.Message.Seq+1)
	}
	cols[0].waitFor(t, 5*time.Second, "the messages after the resend", func(c *collector) bool { return len(c.chat) >= senders*each+2 })
	time.Sleep(200 * time.Millisecond)
	cols[0].mu.Lock()
	dups := 0
	for _, m := range cols[0].chat {
		if m.ID == "dup-1" {
			dups++
		}
	}
	cols[0].mu.Unlock()
	if dups != 1 {
		t.Fatalf("others saw dup-1 %d times; want once", dups)
	}
	total := int64(senders*each + 2)

	// Replay on join: the newest page, and older pages on request.
	late := joinOpen(t, srv, "chatroom", "Late")
	lc := collect(late)
	lc.waitFor(t, 5*time.Second, "welcome", func(c *collector) bool { return c.welcome.Room != "" })
	w := lc.welcome
	if len(w.Chat) != wire.HistoryPage || !w.ChatMore || w.Chat[len(w.Chat)-1].Seq != total || w.Chat[0].Seq != total-wire.HistoryPage+1 {
		t.Fatalf("replay: %d messages seq %d..%d more=%v", len(w.Chat), w.Chat[0].Seq, w.Chat[len(w.Chat)-1].Seq, w.ChatMore)
	}
	if err := late.LoadOlderChat(w.Chat[0].Seq); err != nil {
		t.Fatal(err)
	}
	lc.waitFor(t, 5*time.Second, "history page", func(c *collector) bool { return len(c.history) == 1 })
	h := lc.history[0]
	if len(h.Messages) != wire.HistoryPage || h.Messages[len(h.Messages)-1].Seq != w.Chat[0].Seq-1 || !h.More {
		t.Fatalf("older page: %d messages, last seq %d, more %v", len(h.Messages), h.Messages[len(h.Messages)-1].Seq, h.More)
	}

	// History survives a server restart.
	for _, s := range append(sessions, late) {
		s.Leave()
	}
	srv.Restart()
	again := joinOpen(t, srv, "chatroom", "After restart")
	ac := collect(again)
	ac.waitFor(t, 5*time.Second, "welcome after restart", func(c *collector) bool { return c.welcome.Room != "" })
	got := ac.welcome.Chat
	if len(got) != wire.HistoryPage || got[len(got)-1].Seq != total || got[len(got)-1].Text != "next" {
		t.Fatalf("after restart: %d messages, last %+v", len(got), got[len(got)-1])
	}

	// The meeting log kept joins, leaves and chat.
	evs, err := srv.Data.Store.Events(context.Background(), "chatroom", 10000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds["join"] < 5 || kinds["leave"] < 4 || kinds["chat"] != int(total) {
		t.Fatalf("event log kinds %v", kinds)
	}
}

func TestOwnMessageAcknowledged(t *testing.T) {
	srv := servertest.Start(t)
	s := joinOpen(t, srv, "acks", "Me")
	c := collect(s)
	id, err := s.SendChat("hello **world** <b>")
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 5*time.Second, "own message", func(c *collector) bool {
		for _, ev := range c.all {
			if cr, ok := ev.(client.ChatReceived); ok && cr.Own && cr.Message.ID == id && cr.Message.Text == "hello **world** <b>" {
				return true
			}
		}
		return false
	})
	if _, err := s.SendChat(strings.Repeat("x", wire.MaxChatBytes+1)); err == nil {
		t.Fatal("oversize chat accepted by the client")
	}
}

func TestNoGoroutineLeakAfterJoinLeaveCycles(t *testing.T) {
	srv := servertest.Start(t)
	// One warm-up cycle so lazily started runtime goroutines are counted.
	warm := joinOpen(t, srv, "cycles", "warm")
	drainAndLeave(warm)
	time.Sleep(200 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		s, err := client.Join(joinCtx(t), client.Config{Server: srv.URL, Room: "cycles", Name: fmt.Sprintf("cycle %d", i), LoopbackOnly: true})
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		drainAndLeave(s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after 20 cycles\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func drainAndLeave(s *client.Session) {
	done := make(chan struct{})
	go func() {
		for range s.Events() {
		}
		close(done)
	}()
	s.Leave()
	<-done
}
