package ui

import (
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
)

// VideoView draws the newest frame of a client.VideoSource, letterboxed to
// keep the frame's aspect ratio. It pulls frames only when Update is
// called, so one ticker can drive every view on a screen. All methods run
// on the UI goroutine.
type VideoView struct {
	widget.BaseWidget

	src    client.VideoSource
	mirror bool
	seq    uint64
	frameW int
	frameH int
	hasFrm bool

	img       *canvas.Image
	mirrorBuf *image.RGBA
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
	v.img.Image = nil
	v.img.Hide()
	v.Refresh()
}

// Source returns the current source, nil for none.
func (v *VideoView) Source() client.VideoSource { return v.src }

// HasFrame reports whether a frame is on show.
func (v *VideoView) HasFrame() bool { return v.hasFrm }

// Update fetches the newest frame and redraws if it is new. It reports
// whether it redrew.
func (v *VideoView) Update() bool {
	if v.src == nil {
		return false
	}
	frame, seq := v.src.Latest()
	if frame == nil || (seq == v.seq && v.hasFrm) {
		return false
	}
	v.seq = seq
	b := frame.Bounds()
	resized := b.Dx() != v.frameW || b.Dy() != v.frameH || !v.hasFrm
	v.frameW, v.frameH = b.Dx(), b.Dy()
	if v.mirror {
		v.img.Image = mirrorInto(&v.mirrorBuf, frame)
	} else {
		v.img.Image = frame
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

// CreateRenderer builds the view's renderer. The bars beside a
// letterboxed frame are left transparent, showing what lies beneath.
func (v *VideoView) CreateRenderer() fyne.WidgetRenderer {
	return &videoRenderer{v: v}
}

type videoRenderer struct {
	v *VideoView
}

func (r *videoRenderer) Layout(size fyne.Size) {
	pos, sz := fitRect(float32(r.v.frameW), float32(r.v.frameH), size)
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

// mirrorInto copies src flipped left to right into *buf, reusing the
// buffer while the frame size stays the same, and returns it.
func mirrorInto(buf **image.RGBA, src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := *buf
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
		*buf = dst
	}
	for y := 0; y < h; y++ {
		s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			si := x * 4
			di := (w - 1 - x) * 4
			copy(d[di:di+4], s[si:si+4])
		}
	}
	return dst
}
