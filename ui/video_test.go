package ui

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
)

// onWindow puts v on a test window of size w x h, without padding, and
// gives it that size; the window does not lay it out, so tests set its
// size.
func onWindow(t *testing.T, v *VideoView, w, h float32) fyne.Window {
	t.Helper()
	win := test.NewWindow(container.NewWithoutLayout(v))
	t.Cleanup(win.Close)
	win.SetPadded(false)
	win.Resize(fyne.NewSize(w, h))
	v.Resize(fyne.NewSize(w, h))
	return win
}

func mustLatest(s *fakeSource) *image.RGBA {
	f, _ := s.Latest()
	return f
}

func TestVideoViewMirror(t *testing.T) {
	test.NewTempApp(t)
	src := newFakeSource(4, 2)
	frame := image.NewRGBA(image.Rect(0, 0, 4, 2))
	frame.Set(0, 0, color.RGBA{R: 255, A: 255})
	frame.Set(3, 1, color.RGBA{B: 255, A: 255})
	src.next(frame)

	v := NewVideoView(true)
	onWindow(t, v, 4, 2)
	v.SetSource(src)
	if !v.Update() {
		t.Fatal("first frame not drawn")
	}
	img := v.img.Image.(*image.RGBA)
	if img == frame {
		t.Fatal("the view draws the source's frame, not its own buffer")
	}
	if got := src.rendered(); len(got) != 1 || got[0] != (fakeRender{image.Pt(4, 2), true}) {
		t.Fatalf("renders %+v, want one at 4x2 mirrored", got)
	}
	if got := img.RGBAAt(3, 0); got.R != 255 {
		t.Errorf("pixel (3,0) = %v, want the red of (0,0)", got)
	}
	if got := img.RGBAAt(0, 1); got.B != 255 {
		t.Errorf("pixel (0,1) = %v, want the blue of (3,1)", got)
	}
	if v.Update() {
		t.Error("redrawn with no new frame")
	}
	src.next(image.NewRGBA(image.Rect(0, 0, 4, 2)))
	if !v.Update() {
		t.Fatal("second frame not drawn")
	}
	if v.img.Image.(*image.RGBA) != img {
		t.Error("the view's buffer was not reused for a frame of the same size")
	}

	plain := NewVideoView(false)
	onWindow(t, plain, 4, 2)
	plain.SetSource(src)
	plain.Update()
	if got := src.rendered(); got[len(got)-1].mirror {
		t.Error("unmirrored view asked for a mirrored frame")
	}
}

// TestVideoViewRendersAtShownSize: frames are converted at the size they
// take on screen in device pixels, letterboxed, and again when that size
// changes.
func TestVideoViewRendersAtShownSize(t *testing.T) {
	test.NewTempApp(t)
	src := newFakeSource(640, 480)
	v := NewVideoView(false)
	win := onWindow(t, v, 1600, 900)
	v.SetSource(src)
	if !v.Update() {
		t.Fatal("first frame not drawn")
	}
	last := func() fakeRender { r := src.rendered(); return r[len(r)-1] }
	if got := last(); got.size != image.Pt(1200, 900) {
		t.Errorf("rendered at %v, want the pillarboxed 1200x900", got.size)
	}
	if p, s := v.img.Position(), v.img.Size(); !near(p.X, 200) || !near(s.Width, 1200) || !near(s.Height, 900) {
		t.Errorf("4:3 frame in 16:9 view placed at %v size %v, want pillarboxed 1200×900 at x=200", p, s)
	}
	if b := v.img.Image.Bounds(); b != image.Rect(0, 0, 1200, 900) {
		t.Errorf("image %v", b)
	}

	n := len(src.rendered())
	v.Resize(fyne.NewSize(320, 240))
	if !v.Update() || last().size != image.Pt(320, 240) {
		t.Errorf("after a resize: rendered at %v, want 320x240", last().size)
	}
	if v.Update() || len(src.rendered()) != n+1 {
		t.Errorf("rendered %d times for one resize", len(src.rendered())-n)
	}

	win.Canvas().(interface{ SetScale(float32) }).SetScale(2)
	if !v.Update() || last().size != image.Pt(640, 480) {
		t.Errorf("at scale 2: rendered at %v, want 640x480 device pixels", last().size)
	}

	// A new frame size: fitted and drawn at once, in one Update.
	src.next(image.NewRGBA(image.Rect(0, 0, 320, 320)))
	if !v.Update() || last().size != image.Pt(480, 480) {
		t.Errorf("square frame: rendered at %v, want 480x480", last().size)
	}
}

// TestVideoViewSkipsUnseenFrames: nothing is converted for a view that
// has no size or is hidden. (A view on no window is skipped too, but the
// test driver finds a canvas for any object.)
func TestVideoViewSkipsUnseenFrames(t *testing.T) {
	test.NewTempApp(t)
	src := newFakeSource(64, 48)
	v := NewVideoView(false)
	onWindow(t, v, 64, 48)
	v.Resize(fyne.NewSize(0, 0))
	v.SetSource(src)
	if v.Update() || len(src.rendered()) != 0 {
		t.Error("a view of no size converted a frame")
	}

	// Hidden before its first frame (a tile shows its placeholder until
	// then): the first frame is drawn, so the tile learns there is video.
	v.Resize(fyne.NewSize(64, 48))
	v.Hide()
	if !v.Update() || !v.HasFrame() {
		t.Fatal("first frame of a hidden view not drawn")
	}
	n := len(src.rendered())
	for i := 0; i < 3; i++ {
		src.next(mustLatest(src))
		if v.Update() {
			t.Error("a hidden view drew a frame")
		}
	}
	if len(src.rendered()) != n {
		t.Errorf("a hidden view converted %d frames", len(src.rendered())-n)
	}
	v.Show()
	if !v.Update() || len(src.rendered()) != n+1 {
		t.Error("shown again: the newest frame was not drawn once")
	}
}
