package server_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// presenceWait bounds every wait of these tests: generous, for a busy machine.
const presenceWait = 20 * time.Second

// joinAs joins receive-only as identity id (so a second join is the same
// participant again), without reconnecting.
func joinAs(t *testing.T, srv *servertest.Server, room, id, name string) *client.Session {
	t.Helper()
	tok := srv.Token(token.Claims{Identity: id, Name: name, Room: room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	s, err := joinWith(t, srv, room, tok, false)
	if err != nil {
		t.Fatalf("join %s: %v", name, err)
	}
	t.Cleanup(func() { s.Leave() })
	return s
}

// latest returns the newest state of participant id that c has seen
// (Welcome, ParticipantJoined, ParticipantUpdated); c.mu must be held.
func latest(c *collector, id string) (client.Participant, bool) {
	var p client.Participant
	found := false
	for _, ev := range c.all {
		switch e := ev.(type) {
		case client.Welcome:
			if e.You.ID == id {
				p, found = e.You, true
			}
			for _, q := range e.Participants {
				if q.ID == id {
					p, found = q, true
				}
			}
		case client.ParticipantJoined:
			if e.Participant.ID == id {
				p, found = e.Participant, true
			}
		case client.ParticipantUpdated:
			if e.Participant.ID == id {
				p, found = e.Participant, true
			}
		case client.ParticipantLeft:
			if e.ID == id {
				p, found = client.Participant{}, false
			}
		}
	}
	return p, found
}

func handUp(c *collector, id string) int64 {
	p, _ := latest(c, id)
	return p.HandRaisedAt
}

// TestRaisedHands: a raised hand reaches the others and the raiser (Self),
// in the order hands went up; a late joiner finds it in joined; lowering
// and raising again goes to the back of the queue; a hand does not outlive
// a leave.
func TestRaisedHands(t *testing.T) {
	srv := servertest.Start(t)
	ada := joinAs(t, srv, "hands", "ada", "Ada")
	ca := collect(ada)
	grace := joinOpen(t, srv, "hands", "Grace")
	cg := collect(grace)
	cg.waitFor(t, presenceWait, "Grace's welcome", func(c *collector) bool { return c.welcome.Room != "" })
	graceID := grace.Self().ID
	ca.waitFor(t, presenceWait, "Ada sees Grace", func(c *collector) bool { _, ok := latest(c, graceID); return ok })

	before := time.Now().UnixMilli()
	if err := ada.SetHandRaised(true); err != nil {
		t.Fatal(err)
	}
	cg.waitFor(t, presenceWait, "Grace sees Ada's hand", func(c *collector) bool { return handUp(c, "ada") != 0 })
	ca.waitFor(t, presenceWait, "Ada's own update", func(c *collector) bool { return handUp(c, "ada") != 0 })
	adaAt := ada.Self().HandRaisedAt
	if adaAt < before || adaAt > time.Now().UnixMilli()+1000 {
		t.Fatalf("Ada's Self().HandRaisedAt = %d; want about %d", adaAt, before)
	}
	cg.mu.Lock()
	seen := handUp(cg, "ada")
	cg.mu.Unlock()
	if seen != adaAt {
		t.Fatalf("Grace sees Ada's hand raised at %d, Ada at %d", seen, adaAt)
	}

	// Raising again changes nothing; Grace raises after Ada.
	if err := ada.SetHandRaised(true); err != nil {
		t.Fatal(err)
	}
	if err := grace.SetHandRaised(true); err != nil {
		t.Fatal(err)
	}
	ca.waitFor(t, presenceWait, "Ada sees Grace's hand", func(c *collector) bool { return handUp(c, graceID) != 0 })
	cg.waitFor(t, presenceWait, "Grace's own update", func(c *collector) bool { return handUp(c, graceID) != 0 })
	if got := ada.Self().HandRaisedAt; got != adaAt {
		t.Errorf("raising a raised hand moved it from %d to %d", adaAt, got)
	}
	graceAt := grace.Self().HandRaisedAt
	if graceAt <= adaAt {
		t.Errorf("Grace raised after Ada but has hand_raised_at %d <= Ada's %d", graceAt, adaAt)
	}

	// A late joiner gets both hands, in order, in joined.
	linus := joinOpen(t, srv, "hands", "Linus")
	cl := collect(linus)
	cl.waitFor(t, presenceWait, "Linus's welcome", func(c *collector) bool { return c.welcome.Room != "" })
	cl.mu.Lock()
	got := map[string]int64{}
	for _, p := range cl.welcome.Participants {
		got[p.ID] = p.HandRaisedAt
	}
	if cl.welcome.You.HandRaisedAt != 0 {
		t.Errorf("Linus joined with his hand up: %+v", cl.welcome.You)
	}
	cl.mu.Unlock()
	if got["ada"] != adaAt || got[graceID] != graceAt {
		t.Fatalf("Linus's joined: hands %v; want ada %d, Grace %d", got, adaAt, graceAt)
	}

	// Lowered: everyone sees it; raised again: behind Grace now.
	if err := ada.SetHandRaised(false); err != nil {
		t.Fatal(err)
	}
	cl.waitFor(t, presenceWait, "Linus sees Ada's hand go down", func(c *collector) bool { return handUp(c, "ada") == 0 })
	ca.waitFor(t, presenceWait, "Ada's hand down", func(c *collector) bool { return handUp(c, "ada") == 0 })
	if ada.Self().HandRaisedAt != 0 {
		t.Fatalf("Ada's Self after lowering: %+v", ada.Self())
	}
	if err := ada.SetHandRaised(true); err != nil {
		t.Fatal(err)
	}
	cl.waitFor(t, presenceWait, "Linus sees Ada's hand again", func(c *collector) bool { return handUp(c, "ada") != 0 })
	cl.mu.Lock()
	again := handUp(cl, "ada")
	cl.mu.Unlock()
	if again <= graceAt {
		t.Errorf("Ada's hand raised again at %d, not after Grace's %d", again, graceAt)
	}

	// Ada leaves with her hand up and comes back: the hand stayed behind.
	ada.Leave()
	cl.waitFor(t, presenceWait, "Linus sees Ada leave", func(c *collector) bool { _, ok := latest(c, "ada"); return !ok })
	if err := ada.SetHandRaised(true); !errors.Is(err, client.ErrClosed) {
		t.Errorf("SetHandRaised after Leave: %v; want ErrClosed", err)
	}
	back := joinAs(t, srv, "hands", "ada", "Ada")
	if h := back.Self().HandRaisedAt; h != 0 {
		t.Errorf("Ada rejoined after leaving with her hand up at %d", h)
	}
	cl.waitFor(t, presenceWait, "Linus sees Ada again", func(c *collector) bool { _, ok := latest(c, "ada"); return ok })
	if h := handUp(cl, "ada"); h != 0 {
		t.Errorf("Linus sees the returning Ada with her hand up at %d", h)
	}
}

// reactions returns the reactions c has received.
func reactions(c *collector) []client.ReactionReceived {
	var out []client.ReactionReceived
	for _, ev := range c.all {
		if r, ok := ev.(client.ReactionReceived); ok {
			out = append(out, r)
		}
	}
	return out
}

// TestReactionReachesEveryone: a reaction comes back to its sender and
// reaches the others, with the sender's id and the server's time; the
// client refuses an emoji outside the list before sending.
func TestReactionReachesEveryone(t *testing.T) {
	srv := servertest.Start(t)
	ada := joinOpen(t, srv, "reactions", "Ada")
	ca := collect(ada)
	grace := joinOpen(t, srv, "reactions", "Grace")
	cg := collect(grace)
	cg.waitFor(t, presenceWait, "Grace's welcome", func(c *collector) bool { return c.welcome.Room != "" })
	ca.waitFor(t, presenceWait, "Ada's welcome", func(c *collector) bool { return c.welcome.Room != "" })

	if err := ada.React("nope"); !errors.Is(err, wire.ErrBadReaction) {
		t.Errorf("React(nope): %v; want wire.ErrBadReaction", err)
	}
	if err := ada.React("\u2764"); !errors.Is(err, wire.ErrBadReaction) {
		t.Errorf("React(U+2764 without U+FE0F): %v; want wire.ErrBadReaction", err)
	}
	before := time.Now().Add(-time.Second)
	for _, e := range []string{wire.ReactionHeart, wire.ReactionParty} {
		if err := ada.React(e); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]*collector{"Ada": ca, "Grace": cg} {
		c.waitFor(t, presenceWait, name+" gets both reactions", func(c *collector) bool { return len(reactions(c)) >= 2 })
		c.mu.Lock()
		rs := reactions(c)
		c.mu.Unlock()
		for i, want := range []string{wire.ReactionHeart, wire.ReactionParty} {
			r := rs[i]
			if r.From != ada.Self().ID || r.Emoji != want || r.At.Before(before) || r.At.After(time.Now().Add(time.Second)) {
				t.Errorf("%s: reaction %d is %+v; want %+q from %s now", name, i, r, want, ada.Self().ID)
			}
		}
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "confab_reactions_total 2\n") {
		t.Errorf("/metrics does not count 2 reactions:\n%s", body)
	}
}

// TestPresenceRefusals: an emoji outside the list and a set_hand without
// raised get a non-fatal bad_message that names the problem, and the
// connection goes on working.
func TestPresenceRefusals(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "refusals", "mallory")
	cases := []struct {
		raw, want string
	}{
		{`{"v":1,"type":"react","data":{"emoji":"\u2764"}}`, `emoji "\u2764": not one of the allowed reactions (allowed: 👍 👏 😂 😮 ❤️ 🎉 🙌 🤔)`},
		{`{"v":1,"type":"react","data":{"emoji":"<img src=x onerror=alert(1)>"}}`, "not one of the allowed reactions"},
		{`{"v":1,"type":"react","data":{"emoji":"` + strings.Repeat("👍", 1000) + `"}}`, "not one of the allowed reactions"},
		{`{"v":1,"type":"react","data":{"emoji":""}}`, "emoji: empty"},
		{`{"v":1,"type":"react","data":{}}`, "emoji: empty"},
		{`{"v":1,"type":"set_hand","data":{}}`, "raised: empty"},
		{`{"v":1,"type":"set_hand","data":{"raised":"yes"}}`, "cannot unmarshal"},
		{`{"v":1,"type":"reaction","data":{"from":"x","emoji":"👍","at":1}}`, "a client does not send reaction"},
	}
	for _, tc := range cases {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(tc.raw)); err != nil {
			t.Fatal(err)
		}
		e := expectError(t, ws)
		if e.Code != wire.CodeBadMessage || e.Fatal || !strings.Contains(e.Message, tc.want) || len(e.Message) > 300 {
			t.Errorf("%.70s: error %+v; want non-fatal bad_message saying %q", tc.raw, e, tc.want)
		}
	}
	// Still joined and working.
	send(t, ws, wire.TypeReact, wire.React{Emoji: wire.ReactionThumbsUp})
	var r wire.Reaction
	expect(t, ws, wire.TypeReaction, &r)
	if r.From != "mallory" || r.Emoji != wire.ReactionThumbsUp {
		t.Fatalf("reaction after refusals: %+v", r)
	}
	send(t, ws, wire.TypeSetHand, wire.SetHand{Raised: true})
	var pe wire.ParticipantEvent
	expect(t, ws, wire.TypeParticipantUpdated, &pe)
	if pe.Participant.ID != "mallory" || pe.Participant.HandRaisedAt == 0 {
		t.Fatalf("set_hand after refusals: %+v", pe.Participant)
	}
}

// TestReactionRateLimit: at most 5 reactions in 2 s; more get a non-fatal
// rate_limited and reach nobody; the connection stays open and reactions
// are let through again once the window has passed.
func TestReactionRateLimit(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "ratelimit", "eager")
	watcher, _ := rawJoin(t, srv, "ratelimit", "watcher")
	const sent = 8
	start := time.Now()
	for i := 0; i < sent; i++ {
		send(t, ws, wire.TypeReact, wire.React{Emoji: wire.ReactionClap})
	}
	// Each reaction comes back as a reaction or an error, in order.
	var accepted, limited int
	_ = ws.SetReadDeadline(time.Now().Add(presenceWait))
	for accepted+limited < sent {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d reactions and %d refusals: %v", accepted, limited, err)
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			t.Fatal(err)
		}
		switch env.Type {
		case wire.TypeReaction:
			accepted++
		case wire.TypeError:
			var e wire.Error
			if err := wire.DecodeData(env, &e); err != nil {
				t.Fatal(err)
			}
			if e.Code != wire.CodeRateLimited || e.Fatal || !strings.Contains(e.Message, "too many reactions") {
				t.Fatalf("error %+v; want non-fatal rate_limited about reactions", e)
			}
			limited++
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d reactions let through, %d refused, in %v", accepted, limited, elapsed.Round(time.Millisecond))
	if elapsed < 2*time.Second && (accepted != 5 || limited != sent-5) {
		t.Fatalf("within %v: %d let through, %d refused; want 5 and %d", elapsed, accepted, limited, sent-5)
	}
	if limited == 0 {
		t.Fatalf("no reaction refused (took %v)", elapsed)
	}
	// The watcher got exactly those let through.
	got := 0
	_ = watcher.SetReadDeadline(time.Now().Add(presenceWait))
	for got < accepted {
		_, b, err := watcher.ReadMessage()
		if err != nil {
			t.Fatalf("watcher got %d of %d reactions: %v", got, accepted, err)
		}
		if env, err := wire.DecodeEnvelope(b); err == nil && env.Type == wire.TypeReaction {
			got++
		}
	}
	// After the window, reactions pass again on the same connection.
	time.Sleep(2100 * time.Millisecond)
	send(t, ws, wire.TypeReact, wire.React{Emoji: wire.ReactionJoy})
	var r wire.Reaction
	expect(t, ws, wire.TypeReaction, &r)
	if r.Emoji != wire.ReactionJoy {
		t.Fatalf("reaction after the window: %+v", r)
	}
	// The watcher sees that one next: nothing refused leaked to it.
	var wr wire.Reaction
	expect(t, watcher, wire.TypeReaction, &wr)
	if wr.Emoji != wire.ReactionJoy {
		t.Fatalf("watcher's next reaction is %+v; want the one after the window", wr)
	}
}
