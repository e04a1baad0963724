package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/internal/browsertest"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
	"github.com/confab/confab/ui"
)

// TestSupportDeskInTheApp is the support desk's flow with the real app
// as the agent (its window under Xvfb, its backend, the built-in server,
// fake devices) and headless Chromium as the customer: the agent signs in
// in the app; a customer writes from the widget and another from a Go
// client; the Support view lists both with unread counts and waiting
// time; the agent answers in the app and the widget shows it; Start video
// puts a button in the widget; the customer opens the link and joins, the
// app joins the call by itself and says so; both see the other's video;
// the customer leaves and rates the call; the app is back on the Support
// view and closes the conversation, which the widget shows. It logs the
// time from the customer's click on the link to both sides seeing video.
// With CONFAB_SCREENSHOTS set it saves support-view.png (the app's Support
// view) and support-widget-app.png.
func TestSupportDeskInTheApp(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The admin makes an agent in the built-in server's data directory.
	dd, err := server.OpenDataDir(e2e.emb.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dd.Close()
	id, key, hash, _ := support.NewAgentKey()
	if err := dd.Store.AddAgent(ctx, store.Agent{ID: id, Name: "Sam", KeyHash: hash}); err != nil {
		t.Fatal(err)
	}
	e2e.backend.agentFile = filepath.Join(t.TempDir(), "agent.json")
	t.Cleanup(func() {
		onUI(func() {
			if c := e2e.ui.Call(); c != nil {
				c.Controls().Leave.OnTapped()
			}
		})
		waitUI(t, 60*time.Second, "out of the call", func() (bool, string) { return e2e.ui.Call() == nil, "in a call" })
		onUI(func() {
			if s := e2e.ui.Support(); s != nil {
				s.SignOut.OnTapped()
			}
		})
		// The entry screen opens the camera and microphone again: let it
		// finish before the next test opens devices from another backend
		// in this process (pion's device drivers are shared).
		waitUI(t, 30*time.Second, "the entry screen's preview running", func() (bool, string) {
			en := e2e.ui.Entry()
			return e2e.ui.Support() == nil && !en.PreviewNote.Visible(), en.PreviewNote.Text
		})
		time.Sleep(time.Second)
	})

	// Sign in in the app.
	waitUI(t, 30*time.Second, "the entry screen", func() (bool, string) {
		return e2e.ui.Call() == nil && e2e.ui.SupportButton() != nil, "no Support desk button"
	})
	onUI(func() { e2e.ui.SupportButton().OnTapped() })
	var dlg *ui.SignInDialog
	waitUI(t, 10*time.Second, "the sign-in dialog", func() (bool, string) { dlg = e2e.ui.SupportSignIn(); return dlg != nil, "" })
	onUI(func() {
		dlg.ServerEntry.SetText("")
		dlg.KeyEntry.SetText(key)
		dlg.SignIn.OnTapped()
	})
	var ss *ui.SupportScreen
	waitUI(t, 30*time.Second, "the Support view", func() (bool, string) {
		ss = e2e.ui.Support()
		return ss != nil && e2e.ui.SupportSignIn() == nil && strings.Contains(ss.Status.Text, "Connected"), ""
	})

	// Two customers: Chromium on the widget, and one from a Go client.
	b := browsertest.Start(t, browsertest.Options{})
	w, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Navigate(ctx, e2e.emb.URL+"/support"); err != nil {
		t.Fatal(err)
	}
	w.MustWait(t, 30*time.Second, "the widget's form", `window.confabSupport && window.confabSupport.state().phase === "form"`, "")
	for sel, v := range map[string]string{"#s-name": "Ada", "#s-email": "ada@example.com", "#s-text": "Hello, my parcel arrived broken."} {
		if err := w.Type(ctx, sel, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Click(ctx, "#start"); err != nil {
		t.Fatal(err)
	}
	bob, err := support.CreateConversation(ctx, e2e.emb.URL, "Bob", "", "Can I change my delivery address?")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := support.DialCustomer(ctx, e2e.emb.URL, bob.Conversation, bob.Key, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	bc.Send("m-2", "It's for order 4711.")
	waitUI(t, 30*time.Second, "both conversations in the Support view", func() (bool, string) {
		rows := ss.Rows()
		ok := len(rows) == 2
		for _, r := range rows {
			ok = ok && strings.Contains(r[1], "new") && strings.Contains(r[1], "waiting")
		}
		return ok, fmt.Sprint(rows)
	})
	if ss.Announced() < 2 {
		t.Errorf("%d new conversations announced, want 2", ss.Announced())
	}

	// The agent answers Ada in the app.
	onUI(func() { ss.Select("Ada") })
	waitUI(t, 30*time.Second, "Ada's messages, read", func() (bool, string) {
		msgs := ss.Messages()
		for _, r := range ss.Rows() {
			if r[0] == "Ada" && strings.Contains(r[1], "new") {
				return false, "still unread: " + r[1]
			}
		}
		return len(msgs) == 1 && msgs[0] == "Ada: Hello, my parcel arrived broken.", fmt.Sprint(msgs)
	})
	onUI(func() {
		ss.Entry.SetText("Sorry to hear that, Ada. Can you show me on video?")
		ss.Send.OnTapped()
	})
	w.MustWait(t, 30*time.Second, "the answer in the widget",
		`window.confabSupport.state().messages.some(m => m.from === "agent" && m.name === "Sam" && m.text.startsWith("Sorry to hear"))`, "window.confabSupport.state()")
	time.Sleep(500 * time.Millisecond) // the waiting time and unread counts redrawn
	screenshot(t, "support-view.png")

	// Start video: the widget shows the button.
	onUI(func() { ss.StartVideo.OnTapped() })
	w.MustWait(t, 30*time.Second, "the video button in the widget", `!!document.querySelector("a.video-link")`, "window.confabSupport.state()")
	var link string
	if err := w.Eval(ctx, `document.querySelector("a.video-link").getAttribute("href")`, &link); err != nil {
		t.Fatal(err)
	}
	if err := w.SetViewport(ctx, 460, 720, false); err == nil {
		if png, err := w.Screenshot(ctx); err == nil {
			saveShot(t, "support-widget-app.png", png)
		}
	}
	waitUI(t, 10*time.Second, "the banner says the app waits for Ada", func() (bool, string) {
		return strings.HasPrefix(ss.Banner(), "Video call started with Ada"), ss.Banner()
	})

	// The customer clicks it (the test opens what it points at, as the
	// click's new tab would) and joins.
	clicked := time.Now()
	g, err := b.OpenGuest(ctx, e2e.emb.URL+link)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.JoinInvite(ctx, "Ada"); err != nil {
		t.Fatal(err)
	}
	var cs *ui.CallScreen
	waitUI(t, 60*time.Second, "the app joined the call by itself, and says so", func() (bool, string) {
		cs = e2e.ui.Call()
		if cs == nil {
			return false, "no call"
		}
		return strings.Contains(cs.Notice(), "Ada joined the video call, so you were brought in."), cs.Notice()
	})
	joined := time.Since(clicked)
	var appSees, pageSees time.Duration
	for appSees == 0 || pageSees == 0 {
		if time.Since(clicked) > 2*time.Minute {
			st, _ := g.State(ctx)
			t.Fatalf("after 2 min: the app sees video %v, the page %v; page state %+v", appSees, pageSees, st)
		}
		if appSees == 0 {
			onUI(func() {
				for _, tl := range cs.Tiles() {
					if tl.Name() == "Ada" && !tl.IsScreen() && !tl.ShowsPlaceholder() {
						appSees = time.Since(clicked)
					}
				}
			})
		}
		if pageSees == 0 {
			var ok bool
			if err := g.Eval(ctx, fmt.Sprintf(`(async () => { const s = (await window.confabTest.stats())[%q]; return !!(s && s.videoFrames > 0); })()`, id), &ok); err == nil && ok {
				pageSees = time.Since(clicked)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("support call in the app: click on the link -> the app in the call %.1fs; the app shows Ada's video %.1fs; Ada's page decodes the app's video %.1fs; both %.1fs",
		joined.Seconds(), appSees.Seconds(), pageSees.Seconds(), max(appSees, pageSees).Seconds())
	g.MustWait(t, 120*time.Second, "the page decodes 30 frames and audio from the app",
		fmt.Sprintf(`(async () => { const s = (await window.confabTest.stats())[%q]; return s && s.videoFrames >= 30 && s.audioEnergy > 0; })()`, id), browsertest.StateJS)

	// The customer leaves and rates; the app leaves too and is back on
	// the Support view.
	if err := g.Click(ctx, "#leave"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 30*time.Second, "the rating form", `window.confabTest.state().feedback === "asked"`, browsertest.StateJS)
	if err := g.Click(ctx, `#stars button[data-rating="5"]`); err != nil {
		t.Fatal(err)
	}
	if err := g.Type(ctx, "#feedback-comment", "Sam sorted it out in two minutes"); err != nil {
		t.Fatal(err)
	}
	if err := g.Click(ctx, "#feedback-send"); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 30*time.Second, "the feedback sent", `window.confabTest.state().feedback === "sent"`, browsertest.StateJS)
	onUI(func() { cs.Controls().Leave.OnTapped() })
	waitUI(t, 30*time.Second, "back on the Support view, the call over", func() (bool, string) {
		return e2e.ui.Call() == nil && ss.Banner() == "", ss.Banner()
	})
	waitUI(t, 30*time.Second, "the rating shown in Ada's conversation", func() (bool, string) {
		msgs := ss.Messages()
		return strings.Contains(strings.Join(msgs, "\n"), "Ada rated the video call 5 of 5. “Sam sorted it out in two minutes”"), fmt.Sprint(msgs)
	})
	var room string
	if err := g.Eval(ctx, `window.confabTest.state().invite.room`, &room); err != nil {
		t.Fatal(err)
	}
	if c, err := dd.Store.Call(ctx, room); err != nil || c.Rating != 5 || c.Comment != "Sam sorted it out in two minutes" {
		t.Fatalf("stored call %+v, %v", c, err)
	}

	// The agent closes Ada's conversation; the widget shows it.
	onUI(func() { ss.Close.OnTapped() })
	w.MustWait(t, 30*time.Second, "the widget closed", `window.confabSupport.state().phase === "closed" && window.confabSupport.state().closedBy === "Sam"`, "window.confabSupport.state()")
	waitUI(t, 30*time.Second, "only Bob left in the list", func() (bool, string) {
		rows := ss.Rows()
		return len(rows) == 1 && rows[0][0] == "Bob", fmt.Sprint(rows)
	})
}

// saveShot writes png to $CONFAB_SCREENSHOTS/name when that is set.
func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("CONFAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
