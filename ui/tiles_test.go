package ui

import (
	"image"
	"math"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/client"
)

func TestGridDims(t *testing.T) {
	cases := []struct{ n, rows, cols int }{
		{0, 0, 0}, {1, 1, 1}, {2, 1, 2}, {3, 2, 2}, {4, 2, 2}, {5, 2, 3}, {6, 2, 3},
		{7, 3, 3}, {8, 3, 3}, {9, 3, 3}, {10, 3, 4}, {11, 3, 4}, {12, 3, 4},
		{13, 4, 4}, {14, 4, 4}, {15, 4, 4}, {16, 4, 4}, {17, 4, 5},
	}
	for _, c := range cases {
		rows, cols := gridDims(c.n)
		if rows != c.rows || cols != c.cols {
			t.Errorf("gridDims(%d) = %d×%d, want %d rows × %d cols", c.n, rows, cols, c.rows, c.cols)
		}
	}
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 0.01 }

func TestArrangeGrid(t *testing.T) {
	size := fyne.NewSize(1280, 720)
	const gap = 10
	for n := 1; n <= 16; n++ {
		rects := arrangeGrid(n, size, gap)
		if len(rects) != n {
			t.Fatalf("n=%d: %d rects", n, len(rects))
		}
		for i, r := range rects {
			if a := r.Size.Width / r.Size.Height; a < minTileAspect-0.01 || a > tileAspect+0.01 {
				t.Errorf("n=%d tile %d: aspect %.3f, want 4:3 to 16:9", n, i, a)
			}
			if r.Pos.X < 0 || r.Pos.Y < 0 || r.Pos.X+r.Size.Width > size.Width+0.01 || r.Pos.Y+r.Size.Height > size.Height+0.01 {
				t.Errorf("n=%d tile %d outside the stage: %+v", n, i, r)
			}
			for j := 0; j < i; j++ {
				o := rects[j]
				if r.Pos.X < o.Pos.X+o.Size.Width-0.01 && o.Pos.X < r.Pos.X+r.Size.Width-0.01 &&
					r.Pos.Y < o.Pos.Y+o.Size.Height-0.01 && o.Pos.Y < r.Pos.Y+r.Size.Height-0.01 {
					t.Errorf("n=%d: tiles %d and %d overlap", n, j, i)
				}
			}
		}
	}
	// One person on a 16:9 stage fills it but for the gaps.
	one := arrangeGrid(1, size, gap)[0]
	if !near(one.Size.Height, 700) || !near(one.Pos.Y, 10) {
		t.Errorf("one tile = %+v, want the full height less the gaps", one)
	}
	// Two sit side by side, centred vertically.
	two := arrangeGrid(2, size, gap)
	if !near(two[0].Pos.Y, two[1].Pos.Y) || two[1].Pos.X <= two[0].Pos.X {
		t.Errorf("two tiles not side by side: %+v", two)
	}
	if !near(two[0].Size.Width, 625) || two[0].Size.Height < 0.6*size.Height {
		t.Errorf("two tiles %v, want (1280-30)/2 wide and most of the 720 height", two[0].Size)
	}
	// On a tall stage two people stack.
	tall := arrangeGrid(2, fyne.NewSize(700, 1000), gap)
	if !near(tall[0].Pos.X, tall[1].Pos.X) || tall[1].Pos.Y <= tall[0].Pos.Y {
		t.Errorf("two tiles on a tall stage do not stack: %+v", tall)
	}
	// Three: two on top, the third centred below.
	three := arrangeGrid(3, size, gap)
	mid := three[2].Pos.X + three[2].Size.Width/2
	if !near(mid, size.Width/2) || three[2].Pos.Y <= three[0].Pos.Y {
		t.Errorf("third tile not centred on the second row: %+v", three[2])
	}
}

func TestArrangePinned(t *testing.T) {
	size := fyne.NewSize(1200, 800)
	rects := arrangePinned(5, 2, size, 10)
	big := rects[2]
	for i, r := range rects {
		if i == 2 {
			continue
		}
		if r.Size.Width*r.Size.Height >= big.Size.Width*big.Size.Height/4 {
			t.Errorf("strip tile %d is not small: %+v", i, r)
		}
		if r.Pos.Y < big.Pos.Y+big.Size.Height {
			t.Errorf("strip tile %d overlaps the pinned tile", i)
		}
		if !near(r.Size.Width/r.Size.Height, tileAspect) {
			t.Errorf("strip tile %d aspect %.3f", i, r.Size.Width/r.Size.Height)
		}
	}
	if big.Size.Width != 1180 {
		t.Errorf("pinned tile width %.1f, want the stage less the gaps", big.Size.Width)
	}
	// Many tiles shrink to fit the strip.
	many := arrangePinned(16, 0, fyne.NewSize(800, 600), 10)
	last := many[15]
	if last.Pos.X+last.Size.Width > 800 {
		t.Errorf("strip overflows: %+v", last)
	}
}

func TestFitRect(t *testing.T) {
	cases := []struct {
		w, h float32
		box  fyne.Size
		pos  fyne.Position
		size fyne.Size
	}{
		{1280, 720, fyne.NewSize(1600, 900), fyne.NewPos(0, 0), fyne.NewSize(1600, 900)},  // same aspect
		{640, 480, fyne.NewSize(1600, 900), fyne.NewPos(200, 0), fyne.NewSize(1200, 900)}, // pillarbox
		{1280, 720, fyne.NewSize(800, 800), fyne.NewPos(0, 175), fyne.NewSize(800, 450)},  // letterbox
		{0, 0, fyne.NewSize(300, 200), fyne.NewPos(0, 0), fyne.NewSize(300, 200)},         // unknown fills
	}
	for _, c := range cases {
		pos, size := fitRect(c.w, c.h, c.box)
		if !near(pos.X, c.pos.X) || !near(pos.Y, c.pos.Y) || !near(size.Width, c.size.Width) || !near(size.Height, c.size.Height) {
			t.Errorf("fitRect(%v×%v in %v) = %v %v, want %v %v", c.w, c.h, c.box, pos, size, c.pos, c.size)
		}
	}
}

func TestInitials(t *testing.T) {
	cases := map[string]string{
		"Dana Scully":         "DS",
		"fox":                 "F",
		"Jean-Luc Picard":     "JP",
		"  Ana María  López ": "AL",
		"émile zola":          "ÉZ",
		"":                    "?",
		"!!!":                 "?",
	}
	for in, want := range cases {
		if got := initials(in); got != want {
			t.Errorf("initials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncateText(t *testing.T) {
	style := fyne.TextStyle{}
	long := "A very long display name that does not fit"
	got := truncateText(long, 100, 13, style)
	if got == long || fyne.MeasureText(got, 13, style).Width > 100 || got[len(got)-len("…"):] != "…" {
		t.Errorf("truncateText = %q", got)
	}
	if got := truncateText("Dana", 100, 13, style); got != "Dana" {
		t.Errorf("short text changed to %q", got)
	}
}

func TestConnectionQualityMark(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox, walter)
	set := func(st client.RemoteStats) {
		st.ID, st.Name, st.Connection = "p1", "Fox Mulder", 1
		c.get(func(c *fakeCall) { c.stats = []client.RemoteStats{st} })
	}
	t0 := time.Now()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	check := func(when string, wantQ Quality, wantTip string) {
		t.Helper()
		if q, tip := cs.Tile("p1").Quality(); q != wantQ || tip != wantTip {
			t.Errorf("%s: %v %q, want %v %q", when, q, tip, wantQ, wantTip)
		}
	}
	rtt := 20 * time.Millisecond
	set(client.RemoteStats{Frames: 100, PacketsReceived: 1000, RTT: rtt})
	cs.updateQuality(at(0))
	check("before a second look", QualityUnknown, "")
	set(client.RemoteStats{Frames: 130, PacketsReceived: 1400, RTT: rtt}) // 15 fps, no loss
	cs.updateQuality(at(2))
	check("at 15 fps", QualityGood, "Good connection: 0% packet loss, 20 ms round trip, 15 frames a second")
	set(client.RemoteStats{Frames: 160, PacketsReceived: 1780, PacketsLost: 20, RTT: rtt}) // 5% loss
	cs.updateQuality(at(4))
	check("at 5% loss", QualityFair, "Fair connection: 5% packet loss, 20 ms round trip, 15 frames a second")
	set(client.RemoteStats{Frames: 190, PacketsReceived: 2080, PacketsLost: 120, RTT: rtt}) // 25% loss
	cs.updateQuality(at(6))
	check("at 25% loss", QualityPoor, "Poor connection: 25% packet loss, 20 ms round trip, 15 frames a second")
	set(client.RemoteStats{Frames: 220, PacketsReceived: 2480, PacketsLost: 120, RTT: 450 * time.Millisecond})
	cs.updateQuality(at(8))
	check("at 450 ms", QualityFair, "Fair connection: 0% packet loss, 450 ms round trip, 15 frames a second")
	set(client.RemoteStats{Frames: 224, PacketsReceived: 2880, PacketsLost: 120, RTT: rtt}) // 2 fps
	cs.updateQuality(at(10))
	check("at 2 fps", QualityPoor, "Poor connection: 0% packet loss, 20 ms round trip, 2 frames a second")
	cs.updateQuality(at(14)) // nothing for 4 s
	check("stalled", QualityPoor, "Poor connection: 20 ms round trip, no video for 4 s")
	// A new connection starts its totals again: no loss is made up from it.
	c.get(func(c *fakeCall) {
		c.stats = []client.RemoteStats{{ID: "p1", Frames: 254, PacketsReceived: 300, Connection: 2, RTT: rtt}}
	})
	cs.updateQuality(at(16))
	check("after a reconnect", QualityGood, "Good connection: 20 ms round trip, 15 frames a second")
	// No mark on your own tile or on someone nothing has come from.
	if q, _ := cs.Tile("p0").Quality(); q != QualityUnknown {
		t.Errorf("own tile has a quality mark %v", q)
	}
	if q, _ := cs.Tile("p2").Quality(); q != QualityUnknown {
		t.Errorf("a tile with no stats has a quality mark %v", q)
	}
	cs.Tile("p1").MouseIn(nil)
	if h.app.tips.text != "Good connection: 20 ms round trip, 15 frames a second" {
		t.Errorf("tooltip %q", h.app.tips.text)
	}
}

// tileForTest is Grace's tile, w x h, in a test window closed when t
// ends, and its renderer.
func tileForTest(t *testing.T, w, h float32) (*Tile, *tileRenderer) {
	test.NewTempApp(t)
	tile := NewTile("p1", "p1", "Grace", false, false)
	win := test.NewWindow(container.NewWithoutLayout(tile))
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(w+40, h+40))
	tile.Resize(fyne.NewSize(w, h))
	return tile, test.WidgetRenderer(tile).(*tileRenderer)
}

// TestTileBackgroundBesideVideo checks that a tile's background is drawn
// only where its video is not: beside a letterboxed frame (the sides cover
// exactly the bars, reaching under the frame by a unit), nowhere under a
// frame that fills the tile (whose corners are then rounded), and whole
// without video.
func TestTileBackgroundBesideVideo(t *testing.T) {
	const w, h = 320, 180
	tile, r := tileForTest(t, w, h)

	if !r.bg.Visible() || r.caps[0].Visible() {
		t.Fatal("without video: want the whole background and no sides")
	}

	// 4:3 video in a 16:9 tile: bars left and right, 40 units each.
	src := newFakeSource(64, 48)
	tile.Video.SetSource(src)
	if !tile.updateVideo() {
		t.Fatal("the first frame was not drawn")
	}
	if r.bg.Visible() {
		t.Error("the background still shows under letterboxed video")
	}
	var covered float32 // the area the sides cover, overlaps counted once per side
	for side := 0; side < 2; side++ {
		minX, maxX := float32(math.Inf(1)), float32(math.Inf(-1))
		minY, maxY := minX, maxX
		for _, p := range []fyne.CanvasObject{r.caps[2*side], r.mids[side], r.caps[2*side+1]} {
			if !p.Visible() {
				t.Fatalf("side %d: a piece is hidden", side)
			}
			pos, sz := p.Position(), p.Size()
			minX, maxX = min(minX, pos.X), max(maxX, pos.X+sz.Width)
			minY, maxY = min(minY, pos.Y), max(maxY, pos.Y+sz.Height)
		}
		if minY != 0 || maxY != h {
			t.Errorf("side %d spans y %v..%v, want 0..%d", side, minY, maxY, h)
		}
		covered += (maxX - minX) * (maxY - minY)
		want := [2][2]float32{{0, 41}, {279, 320}}[side]
		if !near(minX, want[0]) || !near(maxX, want[1]) {
			t.Errorf("side %d spans x %v..%v, want %v..%v", side, minX, maxX, want[0], want[1])
		}
	}
	if cr := r.caps[0].TopLeftCornerRadius; cr != tileRadius || r.caps[1].BottomLeftCornerRadius != tileRadius ||
		r.caps[2].TopRightCornerRadius != tileRadius || r.caps[3].BottomRightCornerRadius != tileRadius {
		t.Error("the sides' caps do not round the tile's corners")
	}
	for _, c := range r.caps {
		if c.TopLeftCornerRadius+c.TopRightCornerRadius+c.BottomLeftCornerRadius+c.BottomRightCornerRadius != tileRadius {
			t.Error("a cap rounds other than its one tile corner")
		}
	}
	if r.mids[0].CornerRadius != 0 || r.mids[1].CornerRadius != 0 {
		t.Error("a side's middle is rounded: it should be a plain fill")
	}
	if tile.Video.img.CornerRadius != 0 {
		t.Error("letterboxed video has rounded corners inside the tile")
	}

	// 16:9 video fills the tile: no background at all, rounded video.
	src.next(image.NewRGBA(image.Rect(0, 0, 64, 36)))
	tile.updateVideo()
	if r.bg.Visible() || r.caps[0].Visible() || r.mids[1].Visible() {
		t.Error("a background shows under video that fills the tile")
	}
	if tile.Video.img.CornerRadius != tileRadius {
		t.Errorf("video filling the tile: corner radius %v, want %v", tile.Video.img.CornerRadius, tileRadius)
	}

	// Camera off: the placeholder on the whole background again.
	tile.setState("Grace", false, true, false, false)
	if !r.bg.Visible() || r.caps[0].Visible() {
		t.Error("camera off: want the whole background and no sides")
	}
}

// TestSpeakingBorder checks the active-speaker border: shown only while
// the person speaks, strips along the four edges between the corners,
// reaching a unit into the corner rings, and a quarter ring in each
// corner box, all inside the tile.
func TestSpeakingBorder(t *testing.T) {
	const w, h = 320, 180
	tile, r := tileForTest(t, w, h)
	b := r.border
	visible := func() (n int) {
		for _, o := range b.objects() {
			if o.Visible() {
				n++
			}
		}
		return n
	}
	if n := visible(); n != 0 {
		t.Fatalf("not speaking: %d pieces of the border show", n)
	}
	tile.setState("Grace", false, false, true, false)
	if n := visible(); n != 8 {
		t.Fatalf("speaking: %d of 8 pieces of the border show", n)
	}
	if !tile.Speaking() {
		t.Fatal("Speaking() is false while the border shows")
	}

	const bw, rad = speakingBorderWidth, tileRadius
	type rect struct{ x, y, w, h float32 }
	want := []rect{
		{rad - 1, 0, w - 2*rad + 2, bw},      // top
		{rad - 1, h - bw, w - 2*rad + 2, bw}, // bottom
		{0, rad - 1, bw, h - 2*rad + 2},      // left
		{w - bw, rad - 1, bw, h - 2*rad + 2}, // right
		{0, 0, 2 * rad, 2 * rad},             // rings: top left
		{w - 2*rad, 0, 2 * rad, 2 * rad},     // top right
		{w - 2*rad, h - 2*rad, 2 * rad, 2 * rad},
		{0, h - 2*rad, 2 * rad, 2 * rad},
	}
	for i, o := range b.objects() {
		p, s := o.Position(), o.Size()
		got := rect{p.X, p.Y, s.Width, s.Height}
		if got != want[i] {
			t.Errorf("piece %d at %+v, want %+v", i, got, want[i])
		}
	}
	for i, ring := range b.rings {
		if ring.EndAngle-ring.StartAngle != 90 {
			t.Errorf("ring %d spans %v degrees, want a quarter", i, ring.EndAngle-ring.StartAngle)
		}
		if got := ring.CutoutRatio * rad; got < rad-bw-0.01 || got > rad-bw+0.01 {
			t.Errorf("ring %d is %v thick, want %d", i, rad-got, bw)
		}
	}

	tile.setState("Grace", false, false, false, false)
	if n := visible(); n != 0 {
		t.Fatalf("stopped speaking: %d pieces of the border still show", n)
	}
}
