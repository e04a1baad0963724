package browsertest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"
)

// Guest drives a page that implements the guest page's test hooks
// (window.confabTest) and element ids: the guest page served by the server
// (assets/web), or the protocol page in testdata/guest.
type Guest struct{ *Page }

// GuestState is window.confabTest.state().
type GuestState struct {
	Phase        string `json:"phase"` // entry, joining, call, reconnecting, left, error
	You          string `json:"you"`
	Error        string `json:"error"`
	Participants []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Mic    bool   `json:"mic"`
		Camera bool   `json:"camera"`
		Screen bool   `json:"screen"`
	} `json:"participants"`
	Chat []struct {
		Seq    int64  `json:"seq"`
		ID     string `json:"id"`
		From   string `json:"from"`
		Name   string `json:"name"`
		Text   string `json:"text"`
		Status string `json:"status"`
	} `json:"chat"`
	ProtocolViolations []string `json:"protocolViolations"`
}

// GuestMedia is what the page received from one participant
// (window.confabTest.stats()[id]).
type GuestMedia struct {
	VideoFrames  float64 `json:"videoFrames"`
	ScreenFrames float64 `json:"screenFrames"`
	AudioEnergy  float64 `json:"audioEnergy"`
	AudioSamples float64 `json:"audioSamples"`
}

// GuestTimings is window.confabTest.timings(), in performance.now()
// milliseconds.
type GuestTimings struct {
	JoinClicked float64            `json:"joinClicked"`
	Joined      float64            `json:"joined"`
	FirstFrame  map[string]float64 `json:"firstFrame"`
}

// OpenGuest opens a new tab at url (a guest page) and waits for its test hooks.
func (b *Browser) OpenGuest(ctx context.Context, url string) (*Guest, error) {
	p, err := b.NewPage(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Navigate(ctx, url); err != nil {
		return nil, err
	}
	if err := p.Wait(ctx, 30*time.Second, "window.confabTest && document.querySelector('#join')", ""); err != nil {
		return nil, fmt.Errorf("guest page %s has no confabTest hooks or #join: %w\npage console:\n%s", url, err, p.lastLogs(20))
	}
	return &Guest{p}, nil
}

// State returns the page's state.
func (g *Guest) State(ctx context.Context) (GuestState, error) {
	var s GuestState
	err := g.Eval(ctx, "window.confabTest.state()", &s)
	return s, err
}

// Stats returns what the page received, keyed by participant id.
func (g *Guest) Stats(ctx context.Context) (map[string]GuestMedia, error) {
	var s map[string]GuestMedia
	err := g.Eval(ctx, "window.confabTest.stats()", &s)
	return s, err
}

// Timings returns the page's join timings.
func (g *Guest) Timings(ctx context.Context) (GuestTimings, error) {
	var s GuestTimings
	err := g.Eval(ctx, "window.confabTest.timings()", &s)
	return s, err
}

// Join types name and room into the entry form and clicks Join once the
// button is enabled (the page may wait for its camera preview).
func (g *Guest) Join(ctx context.Context, name, room string) error {
	if err := g.Wait(ctx, 30*time.Second, "!document.querySelector('#join').disabled", ""); err != nil {
		return fmt.Errorf("join button: %w", err)
	}
	if err := g.Type(ctx, "#name", name); err != nil {
		return err
	}
	if err := g.Type(ctx, "#room", room); err != nil {
		return err
	}
	return g.Click(ctx, "#join")
}

// StateJS is the expression that shows the page's state and stats in
// failure messages.
const StateJS = "(async () => ({state: window.confabTest.state(), stats: await window.confabTest.stats()}))()"

//go:embed testdata/guest
var protocolPage embed.FS

// ServeProtocolPage serves the protocol page (testdata/guest: a minimal
// client written from PROTOCOL.md alone, with the guest page's test hooks)
// on its own loopback port, proxying /ws and /api/ to the Confab server at
// server (http://127.0.0.1:port), so the page's websocket is same-origin.
// It returns the page's URL.
func ServeProtocolPage(t testing.TB, server string) string {
	t.Helper()
	target, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(protocolPage, "testdata/guest")
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.Handle("/ws", proxy)
	mux.Handle("/api/", proxy)
	mux.Handle("/", http.FileServerFS(sub))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// GuestPageServed checks that the server at server (http://host:port)
// serves the guest page at /r/{room}.
func GuestPageServed(server string) error {
	resp, err := http.Get(server + "/r/probe")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/r/probe: %s (the guest page is not served)", server, resp.Status)
	}
	return nil
}

func requireGuestPage(t testing.TB, server string) {
	t.Helper()
	if err := GuestPageServed(server); err != nil {
		t.Fatal(err)
	}
}
