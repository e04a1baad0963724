package browsertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
)

// botBin builds (or finds, with CONFAB_BOT_BIN) the confab-bot binary.
func botBin(t testing.TB) string {
	t.Helper()
	bin, err := testbin.Build(t.TempDir(), "./cmd/confab-bot", "CONFAB_BOT_BIN")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// botArgs keep two bots, Chromium and the server within two busy cores.
var botArgs = []string{"--duration", "10m", "--fps", "15", "--chat", "1"}

// call is a room with two confab-bots and Chromium on a guest page.
type call struct {
	ctx     context.Context
	b       *Browser
	g       *Guest
	bots    []*Bot
	name    string // the browser participant's name
	room    string
	browser string // its participant id
}

// startCall starts two bots in a new room, then opens the page at pageURL
// (a function of the room) and joins through its form, and waits until the
// page is in the call.
func startCall(t *testing.T, serverURL string, pageURL func(room string) string) *call {
	b := Start(t, Options{})
	bin := botBin(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &call{ctx: ctx, b: b, name: "Chromium", room: fmt.Sprintf("browser-%d", rand.IntN(1e6))}
	for _, name := range []string{"Grace", "Linus"} {
		c.bots = append(c.bots, StartBot(t, bin, serverURL, c.room, name, botArgs...))
	}
	for _, bot := range c.bots {
		bot.Wait(t, 60*time.Second, "joined", func(r BotReport) bool { return true })
	}
	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	g, err := b.OpenGuest(octx, pageURL(c.room))
	if err != nil {
		t.Fatal(err)
	}
	c.g = g
	if err := g.Join(octx, c.name, c.room); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the page is in the call", `window.confabTest.state().phase === "call" && window.confabTest.state().you`, StateJS)
	st, err := g.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.browser = st.You
	return c
}

// mediaBothWays waits until the page decodes >= 60 frames from each bot
// and hears each (audio energy > 0), and each bot decodes >= 30 frames and
// audio from the page.
func (c *call) mediaBothWays(t *testing.T) {
	for _, bot := range c.bots {
		// A protocol violation ends the wait at once: it explains the
		// missing media better than a timeout.
		id := bot.Report().Identity
		c.g.MustWait(t, 90*time.Second, "the page decodes 60 frames and audio from "+bot.Name,
			fmt.Sprintf(`(async () => { const s = (await window.confabTest.stats())[%q];
				return (s && s.videoFrames >= 60 && s.audioEnergy > 0) ||
					window.confabTest.state().protocolViolations.length > 0; })()`, id), StateJS)
		c.noViolations(t)
		if t.Failed() {
			t.FailNow()
		}
	}
	for _, bot := range c.bots {
		bot.Wait(t, 90*time.Second, "30 frames and audio from the page", func(r BotReport) bool {
			rr := r.Remote[c.name]
			return rr.Frames >= 30 && rr.AudioDecoded > 0
		})
	}
	stats, err := c.g.Stats(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, bot := range c.bots {
		m := stats[bot.Report().Identity]
		r := bot.Report().Remote[c.name]
		t.Logf("page <- %s: %.0f frames, audio energy %.3g over %.0f samples; %s <- page: %d frames, %d audio packets decoded",
			bot.Name, m.VideoFrames, m.AudioEnergy, m.AudioSamples, bot.Name, r.Frames, r.AudioDecoded)
	}
}

// noViolations fails t if the page saw media where the protocol says none
// may be (e.g. on a publish m-line).
func (c *call) noViolations(t *testing.T) {
	t.Helper()
	if _, err := c.g.Stats(c.ctx); err != nil { // the page checks its inbound RTP here
		t.Fatal(err)
	}
	st, err := c.g.State(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ProtocolViolations) > 0 {
		t.Errorf("the page saw protocol violations: %q", st.ProtocolViolations)
	}
}

// TestBrowserCallWithTwoBots joins headless Chromium through the guest page
// that the server serves into a room with two confab-bots: media both
// ways, chat both ways in one order, Chromium's screen share, its leave.
func TestBrowserCallWithTwoBots(t *testing.T) {
	srv := servertest.Start(t)
	requireGuestPage(t, srv.URL)
	c := startCall(t, srv.URL, func(room string) string { return srv.URL + "/r/" + room })
	c.mediaBothWays(t)
	c.noViolations(t)
	c.chat(t)
	c.layout(t)
	c.share(t)
	c.noViolations(t)
	c.leave(t)
}

// TestBrowserCallOverICETCPOnly: on a server with no UDP port
// (confab-server --udp-port off: passive ICE-TCP candidates only,
// PROTOCOL.md "Media details"), Chromium on the guest page and two bots
// still get each other's media: each dials the server's TCP candidate.
func TestBrowserCallOverICETCPOnly(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) { c.Net.NoUDP, c.Net.TCP = true, true }))
	if srv.Srv.MediaAddr().Network() != "tcp" {
		t.Fatalf("media address %v is not the ICE-TCP port", srv.Srv.MediaAddr())
	}
	requireGuestPage(t, srv.URL)
	c := startCall(t, srv.URL, func(room string) string { return srv.URL + "/r/" + room })
	c.mediaBothWays(t)
	c.noViolations(t)
}

// TestProtocolPageGetsEveryone joins Chromium through the protocol page
// (testdata/guest: written from PROTOCOL.md alone; it answers publish
// m-lines sendonly, as the document says) and checks that it gets every
// participant's media and none on its publish m-lines.
func TestProtocolPageGetsEveryone(t *testing.T) {
	srv := servertest.Start(t)
	page := ServeProtocolPage(t, srv.URL)
	c := startCall(t, srv.URL, func(string) string { return page })
	c.mediaBothWays(t)
	c.noViolations(t)
	if os.Getenv("CONFAB_BROWSER_FULL") != "" {
		c.chat(t)
		c.share(t)
		c.noViolations(t)
		c.leave(t)
	}
}

// chat sends a message from the page and checks that the page and both
// bots saw the three messages (one per bot, one from the page) with the
// same seq numbers, in seq order.
func (c *call) chat(t *testing.T) {
	text := fmt.Sprintf("Hello from the browser %d", rand.IntN(1e6))
	if err := c.g.Click(c.ctx, "#chat-toggle"); err != nil {
		t.Fatal(err)
	}
	if err := c.g.Type(c.ctx, "#chat-input", text); err != nil {
		t.Fatal(err)
	}
	if err := c.g.Click(c.ctx, "#chat-send"); err != nil {
		t.Fatal(err)
	}
	c.g.MustWait(t, 30*time.Second, "the page's message stored, and both bots' messages shown",
		fmt.Sprintf(`(() => { const ch = window.confabTest.state().chat;
			return ch.some(m => m.text === %q && m.status === "sent" && m.seq > 0) &&
				ch.filter(m => m.from !== window.confabTest.state().you && m.seq > 0).length >= 2; })()`, text), StateJS)
	st, err := c.g.State(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ from, id string }
	bySeq := map[int64]key{}
	var seqs []int64
	for _, m := range st.Chat {
		if m.Seq > 0 {
			bySeq[m.Seq] = key{m.From, m.ID}
			seqs = append(seqs, m.Seq)
		}
	}
	if !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
		t.Errorf("page: chat not in strictly increasing seq order: %v", seqs)
	}
	if len(seqs) != 3 {
		t.Errorf("page: %d stored chat messages, want 3 (one per bot, one own): %+v", len(seqs), st.Chat)
	}
	for _, bot := range c.bots {
		bot.Wait(t, 30*time.Second, "all 3 chat messages", func(r BotReport) bool { return len(r.Chat) >= 3 })
		var got []int64
		for _, m := range bot.Report().Chat {
			got = append(got, m.Seq)
			if want, ok := bySeq[m.Seq]; !ok || want != (key{m.From, m.ID}) {
				t.Errorf("bot %s: seq %d is %s/%s; the page has it as %s/%s", bot.Name, m.Seq, m.From, m.ID, want.from, want.id)
			}
		}
		if !slices.Equal(got, seqs) {
			t.Errorf("bot %s saw seqs %v, the page %v", bot.Name, got, seqs)
		}
	}
	t.Logf("chat: page and both bots saw seqs %v", seqs)
}

// share starts a screen share from the page and waits until both bots
// decode frames from it.
func (c *call) share(t *testing.T) {
	if err := c.g.Click(c.ctx, "#share"); err != nil {
		t.Fatal(err)
	}
	for _, bot := range c.bots {
		bot.Wait(t, 60*time.Second, "10 frames of the page's screen share", func(r BotReport) bool {
			return r.Sources[c.name]["screen"] >= 10
		})
	}
	t.Logf("screen share: %s decoded %d frames, %s %d", c.bots[0].Name, c.bots[0].Report().Sources[c.name]["screen"],
		c.bots[1].Name, c.bots[1].Report().Sources[c.name]["screen"])
}

// leave clicks Leave and checks that both bots see the page leave, and
// that they still have what they received from it in their final reports.
func (c *call) leave(t *testing.T) {
	if err := c.g.Click(c.ctx, "#leave"); err != nil {
		t.Fatal(err)
	}
	c.g.MustWait(t, 30*time.Second, "the page has left", `window.confabTest.state().phase === "left"`, StateJS)
	for _, bot := range c.bots {
		bot.Wait(t, 30*time.Second, "the page's participant leaving", func(r BotReport) bool {
			return slices.Contains(r.Left, c.name)
		})
	}
	for _, bot := range c.bots {
		r := bot.Stop(t)
		if r.Error != "" {
			t.Errorf("bot %s: %s", bot.Name, r.Error)
		}
		if rr := r.Remote[c.name]; rr.Frames < 30 || rr.AudioDecoded == 0 {
			t.Errorf("bot %s final report: %d frames, %d audio packets from the page", bot.Name, rr.Frames, rr.AudioDecoded)
		}
	}
}

// layout saves the call as guest.png (1280x800, chat open) and, at the
// width of a 360x740 phone, guest-360-chat.png and guest-360.png (chat
// closed) in $CONFAB_SCREENSHOTS when that is set; at phone width it checks
// that nothing overflows sideways and the call controls are on screen.
func (c *call) layout(t *testing.T) {
	// Let the tiles settle on a fresh frame and the chat panel open.
	time.Sleep(time.Second)
	c.shoot(t, "guest.png")
	if err := c.g.SetViewport(c.ctx, 360, 740, true); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.g.SetViewport(c.ctx, 1280, 800, false); err != nil {
			t.Fatal(err)
		}
	}()
	time.Sleep(time.Second)
	c.shoot(t, "guest-360-chat.png")
	c.phoneFits(t, "chat open")
	if err := c.g.Click(c.ctx, "#chat-toggle"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	c.shoot(t, "guest-360.png")
	c.phoneFits(t, "chat closed")
}

// phoneFits checks that the page does not scroll sideways and that the
// call controls are fully on screen.
func (c *call) phoneFits(t *testing.T, state string) {
	t.Helper()
	var got struct {
		ScrollWidth, InnerWidth int
		Off                     []string
	}
	err := c.g.Eval(c.ctx, `(() => {
		const off = [];
		for (const id of ["#mute", "#camera", "#leave", "#chat-toggle"]) {
			const el = document.querySelector(id);
			const r = el && el.getBoundingClientRect();
			if (!r || r.width === 0 || r.left < 0 || r.right > innerWidth || r.top < 0 || r.bottom > innerHeight)
				off.push(id + (r ? " at " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(",") : " missing"));
		}
		return {ScrollWidth: document.documentElement.scrollWidth, InnerWidth: innerWidth, Off: off};
	})()`, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("at 360 px (%s) the page is %d px wide: it scrolls sideways", state, got.ScrollWidth)
	}
	if len(got.Off) > 0 {
		t.Errorf("at 360x740 (%s), call controls not fully on screen: %v", state, got.Off)
	}
}

// shoot saves a screenshot of the page to $CONFAB_SCREENSHOTS/name.
func (c *call) shoot(t *testing.T, name string) {
	dir := os.Getenv("CONFAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := c.g.Screenshot(c.ctx)
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
