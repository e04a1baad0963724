package media

import (
	"image"
	"sync"
	"sync/atomic"
)

// FrameSlot holds the newest video frame of one stream. It is the hand-off
// between a producer (a decoder or a camera preview) and the UI: it never
// queues, a new frame replaces the previous one, and it holds at most three
// buffers of the current frame size (the published frame, the one being
// written and a spare), so it cannot grow.
//
// One goroutine writes (Put or Write). Any number of goroutines read
// (Latest, CopyLatest, Seq). A reader never sees a frame while it is being
// written: frames are filled off to the side and published with a pointer
// swap.
//
// Ownership: a frame returned by Latest belongs to the reader from then on
// and is never written again by the slot, so it may be handed to a widget
// that draws later. Handing frames out this way costs the slot one
// allocation for the next frame it writes; readers that redraw at the frame
// rate should prefer CopyLatest into buffers they own, which allocates
// nothing once sizes are stable.
type FrameSlot struct {
	mu    sync.Mutex
	front *image.RGBA // published; immutable while published
	spare *image.RGBA // a buffer no reader can see; the writer reuses it
	lent  bool        // front was given away by Latest; do not recycle it
	seq   atomic.Uint64
}

// NewFrameSlot returns an empty slot.
func NewFrameSlot() *FrameSlot { return &FrameSlot{} }

// Write publishes a width x height frame that fill draws into dst. dst has
// its origin at (0,0) and Stride 4*width; its previous contents are
// undefined. Write is for the single writer goroutine; fill must not keep
// dst. Non-positive sizes are ignored.
func (s *FrameSlot) Write(width, height int, fill func(dst *image.RGBA)) {
	if width <= 0 || height <= 0 {
		return
	}
	s.mu.Lock()
	back := s.spare
	s.spare = nil
	s.mu.Unlock()

	back = sizeRGBA(back, width, height)
	fill(back)

	s.mu.Lock()
	old := s.front
	s.front = back
	if old != nil && !s.lent {
		s.spare = old
	}
	s.lent = false
	s.seq.Add(1)
	s.mu.Unlock()
}

// Put publishes a copy of img; the caller keeps img. It is for the single
// writer goroutine. A nil or empty image is ignored.
func (s *FrameSlot) Put(img *image.RGBA) {
	if img == nil {
		return
	}
	b := img.Bounds()
	s.Write(b.Dx(), b.Dy(), func(dst *image.RGBA) {
		copyRGBA(dst, img)
	})
}

// Latest returns the newest frame and its sequence number, or (nil, 0)
// before the first frame. The frame is the caller's to keep and must be
// treated as read-only; the slot never writes to it again.
func (s *FrameSlot) Latest() (*image.RGBA, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.front == nil {
		return nil, 0
	}
	s.lent = true
	return s.front, s.seq.Load()
}

// CopyLatest copies the newest frame into dst, reusing dst's pixels when
// they are large enough, and returns the image written (dst or a new one)
// with its sequence number. Before the first frame it returns (dst, 0).
func (s *FrameSlot) CopyLatest(dst *image.RGBA) (*image.RGBA, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.front == nil {
		return dst, 0
	}
	b := s.front.Bounds()
	dst = sizeRGBA(dst, b.Dx(), b.Dy())
	copyRGBA(dst, s.front)
	return dst, s.seq.Load()
}

// Seq returns the sequence number of the newest frame: 0 before the first
// one, then 1, 2, ... A reader polls it to learn whether to redraw.
func (s *FrameSlot) Seq() uint64 { return s.seq.Load() }

// sizeRGBA returns img resized to w x h with its origin at (0,0), reusing
// its pixel buffer when the capacity allows.
func sizeRGBA(img *image.RGBA, w, h int) *image.RGBA {
	n := 4 * w * h
	if img == nil || cap(img.Pix) < n {
		return image.NewRGBA(image.Rect(0, 0, w, h))
	}
	img.Pix = img.Pix[:n]
	img.Stride = 4 * w
	img.Rect = image.Rect(0, 0, w, h)
	return img
}

// copyRGBA copies src into dst, which has src's size and its origin at (0,0).
func copyRGBA(dst, src *image.RGBA) {
	b := src.Bounds()
	rowLen := 4 * b.Dx()
	if src.Stride == rowLen && dst.Stride == rowLen {
		copy(dst.Pix, src.Pix[src.PixOffset(b.Min.X, b.Min.Y):][:rowLen*b.Dy()])
		return
	}
	for y := 0; y < b.Dy(); y++ {
		so := src.PixOffset(b.Min.X, b.Min.Y+y)
		copy(dst.Pix[y*dst.Stride:y*dst.Stride+rowLen], src.Pix[so:so+rowLen])
	}
}
