package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/confab/confab/internal/xpixel"
	"github.com/confab/confab/ui"
)

// BenchmarkAppClick measures, in the real app under Xvfb in a 4-party call
// (three confab-bots at 640x480, 15 fps), how long a click takes to show
// on screen: the pointer goes to the Mute button (then the Chat button),
// a click goes to the X server (XTEST), and the time runs from the click
// until a pixel of the button's face changes in the X server's
// framebuffer, which is what a person sees (looked at every 2 ms). Each
// iteration is one click on each button; the reports are p50 and p95
// (make bench: -benchtime 20x).
func BenchmarkAppClick(b *testing.B) {
	if e2e.skip != "" {
		b.Skip(e2e.skip)
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		b.Skip("xdotool is not installed (scripts/deps.sh test)")
	}
	x, err := xpixel.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	for _, name := range []string{"Grace", "Linus", "Margaret"} {
		bot := exec.Command(e2e.bot, "--server", e2e.emb.URL, "--room", "click", "--name", name, "--duration", "1800s", "--fps", "15")
		if err := bot.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = bot.Process.Kill(); _ = bot.Wait() }()
	}
	entry := e2e.ui.Entry()
	waitFor(b, 2*time.Minute, "the entry screen ready to join", func() bool {
		return e2e.ui.Call() == nil && !entry.JoinButton.Disabled()
	})
	onUI(func() {
		entry.RoomEntry.SetText("click")
		entry.JoinButton.OnTapped()
	})
	var cs *ui.CallScreen
	waitFor(b, 2*time.Minute, "4 tiles with video", func() bool {
		cs = e2e.ui.Call()
		if cs == nil || len(cs.Tiles()) != 4 {
			return false
		}
		for _, t := range cs.Tiles() {
			if t.ShowsPlaceholder() {
				return false
			}
		}
		return true
	})
	defer onUI(func() { cs.Controls().Leave.OnTapped() })
	time.Sleep(3 * time.Second) // steady state

	winX, winY := windowOrigin(b)
	// A point of the round button's face beside its icon: the face
	// changes colour with the state, the icon's white does not.
	face := func(o fyne.CanvasObject) (int, int) {
		var px, py int
		onUI(func() {
			c := e2e.ui.Window().Canvas()
			p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
			s := o.Size()
			px, py = winX+int((p.X+s.Width/2+17)*c.Scale()), winY+int((p.Y+s.Height/2)*c.Scale())
		})
		return px, py
	}
	mx, my := face(cs.Controls().Mic)
	cx, cy := face(cs.Controls().Chat)
	var mute, chat []time.Duration
	for i := 0; i < b.N; i++ {
		mute = append(mute, clickToPixel(b, x, mx, my))
		chat = append(chat, clickToPixel(b, x, cx, cy))
	}
	b.ReportMetric(float64(pctDur(mute, 50).Microseconds())/1000, "mute-p50-ms")
	b.ReportMetric(float64(pctDur(mute, 95).Microseconds())/1000, "mute-p95-ms")
	b.ReportMetric(float64(pctDur(chat, 50).Microseconds())/1000, "chat-p50-ms")
	b.ReportMetric(float64(pctDur(chat, 95).Microseconds())/1000, "chat-p95-ms")
	b.Logf("mute: %v", mute)
	b.Logf("chat: %v", chat)
}

// clickToPixel moves the pointer to (x, y), lets the hover colour settle,
// clicks and returns how long the pixel under the pointer took to change.
func clickToPixel(b *testing.B, d *xpixel.Display, x, y int) time.Duration {
	b.Helper()
	if out, err := exec.Command("xdotool", "mousemove", "--sync", strconv.Itoa(x), strconv.Itoa(y)).CombinedOutput(); err != nil {
		b.Fatalf("xdotool mousemove: %v: %s", err, out)
	}
	// Settled: the same colour for 300 ms.
	before, err := d.Pixel(x, y)
	if err != nil {
		b.Fatal(err)
	}
	for stable := time.Now(); time.Since(stable) < 300*time.Millisecond; time.Sleep(10 * time.Millisecond) {
		p, _ := d.Pixel(x, y)
		if p != before {
			before, stable = p, time.Now()
		}
	}
	start := time.Now()
	if err := d.Click(); err != nil {
		b.Fatal(err)
	}
	// Each look is a round trip to the X server, which also draws the
	// app's frames: every 2 ms is fine enough, and leaves it free to draw.
	for deadline := start.Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if p, _ := d.Pixel(x, y); p != before {
			return time.Since(start)
		}
	}
	shot := filepath.Join(os.TempDir(), "confab-clickbench-fail.png")
	_ = exec.Command("import", "-window", "root", shot).Run()
	b.Fatalf("the pixel at %d,%d did not change within 30 s of the click (screen: %s)", x, y, shot)
	return 0
}

// windowOrigin is the app window's top-left corner on the root window.
func windowOrigin(b *testing.B) (int, int) {
	b.Helper()
	var title string
	onUI(func() { title = e2e.ui.Window().Title() })
	out, err := exec.Command("xdotool", "search", "--name", "^"+title+"$").Output()
	if err != nil {
		b.Fatalf("xdotool search %q: %v", title, err)
	}
	wid := strings.Fields(string(out))[0]
	geo, err := exec.Command("xdotool", "getwindowgeometry", "--shell", wid).Output()
	if err != nil {
		b.Fatalf("xdotool getwindowgeometry: %v", err)
	}
	var x, y int
	for _, line := range strings.Fields(string(geo)) {
		if v, ok := strings.CutPrefix(line, "X="); ok {
			x, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(line, "Y="); ok {
			y, _ = strconv.Atoi(v)
		}
	}
	return x, y
}

// pctDur returns the p-th percentile of ds.
func pctDur(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, (len(s)*p)/100)]
}
