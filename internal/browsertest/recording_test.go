package browsertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
)

// recordingJS shows the page's recording state in failure messages.
const recordingJS = `(() => { const b = document.querySelector("#record"), i = document.querySelector("#rec-indicator");
	return {state: window.confabTest.state(), indicator: {hidden: i.hidden, text: i.textContent},
		record: {hidden: b.hidden, label: b.querySelector(".control-label").textContent, aria: b.getAttribute("aria-label"),
			pressed: b.getAttribute("aria-pressed"), busy: b.getAttribute("aria-disabled")},
		toast: document.querySelector("#toast").textContent}; })()`

// indicatorJS is true while the page shows "● Recording" (textContent),
// or, with on false, while it shows nothing of it.
func indicatorJS(on bool) string {
	if on {
		return `(() => { const i = document.querySelector("#rec-indicator");
			return !i.hidden && i.textContent === "● Recording" && window.confabTest.state().recording; })()`
	}
	return `document.querySelector("#rec-indicator").hidden && !window.confabTest.state().recording`
}

// recordButtonJS is true while the page's #record button reads label
// and is pressed (recording) or not, and is not waiting.
func recordButtonJS(label string, pressed bool) string {
	return fmt.Sprintf(`(() => { const b = document.querySelector("#record");
		return !b.hidden && b.querySelector(".control-label").textContent === %s && b.getAttribute("aria-pressed") === %s &&
			b.getAttribute("aria-disabled") === "false" && window.confabTest.state().canRecord; })()`, js(label), js(fmt.Sprint(pressed)))
}

// toastJS is true when the page's latest notice reads text (it hides
// after 6 s but keeps its text, so a slow poll still sees it).
func toastJS(text string) string {
	return fmt.Sprintf(`document.querySelector("#toast").textContent === %s`, js(text))
}

// adminSession joins room with a Go client whose token has the admin
// grant, and collects its events.
func adminSession(t *testing.T, srv *servertest.Server, room, name string) *goPeer {
	t.Helper()
	g := token.DefaultGrants()
	g.Admin = true
	tok := srv.Token(token.Claims{Identity: "admin-" + name, Name: name, Room: room, Grants: g}, time.Hour, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Join(ctx, client.Config{Server: srv.URL, Token: tok, Room: room, LoopbackOnly: true})
	if err != nil {
		t.Fatalf("admin %s: %v", name, err)
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

// recordingBy reports whether the latest recording event among evs says
// active, started or stopped by name.
func recordingBy(evs []client.Event, active bool, name string) bool {
	for i := len(evs) - 1; i >= 0; i-- {
		if r, ok := evs[i].(client.RecordingChanged); ok {
			return r.Active == active && r.ByName == name
		}
	}
	return false
}

// pressEnter focuses the element matching selector, as Tab would reach
// it, and presses Enter with real key events.
func pressEnter(ctx context.Context, p *Page, selector string) error {
	var focused bool
	if err := p.Eval(ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%s);
		el.focus(); return document.activeElement === el && el.tabIndex >= 0; })()`, js(selector)), &focused); err != nil {
		return err
	}
	if !focused {
		return fmt.Errorf("%s cannot take the keyboard focus", selector)
	}
	for _, typ := range []string{"keyDown", "keyUp"} {
		ev := map[string]any{"type": typ, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
		if typ == "keyDown" {
			ev["text"] = "\r"
		}
		if err := p.call(ctx, "Input.dispatchKeyEvent", ev, nil); err != nil {
			return err
		}
	}
	return nil
}

// TestGuestRecording: on the guest page, someone joining a recorded room
// sees "● Recording" from joined, before any event, and an ordinary
// guest has no Record button; the indicator goes and comes with the
// recording events, with a notice of who did it. A page whose token has
// the admin grant on a recording server (joined.can_record) has a
// Record button, reached and pressed with the keyboard: it starts the
// recording for everyone (a Go client is told it was her) and becomes
// "Stop recording", which stops it; the recording's manifest names her.
// On a server that cannot write its recordings the press ends in the
// notice that it stopped and the button reads Record again. With
// CONFAB_SCREENSHOTS set it saves guest-recording.png there (Ada's page
// recording: the indicator and Stop recording).
func TestGuestRecording(t *testing.T) {
	recDir := t.TempDir()
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) { c.RecordDir = recDir }))
	requireGuestPage(t, srv.URL)
	b := Start(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	room := fmt.Sprintf("rec-%d", rand.IntN(1e6))

	boss := adminSession(t, srv, room, "Boss")
	if err := boss.s.StartRecording(); err != nil {
		t.Fatal(err)
	}
	boss.waitFor(t, 30*time.Second, "Boss's recording starts", func(evs []client.Event) bool { return recordingBy(evs, true, "Boss") })

	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	ana, err := b.OpenGuest(octx, srv.URL+"/r/"+room)
	if err != nil {
		t.Fatal(err)
	}
	if err := ana.Join(octx, "Ana", room); err != nil {
		t.Fatal(err)
	}
	ana.MustWait(t, 60*time.Second, "Ana, joining a recorded room, sees the indicator and the notice, and no Record button",
		`window.confabTest.state().phase === "call" && `+indicatorJS(true)+` && `+toastJS("This call is being recorded")+
			` && document.querySelector("#record").hidden && !window.confabTest.state().canRecord`, recordingJS)

	if err := boss.s.StopRecording(); err != nil {
		t.Fatal(err)
	}
	ana.MustWait(t, 30*time.Second, "the indicator goes when Boss stops", indicatorJS(false)+` && `+toastJS("Boss stopped recording"), recordingJS)

	// Ada's page has an admin token (an invite link with #token=).
	g := token.DefaultGrants()
	g.Admin = true
	tok := srv.Token(token.Claims{Identity: "ada", Name: "Ada", Room: room, Grants: g}, time.Hour, time.Now())
	ada, err := b.OpenGuest(octx, srv.URL+"/r/"+room+"#token="+tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := ada.Join(octx, "Ada", room); err != nil {
		t.Fatal(err)
	}
	ada.MustWait(t, 60*time.Second, "Ada's page has a Record button", `window.confabTest.state().phase === "call" && `+
		recordButtonJS("Record", false)+` && document.querySelector("#record").getAttribute("aria-label") === "Record this call" && `+indicatorJS(false), recordingJS)
	if err := pressEnter(ctx, ada.Page, "#record"); err != nil {
		t.Fatal(err)
	}
	ada.MustWait(t, 30*time.Second, "Ada's button says Stop recording, and the indicator shows",
		recordButtonJS("Stop recording", true)+` && document.querySelector("#record").getAttribute("aria-label") === "Stop recording" && `+indicatorJS(true), recordingJS)
	ana.MustWait(t, 30*time.Second, "Ana sees the indicator from the recording event, with who started it",
		indicatorJS(true)+` && `+toastJS("Ada started recording this call"), recordingJS)
	boss.waitFor(t, 30*time.Second, "Boss is told Ada started it", func(evs []client.Event) bool { return recordingBy(evs, true, "Ada") })
	shootPage(t, ada, "guest-recording.png")

	// The files start once the server has the meeting; then Ada stops.
	var manifests []string
	for deadline := time.Now().Add(30 * time.Second); len(manifests) < 2; time.Sleep(100 * time.Millisecond) {
		manifests, _ = filepath.Glob(filepath.Join(recDir, "*", recording.ManifestName))
		if time.Now().After(deadline) {
			t.Fatalf("recordings under %s: %v, want Boss's and Ada's", recDir, manifests)
		}
	}
	if err := ada.Click(ctx, "#record"); err != nil {
		t.Fatal(err)
	}
	ada.MustWait(t, 30*time.Second, "Ada's button says Record again", recordButtonJS("Record", false)+` && `+indicatorJS(false), recordingJS)
	ana.MustWait(t, 30*time.Second, "the indicator goes for Ana, with who stopped it", indicatorJS(false)+` && `+toastJS("Ada stopped recording"), recordingJS)
	var byAda bool
	for deadline := time.Now().Add(30 * time.Second); !byAda; time.Sleep(100 * time.Millisecond) {
		for _, m := range manifests {
			man, err := recording.ReadManifest(filepath.Dir(m))
			byAda = byAda || err == nil && man.StartedByName == "Ada" && man.Status == recording.StatusComplete && man.StopReason == recording.ReasonAdmin
		}
		if !byAda && time.Now().After(deadline) {
			t.Fatalf("no finished recording started by Ada in %v", manifests)
		}
	}

	// A server whose recording directory cannot be made (a file is in
	// the way): the start ends in a write error, said in plain words.
	blocked := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := servertest.Start(t, servertest.Config(func(c *server.Config) { c.RecordDir = blocked }))
	tok = bad.Token(token.Claims{Identity: "ada", Name: "Ada", Room: room, Grants: g}, time.Hour, time.Now())
	ada2, err := b.OpenGuest(octx, bad.URL+"/r/"+room+"#token="+tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := ada2.Join(octx, "Ada", room); err != nil {
		t.Fatal(err)
	}
	ada2.MustWait(t, 60*time.Second, "Ada's page on the second server has a Record button", recordButtonJS("Record", false), recordingJS)
	if err := ada2.Click(ctx, "#record"); err != nil {
		t.Fatal(err)
	}
	ada2.MustWait(t, 30*time.Second, "the failed recording is said in plain words and the button reads Record",
		recordButtonJS("Record", false)+` && `+indicatorJS(false)+` && `+toastJS("Recording stopped: the server could not write it. The call goes on."), recordingJS)
}
