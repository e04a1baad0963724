package server_test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// cutProxy forwards TCP to a server; cut drops every connection and
// refuses new ones until heal, as a network outage would.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) heal() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestClientFetchesChatGapAfterReconnect: while a session's network is
// down, 320 messages are sent (more than the 200 a rejoin carries). After
// it reconnects, every one of them reaches it exactly once, and so do the
// messages sent after the rejoin.
func TestClientFetchesChatGapAfterReconnect(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) {
		c.ChatRate, c.ChatBurst, c.MessageRate, c.MessageBurst = 1000, 1000, 1000, 1000
	}))
	proxy := newCutProxy(t, srv.Addr)
	s, err := client.Join(joinCtx(t), client.Config{Server: "http://" + proxy.ln.Addr().String(), Room: "outage", Name: "Ada", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Leave() })
	c := collect(s)
	c.waitFor(t, 5*time.Second, "welcome", func(c *collector) bool { return c.welcome.Room != "" })

	talker, _ := rawJoin(t, srv, "outage", "talker")
	var wmu sync.Mutex
	write := func(id string) error {
		b, _ := wire.Encode(wire.TypeChat, wire.ChatSend{ID: id, Text: "message " + id})
		wmu.Lock()
		defer wmu.Unlock()
		return talker.WriteMessage(websocket.TextMessage, b)
	}
	go func() { // drain the talker's socket; resend what a busy server refused
		for {
			_, b, err := talker.ReadMessage()
			if err != nil {
				return
			}
			var e wire.Error
			if env, err := wire.DecodeEnvelope(b); err == nil && env.Type == wire.TypeError && wire.DecodeData(env, &e) == nil &&
				(e.Code == wire.CodeOverloaded || e.Code == wire.CodeInternal) && e.Ref != "" {
				time.Sleep(100 * time.Millisecond)
				_ = write(e.Ref)
			}
		}
	}()
	say := func(from, to int) {
		for i := from; i <= to; i++ {
			if err := write(fmt.Sprintf("t%03d", i)); err != nil {
				t.Fatal(err)
			}
			if i%50 == 0 {
				time.Sleep(50 * time.Millisecond) // under the websocket send queue
			}
		}
	}
	say(1, 5)
	c.waitFor(t, 10*time.Second, "5 live messages", func(c *collector) bool { return len(c.chat) == 5 })

	proxy.cut()
	c.waitFor(t, 5*time.Second, "reconnecting", func(c *collector) bool { return hasState(c, client.StateReconnecting) })
	say(6, 325)
	// Wait until the server has stored all of it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs, _, err := srv.Data.Store.ChatHistory(t.Context(), "outage", 0, 1)
		if err == nil && len(msgs) == 1 && msgs[0].Seq == 325 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not store 325 messages: %v %v", msgs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	proxy.heal()
	c.waitFor(t, 20*time.Second, "rejoined", func(c *collector) bool { return c.welcome.Rejoined })
	say(326, 330)

	all := func(c *collector) map[int64]int {
		seen := map[int64]int{}
		for _, m := range c.welcome.Chat {
			seen[m.Seq]++
		}
		for _, m := range c.chat {
			seen[m.Seq]++
		}
		return seen
	}
	c.waitFor(t, 20*time.Second, "all 330 messages", func(c *collector) bool { return len(all(c)) == 330 })
	time.Sleep(300 * time.Millisecond) // time for any duplicate to show
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.welcome.Rejoined || len(c.welcome.Chat) != wire.MaxResumeChat {
		t.Fatalf("rejoin welcome has %d messages; want %d (the rest as a gap)", len(c.welcome.Chat), wire.MaxResumeChat)
	}
	for seq, n := range all(c) {
		if seq < 1 || seq > 330 || n != 1 {
			t.Fatalf("message %d delivered %d times", seq, n)
		}
	}
}
