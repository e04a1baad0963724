package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
)

// TestBotCallsBot: one bot calls another that accepts; both see the
// other's video, and the caller leaving ends the call for the callee
// with hung_up long before its --duration.
func TestBotCallsBot(t *testing.T) {
	srv := servertest.Start(t)
	ben := startBot(t, srv, "unused", "Ben", append([]string{"--answer", "accept", "--duration", "60s"}, testVideo...)...)
	start := time.Now()
	ana := startBot(t, srv, "unused", "Ana", append([]string{"--call", "Ben", "--duration", "12s"}, testVideo...)...)
	var wg sync.WaitGroup
	for _, b := range []*botRun{ana, ben} {
		wg.Add(1)
		go func() { defer wg.Done(); b.wait(t) }()
	}
	wg.Wait()
	if took := time.Since(start); took > 40*time.Second {
		t.Fatalf("Ben stayed %v: the call's end did not end his stay; Ana %+v; Ben %+v", took, ana.report, ben.report)
	}
	for _, b := range []*botRun{ana, ben} {
		if b.err != nil || b.report.Call == nil {
			t.Fatalf("%s: exit %v, report %+v", b.name, b.err, b.report)
		}
		t.Logf("%s: call %+v, remote %+v", b.name, *b.report.Call, b.report.Remote)
	}
	if c := ana.report.Call; c.Kind != calls.KindVideo || c.States["Ben"] != calls.StateJoined {
		t.Fatalf("Ana's call: %+v", *c)
	}
	if c := ben.report.Call; c.End != calls.EndHungUp || c.Rung != 1 {
		t.Fatalf("Ben's call: %+v", *c)
	}
	if r := ana.report.Remote["Ben"]; r.Frames == 0 || r.AudioDecoded == 0 {
		t.Fatalf("Ana got from Ben: %+v", r)
	}
	if r := ben.report.Remote["Ana"]; r.Frames == 0 || r.AudioDecoded == 0 {
		t.Fatalf("Ben got from Ana: %+v", r)
	}
}

// TestBotsAnswerAGroupCall: Ana calls three bots at once; one accepts,
// one declines, one lets it ring out (the ring timeout shortened in the
// server's config). Ana sees each state.
func TestBotsAnswerAGroupCall(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) { c.RingTimeout = 3 * time.Second }))
	ben := startBot(t, srv, "unused", "Ben", "--answer", "accept", "--duration", "60s", "--no-video")
	// Cat and Dan stay online well past the ring timeout however late Ben
	// comes online on a busy machine: one who goes offline while rung is
	// failed, not declined or no_answer.
	cat := startBot(t, srv, "unused", "Cat", "--answer", "decline", "--duration", "30s")
	dan := startBot(t, srv, "unused", "Dan", "--answer", "ignore", "--duration", "30s")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ana, err := calls.Dial(ctx, srv.URL, calls.Hello{Key: "ana-key-0123456789", Name: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	defer ana.Close()
	ids := map[string]string{}
	for _, p := range ana.Ready().People {
		ids[p.Name] = p.ID
	}
	var last calls.Call
	next := func(what string, done func() bool) {
		t.Helper()
		for !done() {
			select {
			case ev := <-ana.Events():
				switch ev := ev.(type) {
				case calls.PersonOnline:
					ids[ev.Name] = ev.ID
				case *calls.CallMsg:
					last = ev.Call
				}
			case <-ctx.Done():
				t.Fatalf("%s: not within 30 s; last call %+v", what, last)
			}
		}
	}
	next("three bots online", func() bool { return ids["Ben"] != "" && ids["Cat"] != "" && ids["Dan"] != "" })
	out, err := ana.Call(ctx, calls.KindAudio, ids["Ben"], ids["Cat"], ids["Dan"])
	if err != nil {
		t.Fatal(err)
	}
	last = out.Call
	room, err := client.Join(ctx, client.Config{Server: srv.URL, Token: out.Join.Token, Room: out.Join.Room, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	state := func(name string) string {
		if m := last.Member(ids[name]); m != nil {
			return m.State
		}
		return ""
	}
	next("every answer", func() bool {
		return state("Ben") == calls.StateJoined && state("Cat") == calls.StateDeclined && state("Dan") == calls.StateNoAnswer
	})
	if last.Ended != "" {
		t.Fatalf("the call ended: %+v", last)
	}
	room.Leave()
	for _, b := range []*botRun{ben, cat, dan} {
		b.wait(t)
		if b.err != nil || b.report.Call == nil {
			t.Fatalf("%s: exit %v, report %+v", b.name, b.err, b.report)
		}
	}
	if c := ben.report.Call; c.End != calls.EndHungUp || c.Kind != calls.KindAudio {
		t.Fatalf("Ben: %+v", *c)
	}
	for _, b := range []*botRun{cat, dan} {
		if b.report.Call.Rung != 1 || b.report.Call.CallID != "" {
			t.Fatalf("%s: %+v", b.name, *b.report.Call)
		}
	}
}
