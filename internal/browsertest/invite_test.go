package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
)

// createInvite makes an invite link for room with bearer, a join token
// for it, through POST /api/invite; it returns the code.
func createInvite(t *testing.T, server, bearer string, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", server+"/api/invite", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Code, URL string
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/invite: %s %v", resp.Status, err)
	}
	return r.Code
}

// TestBrowserJoinsByInviteLink: on a server in closed mode (no
// /api/token), a confab-bot joins with an admin's token and makes an
// invite link; Chromium opens /j/CODE, sees the room, types a name and
// lands in the call with the bot: media both ways. A reload of the page
// in the call does not use the code again (it allows one use).
func TestBrowserJoinsByInviteLink(t *testing.T) {
	srv := servertest.Start(t, servertest.Closed())
	requireGuestPage(t, srv.URL)
	b := Start(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	room := fmt.Sprintf("invite-%d", rand.IntN(1e6))
	hostTok := srv.Token(token.Claims{Identity: "bot-grace", Name: "Grace", Room: room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	bot := StartBot(t, botBin(t), srv.URL, room, "Grace", append([]string{"--token", hostTok}, botArgs...)...)
	bot.Wait(t, 60*time.Second, "joined", func(r BotReport) bool { return true })
	code := createInvite(t, srv.URL, hostTok, map[string]any{"max_uses": 1})

	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	g, err := b.OpenGuest(octx, srv.URL+"/j/"+code)
	if err != nil {
		t.Fatal(err)
	}
	var title string
	if err := g.JoinInvite(octx, "Chromium"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the page is in the call with Grace",
		`window.confabTest.state().phase === "call" && window.confabTest.state().participants.some(p => p.name === "Grace")`, StateJS)
	if err := g.Eval(ctx, `document.querySelector("#room-title").textContent`, &title); err != nil || title != room {
		t.Errorf("room title %q (%v), want %q", title, err, room)
	}
	st, err := g.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The room's address admits no one on this server and the invite had
	// one use: Copy link says so instead of handing out a dead link.
	if err := g.Eval(ctx, `document.querySelector("#copy-link").click()`, nil); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 10*time.Second, "Copy link explains the invite was for this guest only",
		`!document.querySelector("#toast").hidden && document.querySelector("#toast").textContent.includes("for you only")`, `document.querySelector("#toast").textContent`)
	c := &call{ctx: ctx, b: b, g: g, bots: []*Bot{bot}, name: "Chromium", room: room, browser: st.You}
	c.mediaBothWays(t)
	c.noViolations(t)

	// The code allowed one use, which the page made; a reload uses the
	// token this tab got, so it is back in the call.
	if err := g.Eval(ctx, `window.beforeReload = true; location.reload()`, nil); err != nil {
		t.Logf("reload: %v", err) // the page going away may cut the answer
	}
	g.MustWait(t, 30*time.Second, "the reloaded page shows its entry form", `!window.beforeReload && window.confabTest && document.readyState === "complete" &&
		document.querySelector("#join") && !document.querySelector("#join").disabled`, "")
	if err := g.Click(ctx, "#join"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the reloaded page is back in the call with Grace",
		`window.confabTest.state().phase === "call" && window.confabTest.state().participants.some(p => p.name === "Grace")`, StateJS)

	// The code is used up now: a fresh tab gets the page that says so.
	g2, err := b.NewPage(octx)
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.Navigate(octx, srv.URL+"/j/"+code); err != nil {
		t.Fatal(err)
	}
	g2.MustWait(t, 10*time.Second, "a used-up link's page",
		`document.body.dataset.phase === "invite-error" && document.querySelector("h1").textContent === "This invite link has been used up"`,
		`document.body.innerText`)
}
