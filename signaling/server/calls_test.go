package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// person is someone online in a test: their presence client and what it
// heard, for waiting on.
type person struct {
	t    *testing.T
	c    *calls.Client
	mu   sync.Mutex
	ev   []calls.Event
	from int           // wait looks at ev[from:]
	in   chan struct{} // a signal per event
}

// skip makes wait look only at events from now on.
func (p *person) skip() {
	p.mu.Lock()
	p.from = len(p.ev)
	p.mu.Unlock()
}

// goOnline signs name in at srv with a fresh key.
func goOnline(t *testing.T, srv *servertest.Server, name string) *person {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return goOnlineHello(t, srv, calls.Hello{Key: hex.EncodeToString(b), Name: name})
}

func goOnlineHello(t *testing.T, srv *servertest.Server, hello calls.Hello) *person {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := calls.Dial(ctx, srv.URL, hello)
	if err != nil {
		t.Fatalf("online %q: %v", hello.Name, err)
	}
	p := &person{t: t, c: c, in: make(chan struct{}, 1)}
	go func() {
		for ev := range c.Events() {
			p.mu.Lock()
			p.ev = append(p.ev, ev)
			p.mu.Unlock()
			select {
			case p.in <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return p
}

func (p *person) id() string { return p.c.Me().ID }

// wait returns the first event (since skip) that matches, failing the
// test after 20 s.
func (p *person) wait(what string, match func(calls.Event) bool) calls.Event {
	p.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		for _, ev := range p.ev[p.from:] {
			if match(ev) {
				p.mu.Unlock()
				return ev
			}
		}
		p.mu.Unlock()
		select {
		case <-p.in:
		case <-deadline:
			p.mu.Lock()
			defer p.mu.Unlock()
			p.t.Fatalf("%s: not within 20s; events: %s", what, dumpEvents(p.ev))
		}
	}
}

// waitCall waits for a call message about id that matches.
func (p *person) waitCall(what, id string, match func(calls.Call) bool) calls.Call {
	p.t.Helper()
	ev := p.wait(what, func(ev calls.Event) bool {
		m, ok := ev.(*calls.CallMsg)
		return ok && (id == "" || m.Call.ID == id) && match(m.Call)
	})
	return ev.(*calls.CallMsg).Call
}

// ringing waits for an incoming call and returns it.
func (p *person) ringing() calls.Call {
	p.t.Helper()
	me := p.id()
	return p.waitCall("an incoming call", "", func(c calls.Call) bool {
		m := c.Member(me)
		return m != nil && m.State == calls.StateRinging && c.From != me
	})
}

// ended waits for the end of call id and returns its reason.
func (p *person) ended(id string) string {
	p.t.Helper()
	return p.waitCall("the call's end", id, func(c calls.Call) bool { return c.Ended != "" }).Ended
}

func dumpEvents(evs []calls.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		switch ev := ev.(type) {
		case *calls.CallMsg:
			fmt.Fprintf(&b, "\n  call %s ended=%q:", ev.Call.ID, ev.Call.Ended)
			for _, m := range ev.Call.Members {
				fmt.Fprintf(&b, " %s=%s", m.Name, m.State)
			}
		default:
			fmt.Fprintf(&b, "\n  %T %+v", ev, ev)
		}
	}
	return b.String()
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// enter joins the call's room as its Join says, without media.
func enter(t *testing.T, srv *servertest.Server, j *calls.Join) *client.Session {
	t.Helper()
	if j == nil {
		t.Fatal("no join in the answer")
	}
	s, err := client.Join(callCtx(t), client.Config{Server: srv.URL, Token: j.Token, Room: j.Room, LoopbackOnly: true})
	if err != nil {
		t.Fatalf("join the call's room: %v", err)
	}
	t.Cleanup(func() { s.Leave() })
	return s
}

func ringTimeout(d time.Duration) servertest.Option {
	return servertest.Config(func(c *server.Config) { c.RingTimeout = d })
}

func stateOf(c calls.Call, id string) string {
	if m := c.Member(id); m != nil {
		return m.State
	}
	return ""
}

// TestPresenceComesAndGoes: someone appears in the others' lists within
// 2 s of going online and disappears within 2 s of closing.
func TestPresenceComesAndGoes(t *testing.T) {
	srv := servertest.Start(t)
	ana := goOnline(t, srv, "Ana")
	if got := ana.c.Ready().People; len(got) != 0 {
		t.Fatalf("Ana sees %v online before anyone came", got)
	}
	start := time.Now()
	ben := goOnline(t, srv, "Ben")
	ana.wait("Ben online", func(ev calls.Event) bool {
		p, ok := ev.(calls.PersonOnline)
		return ok && p.ID == ben.id() && p.Name == "Ben"
	})
	appeared := time.Since(start)
	if got := ben.c.Ready().People; len(got) != 1 || got[0].Name != "Ana" || got[0].ID != ana.id() {
		t.Fatalf("Ben's list: %+v", got)
	}
	if !strings.HasPrefix(ben.id(), "p-") || ben.id() == ana.id() {
		t.Fatalf("identities %q and %q", ana.id(), ben.id())
	}
	start = time.Now()
	ben.c.Close()
	ana.wait("Ben offline", func(ev calls.Event) bool {
		p, ok := ev.(calls.PersonOffline)
		return ok && p.ID == ben.id()
	})
	gone := time.Since(start)
	t.Logf("Ben appeared in Ana's list after %v and disappeared %v after closing", appeared, gone)
	if appeared > 2*time.Second || gone > 2*time.Second {
		t.Fatalf("presence took %v to appear and %v to go (limit 2s)", appeared, gone)
	}
}

// TestCallAccepted: a one-to-one video call rings, is accepted, both
// enter the call's room, and one hanging up ends it for the other.
func TestCallAccepted(t *testing.T) {
	srv := servertest.Start(t)
	ana, ben := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben")
	ctx := callCtx(t)
	start := time.Now()
	out, err := ana.c.Call(ctx, calls.KindVideo, ben.id())
	if err != nil {
		t.Fatal(err)
	}
	if got := stateOf(out.Call, ben.id()); got != calls.StateRinging || out.Join == nil || !strings.HasPrefix(out.Join.Room, calls.RoomPrefix) {
		t.Fatalf("invite answered %+v", out)
	}
	in := ben.ringing()
	t.Logf("Ben's app rang %v after Ana called", time.Since(start))
	if in.ID != out.Call.ID || in.From != ana.id() || in.FromName != "Ana" || in.Kind != calls.KindVideo {
		t.Fatalf("Ben was rung with %+v", in)
	}
	// Others online see both busy.
	cat := goOnline(t, srv, "Cat")
	for _, p := range cat.c.Ready().People {
		if !p.Busy {
			t.Fatalf("Cat sees %s not busy during the call", p.Name)
		}
	}
	anaRoom := enter(t, srv, out.Join)
	acc, err := ben.c.Accept(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Join == nil || acc.Join.Room != out.Join.Room {
		t.Fatalf("accept answered %+v", acc)
	}
	benRoom := enter(t, srv, acc.Join)
	ana.waitCall("Ben joined", in.ID, func(c calls.Call) bool {
		return stateOf(c, ben.id()) == calls.StateJoined && stateOf(c, ana.id()) == calls.StateJoined
	})
	if benRoom.Self().ID != ben.id() || anaRoom.Self().ID != ana.id() {
		t.Fatalf("room identities %q %q", benRoom.Self().ID, anaRoom.Self().ID)
	}
	benRoom.Leave()
	if got := ana.ended(in.ID); got != calls.EndHungUp {
		t.Fatalf("Ana's call ended with %q, want hung_up", got)
	}
	if got := ben.ended(in.ID); got != calls.EndHungUp {
		t.Fatalf("Ben's call ended with %q, want hung_up", got)
	}
	// The room admits nobody more once the call is over.
	_, err = client.Join(ctx, client.Config{Server: srv.URL, Token: acc.Join.Token, Room: acc.Join.Room, LoopbackOnly: true, ReconnectFor: -1})
	if code := wireCode(err); code != calls.CodeNoSuchCall {
		t.Fatalf("joining an ended call: %v, want %s", err, calls.CodeNoSuchCall)
	}
}

func wireCode(err error) string {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	var ce *calls.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// TestCallEndReasons: declined, no answer (the ring timeout shortened in
// the config), busy and cancelled reach both sides.
func TestCallEndReasons(t *testing.T) {
	srv := servertest.Start(t, ringTimeout(700*time.Millisecond))
	ctx := callCtx(t)

	t.Run("declined", func(t *testing.T) {
		ana, ben := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben")
		out, err := ana.c.Call(ctx, calls.KindAudio, ben.id())
		if err != nil {
			t.Fatal(err)
		}
		in := ben.ringing()
		if in.Kind != calls.KindAudio {
			t.Fatalf("kind %q", in.Kind)
		}
		dec, err := ben.c.Decline(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if dec.Call.Ended != calls.EndDeclined || ana.ended(out.Call.ID) != calls.EndDeclined {
			t.Fatalf("decline: %+v", dec.Call)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		ana, ben := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben")
		start := time.Now()
		out, err := ana.c.Call(ctx, calls.KindVideo, ben.id())
		if err != nil {
			t.Fatal(err)
		}
		in := ben.ringing()
		if got := ana.ended(out.Call.ID); got != calls.EndNoAnswer {
			t.Fatalf("Ana: %q", got)
		}
		took := time.Since(start)
		end := ben.waitCall("missed", in.ID, func(c calls.Call) bool { return c.Ended != "" })
		if end.Ended != calls.EndNoAnswer || stateOf(end, ben.id()) != calls.StateNoAnswer {
			t.Fatalf("Ben: %+v", end)
		}
		if took < 700*time.Millisecond {
			t.Fatalf("ended after %v, before the ring timeout", took)
		}
		if _, err := ben.c.Accept(ctx, in.ID); wireCode(err) != calls.CodeNoSuchCall {
			t.Fatalf("accepting a missed call: %v", err)
		}
	})
	t.Run("busy", func(t *testing.T) {
		ana, ben, cat := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben"), goOnline(t, srv, "Cat")
		first, err := cat.c.Call(ctx, calls.KindVideo, ben.id())
		if err != nil {
			t.Fatal(err)
		}
		ben.ringing()
		out, err := ana.c.Call(ctx, calls.KindVideo, ben.id())
		if err != nil {
			t.Fatal(err)
		}
		if out.Call.Ended != calls.EndBusy || stateOf(out.Call, ben.id()) != calls.StateBusy {
			t.Fatalf("calling someone being rung: %+v", out.Call)
		}
		// Someone in a room joined by name says so with set_busy.
		cat.c.Cancel(ctx, first.Call.ID)
		ben.ended(first.Call.ID)
		ana.skip()
		if err := ben.c.SetBusy(true); err != nil {
			t.Fatal(err)
		}
		ana.wait("Ben busy", func(ev calls.Event) bool {
			u, ok := ev.(calls.PersonUpdated)
			return ok && u.ID == ben.id() && u.Busy
		})
		out, err = ana.c.Call(ctx, calls.KindVideo, ben.id())
		if err != nil || out.Call.Ended != calls.EndBusy {
			t.Fatalf("calling someone in a room: %+v %v", out, err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ana, ben := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben")
		out, err := ana.c.Call(ctx, calls.KindVideo, ben.id())
		if err != nil {
			t.Fatal(err)
		}
		in := ben.ringing()
		c, err := ana.c.Cancel(ctx, out.Call.ID)
		if err != nil || c.Call.Ended != calls.EndCancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		if got := ben.ended(in.ID); got != calls.EndCancelled {
			t.Fatalf("Ben: %q", got)
		}
	})
	t.Run("failed", func(t *testing.T) {
		ana, ben := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben")
		out, err := ana.c.Call(ctx, calls.KindVideo, ben.id())
		if err != nil {
			t.Fatal(err)
		}
		ben.ringing()
		ben.c.Close() // Ben's app quits while it rings
		if got := ana.ended(out.Call.ID); got != calls.EndFailed {
			t.Fatalf("Ana: %q", got)
		}
	})
}

// TestGroupCall: Ana calls three people; Ben accepts, Cat declines, Dan
// never answers. Each state reaches the others; the call goes on with Ana
// and Ben, and Ben, in the call, asks Eve in.
func TestGroupCall(t *testing.T) {
	srv := servertest.Start(t, ringTimeout(1500*time.Millisecond))
	ctx := callCtx(t)
	ana, ben, cat, dan := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben"), goOnline(t, srv, "Cat"), goOnline(t, srv, "Dan")
	out, err := ana.c.Call(ctx, calls.KindVideo, ben.id(), cat.id(), dan.id())
	if err != nil {
		t.Fatal(err)
	}
	id := out.Call.ID
	enter(t, srv, out.Join)
	for _, p := range []*person{ben, cat, dan} {
		if in := p.ringing(); in.ID != id || len(in.Members) != 4 {
			t.Fatalf("rung with %+v", in)
		}
	}
	acc, err := ben.c.Accept(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	enter(t, srv, acc.Join)
	if _, err := cat.c.Decline(ctx, id); err != nil {
		t.Fatal(err)
	}
	final := ana.waitCall("every answer", id, func(c calls.Call) bool {
		return stateOf(c, ben.id()) == calls.StateJoined && stateOf(c, cat.id()) == calls.StateDeclined &&
			stateOf(c, dan.id()) == calls.StateNoAnswer
	})
	if final.Ended != "" {
		t.Fatalf("the call ended: %+v", final)
	}
	ben.waitCall("Ben sees Dan's no answer", id, func(c calls.Call) bool { return stateOf(c, dan.id()) == calls.StateNoAnswer })
	if got := dan.waitCall("Dan's missed call", id, func(c calls.Call) bool { return stateOf(c, dan.id()) != calls.StateRinging }); stateOf(got, dan.id()) != calls.StateNoAnswer {
		t.Fatalf("Dan: %+v", got)
	}

	// Anyone in the call invites more.
	eve := goOnline(t, srv, "Eve")
	more, err := ben.c.InviteMore(ctx, id, eve.id())
	if err != nil {
		t.Fatal(err)
	}
	if m := more.Call.Member(eve.id()); m == nil || m.State != calls.StateRinging || m.InvitedBy != ben.id() {
		t.Fatalf("Ben's invite: %+v", more.Call)
	}
	in := eve.ringing()
	if in.ID != id {
		t.Fatalf("Eve rung for %s", in.ID)
	}
	acc, err = eve.c.Accept(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	enter(t, srv, acc.Join)
	ana.waitCall("Eve joined", id, func(c calls.Call) bool { return stateOf(c, eve.id()) == calls.StateJoined })
	// Cat, who declined, may not enter with the room's name.
	tok := srv.Token(token.Claims{Identity: cat.id(), Name: "Cat", Room: acc.Join.Room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	_, err = client.Join(ctx, client.Config{Server: srv.URL, Token: tok, Room: acc.Join.Room, LoopbackOnly: true, ReconnectFor: -1})
	if wireCode(err) != calls.CodeNotInvited {
		t.Fatalf("Cat joining after declining: %v", err)
	}
}

// TestCallRefusals: everything the protocol refuses, with its code.
func TestCallRefusals(t *testing.T) {
	srv := servertest.Start(t)
	ctx := callCtx(t)
	ana, ben := goOnline(t, srv, "Ana"), goOnline(t, srv, "Ben")
	mallory := goOnline(t, srv, "Mallory")

	if _, err := ana.c.Call(ctx, calls.KindVideo, "p-0000000000000000"); wireCode(err) != calls.CodeNotOnline {
		t.Fatalf("calling someone offline: %v", err)
	}
	if _, err := ana.c.Call(ctx, calls.KindVideo, ana.id()); wireCode(err) != wire.CodeBadMessage {
		t.Fatalf("calling yourself: %v", err)
	}
	many := make([]string, calls.MaxInvitees+1)
	for i := range many {
		many[i] = fmt.Sprintf("p-%016d", i)
	}
	if _, err := ana.c.Call(ctx, calls.KindVideo, many...); wireCode(err) != wire.CodeBadMessage {
		t.Fatalf("too many invitees: %v", err)
	}
	if _, err := ana.c.Call(ctx, "hologram", ben.id()); wireCode(err) != wire.CodeBadMessage {
		t.Fatalf("a bad kind: %v", err)
	}
	if _, err := ana.c.Call(ctx, calls.KindVideo, strings.Repeat("x", 65)); wireCode(err) != wire.CodeBadMessage {
		t.Fatalf("a long identity: %v", err)
	}

	out, err := ana.c.Call(ctx, calls.KindVideo, ben.id())
	if err != nil {
		t.Fatal(err)
	}
	ben.ringing()
	// Mallory, who knows the call id and even the room's name, gets nowhere.
	if _, err := mallory.c.Accept(ctx, out.Call.ID); wireCode(err) != calls.CodeNoSuchCall {
		t.Fatalf("Mallory accepting Ben's call: %v", err)
	}
	if _, err := mallory.c.InviteMore(ctx, out.Call.ID, mallory.id()); err == nil {
		t.Fatal("Mallory invited herself")
	}
	if _, err := mallory.c.Cancel(ctx, out.Call.ID); wireCode(err) != calls.CodeNoSuchCall {
		t.Fatalf("Mallory cancelling: %v", err)
	}
	_, err = client.Join(ctx, client.Config{Server: srv.URL, Room: out.Join.Room, Name: "Mallory", LoopbackOnly: true, ReconnectFor: -1})
	if wireCode(err) != calls.CodeNotInvited {
		t.Fatalf("Mallory joining the call's room with an open token: %v", err)
	}
	_, err = client.Join(ctx, client.Config{Server: srv.URL, Room: calls.RoomPrefix + "guess", Name: "Mallory", LoopbackOnly: true, ReconnectFor: -1})
	if wireCode(err) != calls.CodeNoSuchCall {
		t.Fatalf("Mallory joining a made-up call room: %v", err)
	}
	// Ben, rung but not yet accepted, may not enter either.
	tok := srv.Token(token.Claims{Identity: ben.id(), Name: "Ben", Room: out.Join.Room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	_, err = client.Join(ctx, client.Config{Server: srv.URL, Token: tok, Room: out.Join.Room, LoopbackOnly: true, ReconnectFor: -1})
	if wireCode(err) != calls.CodeNotInvited {
		t.Fatalf("Ben joining before accepting: %v", err)
	}
	// Ana, in a call, starts no other.
	if _, err := ana.c.Call(ctx, calls.KindVideo, mallory.id()); wireCode(err) != calls.CodeInCall {
		t.Fatalf("a second call: %v", err)
	}
	if _, err := ana.c.Cancel(ctx, out.Call.ID); err != nil {
		t.Fatal(err)
	}

	// Invitations are rate-limited: a burst of 10 invitees, then one more
	// every 2 s (counted per invitee, apart from the message rate).
	five := []string{ben.id()}
	for i := 0; i < 4; i++ {
		five = append(five, goOnline(t, srv, fmt.Sprintf("Extra %d", i)).id())
	}
	for i := 0; i < 2; i++ {
		o, err := mallory.c.Call(ctx, calls.KindAudio, five...)
		if err != nil {
			t.Fatalf("invitations %d-%d: %v", 5*i+1, 5*i+5, err)
		}
		if _, err := mallory.c.Cancel(ctx, o.Call.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, err = mallory.c.Call(ctx, calls.KindAudio, ben.id())
	if wireCode(err) != wire.CodeRateLimited || !strings.Contains(err.Error(), "invitations") {
		t.Fatalf("the 11th invitation: %v", err)
	}
}

// TestPresenceHello: what a hello may be.
func TestPresenceHello(t *testing.T) {
	open := servertest.Start(t)
	ctx := callCtx(t)
	for _, h := range []calls.Hello{
		{Key: "short", Name: "Ana"},
		{Key: strings.Repeat("k", 20), Name: ""},
		{Key: strings.Repeat("k", 20), Name: strings.Repeat("n", 65)},
		{Key: strings.Repeat("k", 20) + " x", Name: "Ana"},
	} {
		if _, err := calls.Dial(ctx, open.URL, h); err == nil {
			t.Fatalf("hello %+v accepted", h)
		}
	}
	// The same key is the same identity, on up to 4 connections.
	key := strings.Repeat("k", 20)
	first := goOnlineHello(t, open, calls.Hello{Key: key, Name: "Ana"})
	for i := 1; i < calls.MaxConnections; i++ {
		p := goOnlineHello(t, open, calls.Hello{Key: key, Name: "Ana"})
		if p.id() != first.id() {
			t.Fatalf("identity %q then %q", first.id(), p.id())
		}
	}
	if _, err := calls.Dial(ctx, open.URL, calls.Hello{Key: key, Name: "Ana"}); wireCode(err) != calls.CodeTooManyConnections {
		t.Fatalf("a fifth connection: %v", err)
	}

	// With tokens the identity is the token's, and a key is refused.
	closed := servertest.Start(t, servertest.Closed())
	if _, err := calls.Dial(ctx, closed.URL, calls.Hello{Key: key, Name: "Ana"}); wireCode(err) != wire.CodePermissionDenied {
		t.Fatalf("a key on a server with tokens: %v", err)
	}
	if _, err := calls.Dial(ctx, closed.URL, calls.Hello{Token: "nope"}); wireCode(err) != wire.CodeTokenInvalid {
		t.Fatalf("a bad token: %v", err)
	}
	tok := closed.Token(token.Claims{Identity: "ana@example.com", Name: "Ana", Room: "any", Grants: token.DefaultGrants()}, time.Hour, time.Now())
	p := goOnlineHello(t, closed, calls.Hello{Token: tok})
	if me := p.c.Me(); me.ID != "ana@example.com" || me.Name != "Ana" {
		t.Fatalf("signed in as %+v", me)
	}
}

// TestReadyComesFirstWhenManyComeOnline: people coming online at the same
// moment each get ready as their first frame, never someone else's
// person_online ahead of it (the Go client, like any client written from
// PROTOCOL.md §12, refuses a hello answered otherwise). Before ready was
// queued under the hub's lock, a bot coming online beside others failed
// this way now and then on a busy machine.
func TestReadyComesFirstWhenManyComeOnline(t *testing.T) {
	srv := servertest.Start(t)
	const n = 24 // within the per-address connection allowance (§2)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	clients := make(chan *calls.Client, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			c, err := calls.Dial(ctx, srv.URL, calls.Hello{Key: hex.EncodeToString(b), Name: fmt.Sprintf("P%d", i)})
			if err != nil {
				errs <- err
				return
			}
			clients <- c
		}()
	}
	wg.Wait()
	close(errs)
	close(clients)
	for c := range clients {
		c.Close()
	}
	for err := range errs {
		t.Fatalf("coming online beside %d others: %v", n-1, err)
	}
}
