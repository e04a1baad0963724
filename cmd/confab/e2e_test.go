package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/confab/confab/internal/browsertest"
	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/ui"
)

// The end-to-end test runs the real app (real window, real backend with
// its built-in server, fake camera and microphone) and three confab-bot
// processes. Fyne's event loop must own the main thread, so TestMain runs
// it and the tests run beside it.
var e2e struct {
	app     fyne.App
	ui      *ui.App
	backend *backend
	emb     *embedded
	bot     string
	skip    string
}

func TestMain(m *testing.M) {
	if code, done := browsertest.Enter(); done { // Chromium's WebRTC: a network namespace with only lo
		os.Exit(code)
	}
	if os.Getenv("DISPLAY") == "" {
		e2e.skip = "no DISPLAY: make test runs this under Xvfb"
		if os.Getenv("CONFAB_REQUIRE_DISPLAY") != "" {
			fmt.Fprintln(os.Stderr, "CONFAB_REQUIRE_DISPLAY is set but DISPLAY is not")
			os.Exit(1)
		}
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "confab-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if e2e.bot, err = testbin.Build(dir, "./cmd/confab-bot", "CONFAB_BOT_BIN"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := slog.New(slog.DiscardHandler)
	e2e.emb, err = startEmbedded("127.0.0.1:0", filepath.Join(dir, "server"), log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e2e.backend = newBackend(log, true)
	e2e.backend.embedded = e2e.emb
	// Four live videos, four VP8 encoders and software GL share two cores
	// here: the app's camera runs at 15 fps and the bots at 10.
	e2e.backend.capture = []capture.Option{capture.WithFrameRate(15)}
	e2e.app = app.NewWithID(appID + ".e2e")
	e2e.ui = ui.New(e2e.app, e2e.backend, ui.Options{Name: "Ada", Room: "e2e"})
	e2e.ui.Window().Resize(fyne.NewSize(1280, 760))
	e2e.ui.Window().Show()

	code := make(chan int, 1)
	ran := make(chan struct{})
	go func() {
		code <- m.Run()
		// Close as a person would: a call still open (a failed test) is
		// left on the UI goroutine, then the window closes and the app
		// with it. Quitting at once would leave the call's goroutines
		// running UI code after Fyne's loop has stopped.
		fyne.DoAndWait(e2e.ui.Close)
		select {
		case <-ran:
		case <-time.After(30 * time.Second):
			fyne.DoAndWait(e2e.app.Quit)
		}
	}()
	e2e.app.Run()
	close(ran)
	e2e.backend.shutdown()
	e2e.backend.stopServer()
	os.Exit(<-code)
}

// onUI runs f on the UI goroutine and waits.
func onUI(f func()) { fyne.DoAndWait(f) }

// waitUI polls cond on the UI goroutine until it holds or d passes.
func waitUI(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		var state string
		onUI(func() { ok, state = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s; last state: %s", d, what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// grab captures the window as the X server shows it (ImageMagick's
// import): what a person would see. Fyne's own Canvas.Capture reads the GL
// back buffer, which is undefined after a swap under Xvfb.
func grab(t *testing.T) image.Image {
	t.Helper()
	var title string
	onUI(func() { title = e2e.ui.Window().Title() })
	out, err := exec.Command("import", "-window", title, "png:-").Output()
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	return img
}

// screenshot saves the window to $CONFAB_SCREENSHOTS/name when that is set.
func screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("CONFAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, grab(t)); err != nil {
		t.Fatal(err)
	}
}

// region is a tile's rectangle in the window's pixels.
func region(img image.Image, obj fyne.CanvasObject) image.Rectangle {
	c := e2e.ui.Window().Canvas()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(obj)
	scale := float32(img.Bounds().Dx()) / c.Size().Width
	sz := obj.Size()
	return image.Rect(int(pos.X*scale), int(pos.Y*scale), int((pos.X+sz.Width)*scale), int((pos.Y+sz.Height)*scale))
}

// changed counts the pixels of r that differ between a and b.
func changed(a, b image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
			}
		}
	}
	return n
}

func TestAppCallWithThreeBots(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	entry := e2e.ui.Entry()
	waitUI(t, 10*time.Second, "entry screen with a live preview", func() (bool, string) {
		return entry.JoinButton.Visible() && !entry.JoinButton.Disabled(), "join button not ready"
	})
	time.Sleep(time.Second) // let the preview and meter show something
	screenshot(t, "entry.png")

	var bots []*exec.Cmd
	// The bots stay until the test kills them: on a loaded machine the
	// steps below can take minutes. At 5 fps they leave the app's UI
	// thread (software GL, race detector) time to answer the test.
	for _, name := range []string{"Grace", "Linus"} {
		cmd := exec.Command(e2e.bot, "--server", e2e.emb.URL, "--room", "e2e", "--name", name,
			"--duration", "1800s", "--chat", "2", "--fps", "5")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		bots = append(bots, cmd)
	}
	// Margaret shows the others as thumbnails: she asks for their
	// cameras at 160x120 and reports the layer she gets.
	thumb := browsertest.StartBot(t, e2e.bot, e2e.emb.URL, "e2e", "Margaret",
		"--duration", "1800s", "--fps", "5", "--video-size", "160x120")
	t.Cleanup(func() {
		for _, b := range bots {
			_ = b.Process.Kill()
			_ = b.Wait()
		}
	})

	start := time.Now()
	onUI(func() { entry.JoinButton.OnTapped() })
	waitUI(t, 60*time.Second, "4 tiles, each showing video", func() (bool, string) {
		cs := e2e.ui.Call()
		if cs == nil {
			return false, "no call screen"
		}
		tiles := cs.Tiles()
		var state []string
		ok := len(tiles) == 4
		for _, tl := range tiles {
			state = append(state, fmt.Sprintf("%s placeholder=%v", tl.Name(), tl.ShowsPlaceholder()))
			if tl.ShowsPlaceholder() {
				ok = false
			}
		}
		return ok, strings.Join(state, ", ")
	})

	t.Logf("4 tiles with video %v after Join", time.Since(start).Round(time.Millisecond))
	// The app's camera is simulcast: the thumbnail gets its 160x120 layer.
	thumb.Wait(t, 60*time.Second, "Ada's camera at the q layer (160x120) for a thumbnail", func(r browsertest.BotReport) bool {
		a := r.Remote["Ada"]
		return a.Layer == "q" && a.Width == 160 && a.Height == 120 && a.Frames > 0
	})
	// Moving video: every tile's pixels change between two captures.
	cs := e2e.ui.Call()
	var tiles []*ui.Tile
	onUI(func() { tiles = cs.Tiles() })
	t0 := time.Now()
	first := grab(t)
	t.Logf("grab took %v", time.Since(t0))
	time.Sleep(700 * time.Millisecond)
	second := grab(t)
	t.Logf("two grabs done %v after Join", time.Since(start))
	for _, tl := range tiles {
		var r image.Rectangle
		onUI(func() { r = region(first, tl) })
		if n := changed(first, second, r); n < 50 {
			t.Errorf("tile %s: only %d pixels changed between captures 0.7 s apart: video is not moving", tl.Name(), n)
		}
	}

	// A bot's chat message appears in the panel.
	t0 = time.Now()
	onUI(func() { cs.Controls().Chat.OnTapped() })
	t.Logf("opening the chat took %v", time.Since(t0))
	waitUI(t, 30*time.Second, "a chat message from Grace in the panel", func() (bool, string) {
		var texts []string
		for _, row := range cs.Chat().Rows() {
			texts = append(texts, row.Sender.Text+": "+row.Body.String())
			if row.Sender.Text == "Grace" && strings.Contains(row.Body.String(), "from Grace") {
				return true, ""
			}
		}
		return false, strings.Join(texts, " | ")
	})
	t.Logf("chat from Grace shown %v after Join", time.Since(start).Round(time.Millisecond))

	// Ada's own message goes sending -> sent through the real server.
	const mine = "Hi all, can you see my test pattern?"
	onUI(func() {
		cs.Chat().Entry.SetText(mine)
		cs.Chat().SendButton.OnTapped()
	})
	waitUI(t, 30*time.Second, "Ada's message stored and shown as sent", func() (bool, string) {
		for _, it := range cs.Chat().Items() {
			if it.Own && it.Text == mine {
				return it.State == ui.Sent && it.Seq > 0, fmt.Sprintf("state %v seq %d", it.State, it.Seq)
			}
		}
		return false, "not in the panel"
	})
	waitUI(t, 10*time.Second, "still 4 tiles with the chat open", func() (bool, string) {
		return len(cs.Tiles()) == 4, fmt.Sprint(len(cs.Tiles()), " tiles")
	})
	time.Sleep(500 * time.Millisecond)
	screenshot(t, "call.png")

	// Leave returns to the entry screen and releases the devices.
	onUI(func() { cs.Controls().Leave.OnTapped() })
	waitUI(t, 10*time.Second, "back on the entry screen", func() (bool, string) {
		return e2e.ui.Call() == nil && entry.JoinButton.Visible(), "still in the call"
	})
	// The call lets go of the devices as its media closes, which may end
	// just after the entry screen is back.
	waitUI(t, 20*time.Second, "the call's devices released after leaving", func() (bool, string) {
		e2e.backend.devMu.Lock()
		inUse := e2e.backend.inUse
		e2e.backend.devMu.Unlock()
		return inUse == 0, fmt.Sprintf("%d calls still hold the devices", inUse)
	})
	// The entry screen's preview and mic meter come back by themselves.
	waitUI(t, 60*time.Second, "the preview and the mic meter live again after leaving", func() (bool, string) {
		ok := entry.Preview.HasFrame() && !entry.PreviewNote.Visible() && entry.MicMeter.Level() > 0
		return ok, fmt.Sprintf("preview frame %v, note %q, mic level %.2f",
			entry.Preview.HasFrame(), entry.PreviewNote.Text, entry.MicMeter.Level())
	})
	time.Sleep(500 * time.Millisecond)
	screenshot(t, "entry-after-leave.png")
}
