package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
)

// supportJS shows the widget's state in failure messages.
const supportJS = "window.confabSupport.state()"

// agentEvents reads a Go agent's events for waiting on.
type agentEvents struct {
	t  *testing.T
	a  *support.Agent
	ev []support.Event
}

func (e *agentEvents) wait(d time.Duration, what string, match func(support.Event) bool) support.Event {
	e.t.Helper()
	for _, ev := range e.ev {
		if match(ev) {
			return ev
		}
	}
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-e.a.Events():
			if !ok {
				e.t.Fatalf("%s: the agent's connection closed", what)
			}
			e.ev = append(e.ev, ev)
			if match(ev) {
				return ev
			}
		case <-deadline:
			var b strings.Builder
			for _, ev := range e.ev {
				fmt.Fprintf(&b, "\n  %T %+v", ev, ev)
			}
			e.t.Fatalf("%s: not within %v; agent events:%s", what, d, b.String())
		}
	}
}

// signInAgent makes an agent in srv's store and signs it in.
func signInAgent(t *testing.T, srv *servertest.Server, name string) *agentEvents {
	t.Helper()
	id, key, hash, err := support.NewAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Data.Store.AddAgent(context.Background(), store.Agent{ID: id, Name: name, KeyHash: hash}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := support.DialAgent(ctx, srv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &agentEvents{t: t, a: a}
}

// openWidget opens /support in a new tab and starts a conversation as
// name with text; it returns the page and the conversation's id.
func openWidget(t *testing.T, ctx context.Context, b *Browser, server, name, text string) (*Page, string) {
	t.Helper()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, server+"/support"); err != nil {
		t.Fatal(err)
	}
	p.MustWait(t, 30*time.Second, "the widget's form", `window.confabSupport && window.confabSupport.state().phase === "form"`, supportJS)
	for sel, v := range map[string]string{"#s-name": name, "#s-email": strings.ToLower(name) + "@example.com", "#s-text": text} {
		if err := p.Type(ctx, sel, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Click(ctx, "#start"); err != nil {
		t.Fatal(err)
	}
	p.MustWait(t, 30*time.Second, "the conversation open", fmt.Sprintf(`(() => { const s = window.confabSupport.state();
		return s.phase === "chat" && s.connected && s.messages.some(m => m.seq === 1 && m.text === %q); })()`, text), supportJS)
	var conv string
	if err := p.Eval(ctx, `window.confabSupport.state().conversation`, &conv); err != nil {
		t.Fatal(err)
	}
	return p, conv
}

// TestSupportDeskWithBrowser runs the support desk's whole flow with
// headless Chromium as the customer: the widget, chat both ways, the
// agent's Start video, the link in the chat, the customer joining the call
// from it, the agent brought in when the customer entered (a Go agent
// client hears customer_entered and starts a confab-bot with the call's
// token: the agent's camera and microphone), media both ways, the
// customer's leave, the rating form, the rating stored, the agent closing
// the conversation and the widget showing it. It logs the time from the
// customer's click on the link to both sides decoding video. With
// CONFAB_SCREENSHOTS set it saves support-widget.png and
// support-feedback.png there.
func TestSupportDeskWithBrowser(t *testing.T) {
	srv := servertest.Start(t, servertest.Closed())
	requireGuestPage(t, srv.URL)
	b := Start(t, Options{})
	bin := botBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	agent := signInAgent(t, srv, "Sam")

	w, conv := openWidget(t, ctx, b, srv.URL, "Ada", "Hello, my parcel arrived broken.")
	agent.wait(30*time.Second, "the new conversation announced", func(ev support.Event) bool {
		s, ok := ev.(*support.Summary)
		return ok && s.ID == conv && s.New && s.Unread == 1 && s.Name == "Ada"
	})
	agent.a.Open(conv, 0)
	agent.wait(30*time.Second, "its history", func(ev support.Event) bool { h, ok := ev.(*support.History); return ok && len(h.Messages) == 1 })
	agent.a.MarkRead(conv, 1)
	agent.a.Send(conv, "r-1", "Sorry to hear that, Ada. Can you show me?")
	w.MustWait(t, 30*time.Second, "the agent's answer in the widget",
		`window.confabSupport.state().messages.some(m => m.from === "agent" && m.name === "Sam" && m.text.startsWith("Sorry to hear"))`, supportJS)
	if err := w.Type(ctx, "#s-input", "Sure, one moment."); err != nil {
		t.Fatal(err)
	}
	if err := w.Click(ctx, "#s-send"); err != nil {
		t.Fatal(err)
	}
	agent.wait(30*time.Second, "the customer's message", func(ev support.Event) bool {
		m, ok := ev.(*support.Message)
		return ok && m.Conversation == conv && m.From == support.FromCustomer && m.Text == "Sure, one moment."
	})

	// Start video: the widget shows a button with the link.
	agent.a.StartVideo(conv)
	v := agent.wait(30*time.Second, "the video call", func(ev support.Event) bool { _, ok := ev.(*support.Video); return ok }).(*support.Video)
	w.MustWait(t, 30*time.Second, "the video button in the widget",
		fmt.Sprintf(`(() => { const a = document.querySelector("a.video-link"); return a && a.getAttribute("href") === %q && a.target === "_blank"; })()`, v.Link), supportJS)
	screenshotPage(t, ctx, w, "support-widget.png")

	// The customer clicks it: the test opens what the button points at in
	// a new tab (the click would open a tab too).
	clicked := time.Now()
	g, err := b.OpenGuest(ctx, srv.URL+v.Link)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := g.Eval(ctx, `document.querySelector("#name").value`, &name); err != nil || name != "Ada" {
		t.Errorf("the call's page has the name %q (%v), want Ada from the widget", name, err)
	}
	if err := g.JoinInvite(ctx, "Ada"); err != nil {
		t.Fatal(err)
	}
	agent.wait(60*time.Second, "the customer entered", func(ev support.Event) bool {
		e, ok := ev.(*support.CustomerEntered)
		return ok && e.Room == v.Room && e.Name == "Ada"
	})
	entered := time.Now()
	// The agent's side joins at once with the call's token.
	bot := StartBot(t, bin, srv.URL, v.Room, "Sam", append([]string{"--token", v.Token}, botArgs...)...)
	bot.Wait(t, 60*time.Second, "the agent's bot joined", func(r BotReport) bool { return true })
	agentID := bot.Report().Identity
	g.MustWait(t, 90*time.Second, "the customer decodes the agent's video",
		fmt.Sprintf(`(async () => { const s = (await window.confabTest.stats())[%q]; return s && s.videoFrames > 0; })()`, agentID), StateJS)
	bot.Wait(t, 90*time.Second, "the agent decodes the customer's video", func(r BotReport) bool { return r.Remote["Ada"].Frames > 0 })
	both := time.Now()
	t.Logf("support call: click on the link -> customer in the call and the agent told %.1fs; -> both sides decoding video %.1fs",
		entered.Sub(clicked).Seconds(), both.Sub(clicked).Seconds())

	c := &call{ctx: ctx, b: b, g: g, bots: []*Bot{bot}, name: "Ada", room: v.Room}
	c.mediaBothWays(t)
	c.noViolations(t)
	w.MustWait(t, 30*time.Second, "a note in the widget that Ada joined the call",
		`window.confabSupport.state().messages.some(m => m.from === "system" && m.text === "Ada joined the video call.")`, supportJS)

	// The customer leaves and rates the call.
	if err := g.Click(ctx, "#leave"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 30*time.Second, "the rating form", `window.confabTest.state().feedback === "asked" && !document.querySelector("#feedback").hidden &&
		document.querySelector("#feedback-title").textContent === "How was your call with Sam?"`, StateJS)
	if err := g.Click(ctx, `#stars button[data-rating="4"]`); err != nil {
		t.Fatal(err)
	}
	if err := g.Type(ctx, "#feedback-comment", "Helpful, thanks"); err != nil {
		t.Fatal(err)
	}
	screenshotPage(t, ctx, g.Page, "support-feedback.png")
	if err := g.Click(ctx, "#feedback-send"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 30*time.Second, "the thanks", `window.confabTest.state().feedback === "sent" && !document.querySelector("#feedback-thanks").hidden`, StateJS)
	sc, err := srv.Data.Store.Call(ctx, v.Room)
	if err != nil || sc.Rating != 4 || sc.Comment != "Helpful, thanks" || sc.Conversation != conv {
		t.Fatalf("stored call %+v, %v", sc, err)
	}
	agent.wait(30*time.Second, "the rating told to the agent", func(ev support.Event) bool {
		m, ok := ev.(*support.Message)
		return ok && m.Conversation == conv && strings.HasPrefix(m.Text, "Ada rated the video call 4 of 5.")
	})
	bot.Stop(t)
	agent.wait(30*time.Second, "the call over for the agent", func(ev support.Event) bool { e, ok := ev.(*support.VideoEnded); return ok && e.Room == v.Room })

	// The agent closes the conversation; the widget says so.
	agent.a.CloseConversation(conv)
	w.MustWait(t, 30*time.Second, "the widget closed", `(() => { const s = window.confabSupport.state();
		return s.phase === "closed" && s.closedBy === "Sam" && document.querySelector("#closed-note").textContent === "Sam closed this conversation." &&
			document.querySelector("#send-form").hidden; })()`, supportJS)
}

// TestSupportTwoCustomersInBrowsers: two widget tabs, one agent; each
// conversation has its own unread count and messages, each customer sees
// only theirs, and a reload of a widget resumes its conversation.
func TestSupportTwoCustomersInBrowsers(t *testing.T) {
	srv := servertest.Start(t)
	requireGuestPage(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	agent := signInAgent(t, srv, "Sam")
	// Two browsers: two customers with their own storage.
	var pages [2]*Page
	var convs [2]string
	for i, name := range []string{"Ada", "Bob"} {
		b := Start(t, Options{})
		pages[i], convs[i] = openWidget(t, ctx, b, srv.URL, name, "Question from "+name)
		if err := pages[i].Type(ctx, "#s-input", "Are you there? ("+name+")"); err != nil {
			t.Fatal(err)
		}
		if err := pages[i].Click(ctx, "#s-send"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range convs {
		agent.wait(30*time.Second, "two unread in each", func(ev support.Event) bool {
			s, ok := ev.(*support.Summary)
			return ok && s.ID == convs[i] && s.Unread == 2 && s.WaitingSince > 0
		})
	}
	for i, name := range []string{"Ada", "Bob"} {
		agent.a.Send(convs[i], "r-1", "Yes, "+name+"!")
	}
	for i, name := range []string{"Ada", "Bob"} {
		pages[i].MustWait(t, 30*time.Second, name+" gets their answer", fmt.Sprintf(`window.confabSupport.state().messages.some(m => m.text === %q)`, "Yes, "+name+"!"), supportJS)
		var n int
		pages[i].Eval(ctx, `window.confabSupport.state().messages.filter(m => m.text.startsWith("Yes, ")).length`, &n)
		if n != 1 {
			t.Errorf("%s sees %d answers, want only theirs", name, n)
		}
	}
	// A reload resumes the conversation with all of it.
	if err := pages[0].Eval(ctx, `window.beforeReload = true; location.reload()`, nil); err != nil {
		t.Logf("reload: %v", err)
	}
	pages[0].MustWait(t, 30*time.Second, "the reloaded widget resumes", `!window.beforeReload && window.confabSupport && (() => { const s = window.confabSupport.state();
		return s.phase === "chat" && s.connected && s.messages.length === 3 && s.messages[2].text === "Yes, Ada!"; })()`, supportJS)
}

// screenshotPage saves p's viewport to $CONFAB_SCREENSHOTS/name when that
// is set.
func screenshotPage(t *testing.T, ctx context.Context, p *Page, name string) {
	t.Helper()
	dir := os.Getenv("CONFAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
