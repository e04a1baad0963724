package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// goPeer is a receive-only Go client in the page's room and the events
// it has received.
type goPeer struct {
	s  *client.Session
	mu sync.Mutex
	ev []client.Event
}

func joinGoPeer(t *testing.T, server, room, name string) *goPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Join(ctx, client.Config{Server: server, Room: room, Name: name, LoopbackOnly: true})
	if err != nil {
		t.Fatalf("Go client %s: %v", name, err)
	}
	p := &goPeer{s: s}
	go func() {
		for ev := range s.Events() {
			p.mu.Lock()
			p.ev = append(p.ev, ev)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { s.Leave() })
	return p
}

// waitFor polls cond over the events until it holds, failing t after d.
func (p *goPeer) waitFor(t *testing.T, d time.Duration, what string, cond func([]client.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		p.mu.Lock()
		ok := cond(p.ev)
		p.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			p.mu.Lock()
			for _, ev := range p.ev {
				t.Logf("%T %+v", ev, ev)
			}
			p.mu.Unlock()
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// handOf is the latest hand_raised_at of participant id among evs.
func handOf(evs []client.Event, id string) int64 {
	var at int64
	for _, ev := range evs {
		switch e := ev.(type) {
		case client.Welcome:
			for _, p := range e.Participants {
				if p.ID == id {
					at = p.HandRaisedAt
				}
			}
		case client.ParticipantJoined:
			if e.Participant.ID == id {
				at = e.Participant.HandRaisedAt
			}
		case client.ParticipantUpdated:
			if e.Participant.ID == id {
				at = e.Participant.HandRaisedAt
			}
		}
	}
	return at
}

func reacted(evs []client.Event, from, emoji string) bool {
	for _, ev := range evs {
		if r, ok := ev.(client.ReactionReceived); ok && r.From == from && r.Emoji == emoji {
			return true
		}
	}
	return false
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// presenceJS shows the page's hands and reactions in failure messages.
const presenceJS = "({state: window.confabTest.state(), shown: window.confabTest.shown(), toast: document.querySelector('#toast').textContent})"

// TestGuestRaiseHandAndReact: on the guest page Chromium raises its hand
// with the button and reacts through the picker and the test hook, and a
// Go client sees both; the Go client raises its hand (second in line) and
// reacts, and the page shows the numbered badge, a notice and the
// reaction over its tile, which goes after about 4 s; after a server
// restart the page raises its hand again; hands come down on both sides. With CONFAB_SCREENSHOTS set it saves guest-reactions.png
// there (two hands up, reactions floating).
func TestGuestRaiseHandAndReact(t *testing.T) {
	srv := servertest.Start(t)
	requireGuestPage(t, srv.URL)
	b := Start(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	room := fmt.Sprintf("hands-%d", rand.IntN(1e6))
	grace := joinGoPeer(t, srv.URL, room, "Grace")
	linus := joinGoPeer(t, srv.URL, room, "Linus")
	graceID, linusID := grace.s.Self().ID, linus.s.Self().ID

	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	g, err := b.OpenGuest(octx, srv.URL+"/r/"+room)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Join(octx, "Ana", room); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the page is in the call with Grace and Linus",
		`window.confabTest.state().phase === "call" && window.confabTest.state().participants.length === 2`, StateJS)
	st, err := g.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ana := st.You

	// The page raises its hand with the button.
	if err := g.Click(ctx, "#hand"); err != nil {
		t.Fatal(err)
	}
	grace.waitFor(t, 30*time.Second, "Grace sees Ana's hand", func(evs []client.Event) bool { return handOf(evs, ana) != 0 })
	g.MustWait(t, 30*time.Second, "the page's own tile has a hand badge, and #hand is pressed",
		`window.confabTest.shown().hands.some(h => h.participant === window.confabTest.state().you && h.text === "✋") &&
		 document.querySelector("#hand").getAttribute("aria-pressed") === "true" && window.confabTest.state().self.hand > 0`, presenceJS)

	// It reacts through the picker, and through the hook.
	if err := g.Click(ctx, "#react"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 10*time.Second, "the picker open with every reaction",
		fmt.Sprintf(`!document.querySelector("#reaction-picker").hidden &&
			[...document.querySelectorAll("#reaction-picker button")].map(b => b.textContent).join(" ") === %s`, js(strings.Join(wire.Reactions, " "))), presenceJS)
	if err := g.Click(ctx, fmt.Sprintf(`#reaction-picker button[data-emoji=%s]`, js(wire.ReactionParty))); err != nil {
		t.Fatal(err)
	}
	grace.waitFor(t, 30*time.Second, "Grace gets Ana's 🎉", func(evs []client.Event) bool { return reacted(evs, ana, wire.ReactionParty) })
	var sent bool
	if err := g.Eval(ctx, fmt.Sprintf("window.confabTest.react(%s)", js(wire.ReactionThumbsUp)), &sent); err != nil || !sent {
		t.Fatalf("confabTest.react(👍) = %v, %v", sent, err)
	}
	if err := g.Eval(ctx, fmt.Sprintf("window.confabTest.react(%s)", js("\u2764")), &sent); err != nil || sent {
		t.Fatalf("confabTest.react(U+2764 without U+FE0F) = %v, %v; want false (not in the list)", sent, err)
	}
	linus.waitFor(t, 30*time.Second, "Linus gets Ana's 👍", func(evs []client.Event) bool { return reacted(evs, ana, wire.ReactionThumbsUp) })
	g.MustWait(t, 30*time.Second, "the page got its own reactions back",
		fmt.Sprintf(`(() => { const s = window.confabTest.state(); return [%s, %s].every(e => s.reactions.some(r => r.from === s.you && r.emoji === e)); })()`,
			js(wire.ReactionParty), js(wire.ReactionThumbsUp)), presenceJS)
	if err := g.Eval(ctx, `document.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true})); document.querySelector("#reaction-picker").hidden`, &sent); err != nil || !sent {
		t.Errorf("a click elsewhere does not close the picker (%v)", err)
	}

	// Grace raises her hand, second in line, and reacts: the page shows it.
	if err := grace.s.SetHandRaised(true); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 30*time.Second, "Grace's badge says 2, Ana's 1, Linus has none, and a notice tells",
		fmt.Sprintf(`(() => { const h = window.confabTest.shown().hands, you = window.confabTest.state().you;
			return h.length === 2 && h.some(x => x.participant === %s && x.text === "✋ 2") &&
				h.some(x => x.participant === you && x.text === "✋ 1") &&
				document.querySelector("#toast").textContent === "Grace raised their hand"; })()`, js(graceID)), presenceJS)
	if err := grace.s.React(wire.ReactionHeart); err != nil {
		t.Fatal(err)
	}
	if err := g.Eval(ctx, fmt.Sprintf("window.confabTest.react(%s)", js(wire.ReactionClap)), &sent); err != nil || !sent {
		t.Fatalf("confabTest.react(👏) = %v, %v", sent, err)
	}
	g.MustWait(t, 30*time.Second, "❤️ over Grace's tile and 👏 over the page's own",
		fmt.Sprintf(`(() => { const r = window.confabTest.shown().reactions, you = window.confabTest.state().you;
			return r.some(x => x.participant === %s && x.emoji === %s) && r.some(x => x.participant === you && x.emoji === %s); })()`,
			js(graceID), js(wire.ReactionHeart), js(wire.ReactionClap)), presenceJS)
	var text string
	if err := g.Eval(ctx, fmt.Sprintf(`document.querySelector(%s).textContent`, js(`.tile[data-key="cam:`+graceID+`"] .reaction-float`)), &text); err != nil || text != wire.ReactionHeart {
		t.Errorf("Grace's tile shows %q (%v); want the heart as text", text, err)
	}
	time.Sleep(900 * time.Millisecond) // the reactions float up, fully opaque
	shootPage(t, g, "guest-reactions.png")
	phoneControls(t, g)
	g.MustWait(t, 15*time.Second, "the reactions gone after about 4 s",
		`window.confabTest.shown().reactions.length === 0`, presenceJS)

	// Hands come down: Grace's with the Go API, the page's with the hook.
	if err := grace.s.SetHandRaised(false); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 30*time.Second, "only the page's hand left, badge without a number",
		`(() => { const h = window.confabTest.shown().hands; return h.length === 1 && h[0].participant === window.confabTest.state().you && h[0].text === "✋"; })()`, presenceJS)

	// The server restarts: it forgets every hand, and the page, still with
	// its hand up, raises it again after its rejoin.
	n := len(linus.snapshot())
	srv.Restart()
	linus.s.ReconnectNow()
	g.MustWait(t, 60*time.Second, "the page back in the call with its hand raised again",
		`window.confabTest.state().phase === "call" && window.confabTest.state().self.hand > 0 && window.confabTest.state().participants.length === 2 &&
		 window.confabTest.shown().hands.some(h => h.participant === window.confabTest.state().you)`, presenceJS)
	linus.waitFor(t, 60*time.Second, "Linus, rejoined, sees Ana's hand up again", func(evs []client.Event) bool {
		rejoined := false
		for _, ev := range evs[n:] {
			if w, ok := ev.(client.Welcome); ok && w.Rejoined {
				rejoined = true
			}
		}
		return rejoined && handOf(evs[n:], ana) != 0
	})

	if err := g.Eval(ctx, "window.confabTest.raiseHand(false)", &sent); err != nil || !sent {
		t.Fatalf("confabTest.raiseHand(false) = %v, %v", sent, err)
	}
	linus.waitFor(t, 30*time.Second, "Linus sees Ana's hand down", func(evs []client.Event) bool {
		return handOf(evs, ana) == 0 && handOf(evs, graceID) == 0 && reacted(evs, graceID, wire.ReactionHeart)
	})
	g.MustWait(t, 30*time.Second, "no hand badge left, #hand not pressed",
		`window.confabTest.shown().hands.length === 0 && document.querySelector("#hand").getAttribute("aria-pressed") === "false"`, presenceJS)
	if h := handOf(linus.snapshot(), linusID); h != 0 {
		t.Errorf("Linus's own hand is %d; he never raised it", h)
	}
	st, err = g.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ProtocolViolations) > 0 {
		t.Errorf("the page saw protocol violations: %q", st.ProtocolViolations)
	}
	for _, l := range g.Logs() {
		t.Logf("page: %s", l)
	}
}

func (p *goPeer) snapshot() []client.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]client.Event(nil), p.ev...)
}

// phoneControls checks at the width of a 360x740 phone that the page does
// not scroll sideways and every call control, #hand and #react included,
// is fully on screen; then it goes back to 1280x800.
func phoneControls(t *testing.T, g *Guest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.SetViewport(ctx, 360, 740, true); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.SetViewport(ctx, 1280, 800, false); err != nil {
			t.Fatal(err)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	shootPage(t, g, "guest-reactions-360.png")
	var got struct {
		ScrollWidth, InnerWidth int
		Off                     []string
	}
	err := g.Eval(ctx, `(() => {
		const off = [];
		for (const el of document.querySelectorAll(".controls .control")) {
			if (el.hidden) continue;
			const r = el.getBoundingClientRect();
			if (r.width < 36 || r.left < 0 || r.right > innerWidth || r.top < 0 || r.bottom > innerHeight)
				off.push("#" + el.id + " at " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(","));
		}
		return {ScrollWidth: document.documentElement.scrollWidth, InnerWidth: innerWidth, Off: off};
	})()`, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("at 360 px the page is %d px wide: it scrolls sideways", got.ScrollWidth)
	}
	if len(got.Off) > 0 {
		t.Errorf("at 360x740, call controls not fully on screen or narrower than 36 px: %v", got.Off)
	}
}

// shootPage saves a screenshot of the page to $CONFAB_SCREENSHOTS/name.
func shootPage(t *testing.T, g *Guest, name string) {
	dir := os.Getenv("CONFAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	png, err := g.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", filepath.Join(dir, name))
}
