package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/internal/browsertest"
	"github.com/confab/confab/ui"
)

// TestAppWithBrowser puts the real app (its window, built-in server and
// fake devices) and headless Chromium on the guest page that server serves
// in one room, and checks that each decodes the other: Chromium counts the
// app's frames and hears its microphone; the app shows Chromium's camera
// in a tile whose pixels move. TestMain keeps the process, and so
// Chromium, in a network namespace with only lo.
func TestAppWithBrowser(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	start := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	b := browsertest.Start(t, browsertest.Options{})
	const room = "app-and-browser"
	entry := e2e.ui.Entry()
	waitUI(t, 30*time.Second, "entry screen ready to join", func() (bool, string) {
		return entry.JoinButton.Visible() && !entry.JoinButton.Disabled(), "join button not ready"
	})
	var oldRoom, appName string
	onUI(func() {
		oldRoom, appName = entry.RoomEntry.Text, entry.NameEntry.Text
		entry.RoomEntry.SetText(room)
	})
	t.Cleanup(func() {
		onUI(func() {
			if cs := e2e.ui.Call(); cs != nil {
				cs.Controls().Leave.OnTapped()
			}
		})
		waitUI(t, 60*time.Second, "back on the entry screen", func() (bool, string) {
			return e2e.ui.Call() == nil, "still in the call"
		})
		onUI(func() { entry.RoomEntry.SetText(oldRoom) })
	})
	step("Chromium started, the app's entry screen ready")
	onUI(func() { entry.JoinButton.OnTapped() })
	waitUI(t, 60*time.Second, "the app in the call", func() (bool, string) {
		return e2e.ui.Call() != nil, "no call screen"
	})
	step("the app joined")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g, err := b.OpenGuest(ctx, e2e.emb.URL+"/r/"+room)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Join(ctx, "Chromium", room); err != nil {
		t.Fatal(err)
	}
	step("Chromium clicked Join")
	g.MustWait(t, 60*time.Second, "Chromium in the call with the app's participant",
		fmt.Sprintf(`window.confabTest.state().participants.some(p => p.name === %q)`, appName), browsertest.StateJS)
	st, err := g.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var appID string
	for _, p := range st.Participants {
		if p.Name == appName {
			appID = p.ID
		}
	}
	// The app's camera runs at 15 fps, but a race-instrumented app under
	// Xvfb on two busy cores delivers a few frames a second.
	g.MustWait(t, 120*time.Second, "Chromium decodes 30 frames and audio from the app",
		fmt.Sprintf(`(async () => { const s = (await window.confabTest.stats())[%q];
			return (s && s.videoFrames >= 30 && s.audioEnergy > 0) ||
				window.confabTest.state().protocolViolations.length > 0; })()`, appID), browsertest.StateJS)
	step("Chromium decoded 30 frames and audio from the app")
	if st, err = g.State(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.ProtocolViolations) > 0 {
		t.Fatalf("the page saw protocol violations: %q", st.ProtocolViolations)
	}

	cs := e2e.ui.Call()
	var tile *ui.Tile
	waitUI(t, 60*time.Second, "the app shows Chromium's video", func() (bool, string) {
		var state []string
		for _, tl := range cs.Tiles() {
			state = append(state, fmt.Sprintf("%s placeholder=%v", tl.Name(), tl.ShowsPlaceholder()))
			if tl.Name() == "Chromium" && !tl.IsScreen() && !tl.ShowsPlaceholder() {
				tile = tl
				return true, ""
			}
		}
		return false, strings.Join(state, ", ")
	})
	step("the app shows Chromium's video")
	first := grab(t)
	time.Sleep(time.Second)
	second := grab(t)
	var r = first.Bounds()
	onUI(func() { r = region(first, tile) })
	if n := changed(first, second, r); n < 50 {
		t.Errorf("Chromium's tile: only %d pixels changed in 1 s: its video is not moving", n)
	}
	stats, err := g.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Chromium <- app: %.0f frames, audio energy %.3g; the app shows Chromium's moving video", stats[appID].VideoFrames, stats[appID].AudioEnergy)

	// Chromium leaves; its tile goes away.
	if err := g.Click(ctx, "#leave"); err != nil {
		t.Fatal(err)
	}
	waitUI(t, 60*time.Second, "Chromium's tile gone after it left", func() (bool, string) {
		var names []string
		for _, tl := range cs.Tiles() {
			names = append(names, tl.Name())
			if tl.Name() == "Chromium" {
				return false, strings.Join(names, ", ")
			}
		}
		return true, ""
	})
	step("Chromium left; its tile is gone")
}
