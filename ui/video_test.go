package ui

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestVideoViewMirror(t *testing.T) {
	test.NewTempApp(t)
	src := newFakeSource(4, 2)
	frame := image.NewRGBA(image.Rect(0, 0, 4, 2))
	frame.Set(0, 0, color.RGBA{R: 255, A: 255})
	frame.Set(3, 1, color.RGBA{B: 255, A: 255})
	src.next(frame)

	v := NewVideoView(true)
	v.SetSource(src)
	if !v.Update() {
		t.Fatal("first frame not drawn")
	}
	img := v.img.Image.(*image.RGBA)
	if img == frame {
		t.Fatal("mirrored view draws the source frame itself")
	}
	if got := img.RGBAAt(3, 0); got.R != 255 {
		t.Errorf("pixel (3,0) = %v, want the red of (0,0)", got)
	}
	if got := img.RGBAAt(0, 1); got.B != 255 {
		t.Errorf("pixel (0,1) = %v, want the blue of (3,1)", got)
	}
	if frame.RGBAAt(0, 0).R != 255 {
		t.Error("mirroring changed the source frame")
	}
	if v.Update() {
		t.Error("redrawn with no new frame")
	}
	src.next(image.NewRGBA(image.Rect(0, 0, 4, 2)))
	if !v.Update() {
		t.Fatal("second frame not drawn")
	}
	if v.img.Image.(*image.RGBA) != img {
		t.Error("mirror buffer not reused for a frame of the same size")
	}

	plain := NewVideoView(false)
	plain.SetSource(src)
	plain.Update()
	if plain.img.Image.(*image.RGBA) != mustLatest(src) {
		t.Error("unmirrored view copies the frame")
	}
}

func mustLatest(s *fakeSource) *image.RGBA {
	f, _ := s.Latest()
	return f
}

func TestVideoViewLetterbox(t *testing.T) {
	test.NewTempApp(t)
	v := NewVideoView(false)
	v.SetSource(newFakeSource(640, 480))
	v.Update()
	w := test.NewWindow(v)
	defer w.Close()
	w.SetPadded(false)
	w.Resize(fyne.NewSize(1600, 900))
	v.Resize(fyne.NewSize(1600, 900))
	if p, s := v.img.Position(), v.img.Size(); !near(p.X, 200) || !near(s.Width, 1200) || !near(s.Height, 900) {
		t.Errorf("4:3 frame in 16:9 view placed at %v size %v, want pillarboxed 1200×900 at x=200", p, s)
	}
}
