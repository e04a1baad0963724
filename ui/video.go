package ui

import (
	"image"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
)

// shownCheckEvery is how long a view trusts its last look at whether its
// window is minimised (see windowShown).
const shownCheckEvery = 500 * time.Millisecond

// VideoView draws the newest frame of a client.VideoSource, letterboxed to
// keep the frame's aspect ratio. It pulls frames only when Update is
// called, so one ticker can drive every view on a screen.
//
// The view owns the pixels it shows: on each Update that has something new
// to show, the source scales and converts its frame once, straight into
// the view's buffer, at the size the frame takes on screen in device
// pixels. A frame nobody sees (the view has no size, is hidden, or its
// window is minimised) is not converted at all, and the GPU (on llvmpipe,
// the CPU) uploads a texture of the drawn size, not of the camera's. All
// methods run on the UI goroutine.
type VideoView struct {
	widget.BaseWidget

	src    client.VideoSource
	mirror bool
	seq    uint64      // sequence number of the frame on show
	frame  image.Point // that frame's own size, which sets the letterbox
	hasFrm bool
	drawn  image.Point // size of buf's picture in device pixels
	first  time.Time   // when the first frame was drawn

	img *canvas.Image
	buf *image.RGBA // the view's own pixels, reused frame after frame

	shown     bool      // last answer of windowShown
	shownAt   time.Time // when it was asked
	shownFrom fyne.Canvas

	// refreshes counts the frames handed to the painter; tests read it.
	refreshes int
}

// NewVideoView returns an empty view; mirror flips frames horizontally, as
// people expect of their own camera.
func NewVideoView(mirror bool) *VideoView {
	v := &VideoView{mirror: mirror}
	v.img = &canvas.Image{FillMode: canvas.ImageFillStretch, ScaleMode: canvas.ImageScaleFastest}
	v.img.Hide()
	v.ExtendBaseWidget(v)
	return v
}

// SetSource switches to another source, or to none with nil. The old
// frame stays hidden until the new source delivers one.
func (v *VideoView) SetSource(src client.VideoSource) {
	if v.src == src {
		return
	}
	v.src = src
	v.seq = 0
	v.hasFrm = false
	v.frame = image.Point{}
	v.drawn = image.Point{}
	v.img.Image = nil
	v.img.Hide()
	v.Refresh()
}

// Source returns the current source, nil for none.
func (v *VideoView) Source() client.VideoSource { return v.src }

// HasFrame reports whether a frame is on show.
func (v *VideoView) HasFrame() bool { return v.hasFrm }

// FrameSize returns the own size of the frame on show, (0,0) before one.
func (v *VideoView) FrameSize() image.Point { return v.frame }

// setCornerRadius rounds the drawn frame's corners, for a frame that fills
// its tile.
func (v *VideoView) setCornerRadius(r float32) {
	if v.img.CornerRadius != r {
		v.img.CornerRadius = r
		canvas.Refresh(v.img)
	}
}

// FirstFrameAt returns when the view drew its first frame, zero before.
func (v *VideoView) FirstFrameAt() time.Time { return v.first }

// Update draws the newest frame if there is a new one, or if the view's
// size on screen changed since the last one was drawn; it reports whether
// it drew. It does nothing while the view is not on a canvas, has no
// size, is hidden (once it has shown a frame: a tile hides its view until
// the first frame arrives) or its window is minimised.
func (v *VideoView) Update() bool {
	if v.src == nil {
		return false
	}
	seq := v.src.Seq()
	if seq == 0 || (v.hasFrm && !v.Visible()) {
		return false
	}
	// Fyne knows the canvas of an object only once it has been on show,
	// and a tile hides its view until there is a first frame to show: that
	// frame is drawn at the main window's scale (the next Update corrects
	// the scale if it differs), so the tile learns there is video.
	c := canvasFor(v)
	var scale float32
	switch {
	case c != nil:
		scale = c.Scale()
	case v.hasFrm:
		return false // on no window
	default:
		scale = mainScale()
	}
	px := v.pixelSize(scale)
	if px.X <= 0 || px.Y <= 0 || (v.hasFrm && seq == v.seq && px == v.drawn) {
		return false
	}
	if c != nil && !v.windowShown(c) {
		return false
	}
	out, frame, got := v.src.Render(v.buf, px.X, px.Y, v.mirror)
	if got == 0 {
		return false
	}
	resized := frame != v.frame || !v.hasFrm
	if frame != v.frame {
		// The first frame, or a new frame size: fit the new aspect and
		// draw again at the size it takes on screen.
		v.frame = frame
		if fit := v.pixelSize(scale); fit != px && fit.X > 0 && fit.Y > 0 {
			px = fit
			out, frame, got = v.src.Render(out, px.X, px.Y, v.mirror)
			if frame != v.frame {
				px = image.Point{} // changed again: the next Update fits it
			}
		}
	}
	v.buf, v.seq, v.drawn = out, got, px
	v.img.Image = out
	if v.first.IsZero() {
		v.first = time.Now()
	}
	v.hasFrm = true
	v.refreshes++
	if resized {
		v.img.Show()
		v.Refresh()
		return true
	}
	canvas.Refresh(v.img)
	return true
}

// pixelSize returns the size in device pixels of the rectangle the frame
// takes in the view (see fitRect), rounded as Fyne's painter rounds the
// texture size of a canvas.Image.
func (v *VideoView) pixelSize(scale float32) image.Point {
	_, sz := fitRect(float32(v.frame.X), float32(v.frame.Y), v.Size())
	return image.Pt(int(math.Round(float64(sz.Width*scale))), int(math.Round(float64(sz.Height*scale))))
}

// windowShown reports whether the view's window is shown (not minimised),
// asking the windowing system at most every shownCheckEvery.
func (v *VideoView) windowShown(c fyne.Canvas) bool {
	if now := time.Now(); c != v.shownFrom || now.Sub(v.shownAt) >= shownCheckEvery {
		v.shown, v.shownAt, v.shownFrom = windowShown(c), now, c
	}
	return v.shown
}

// canvasFor returns the canvas o is drawn on, or nil when it is on none
// (or there is no app).
func canvasFor(o fyne.CanvasObject) fyne.Canvas {
	a := fyne.CurrentApp()
	if a == nil || a.Driver() == nil {
		return nil
	}
	return a.Driver().CanvasForObject(o)
}

// mainScale returns the scale of the app's first window, or 1.
func mainScale() float32 {
	if a := fyne.CurrentApp(); a != nil && a.Driver() != nil {
		if ws := a.Driver().AllWindows(); len(ws) > 0 {
			return ws[0].Canvas().Scale()
		}
	}
	return 1
}

// CreateRenderer builds the view's renderer. The bars beside a
// letterboxed frame are left transparent, showing what lies beneath.
func (v *VideoView) CreateRenderer() fyne.WidgetRenderer {
	return &videoRenderer{v: v}
}

type videoRenderer struct {
	v *VideoView
}

func (r *videoRenderer) Layout(size fyne.Size) {
	pos, sz := fitRect(float32(r.v.frame.X), float32(r.v.frame.Y), size)
	r.v.img.Move(pos)
	r.v.img.Resize(sz)
}

func (r *videoRenderer) MinSize() fyne.Size { return fyne.NewSize(16, 9) }

func (r *videoRenderer) Refresh() {
	r.Layout(r.v.Size())
	if r.v.hasFrm {
		r.v.img.Show()
	} else {
		r.v.img.Hide()
	}
	canvas.Refresh(r.v.img)
}

func (r *videoRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.v.img}
}

func (r *videoRenderer) Destroy() {}

// fitRect returns the largest rectangle of aspect w:h that fits in box,
// centred: the letterbox (or pillarbox) placement of a frame. An unknown
// aspect fills the box.
func fitRect(w, h float32, box fyne.Size) (fyne.Position, fyne.Size) {
	if w <= 0 || h <= 0 || box.Width <= 0 || box.Height <= 0 {
		return fyne.NewPos(0, 0), box
	}
	scale := box.Width / w
	if hs := box.Height / h; hs < scale {
		scale = hs
	}
	sz := fyne.NewSize(w*scale, h*scale)
	return fyne.NewPos((box.Width-sz.Width)/2, (box.Height-sz.Height)/2), sz
}
