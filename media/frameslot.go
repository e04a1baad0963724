package media

import (
	"image"
	"sync"
	"sync/atomic"
)

// FrameSlot holds the newest video frame of one stream, as Y'CbCr 4:2:0
// (I420). It is the hand-off between a producer (a decoder or a camera
// preview) and the views that draw it: it never queues, a new frame
// replaces the previous one, and its buffers are recycled, so it neither
// grows nor allocates once the frame size is stable.
//
// A frame is converted to RGBA only when a view draws it, by Render, at
// the size the view shows it and into the view's own buffer. Frames no
// view asks for cost a copy into the slot and nothing else.
//
// One goroutine writes (Write or Put). Any number of goroutines read
// (Render, Latest, Seq); Render calls run one at a time. Frames are filled
// off to the side and published with a pointer swap, and the writer never
// reuses the buffer a Render is reading, so neither waits for the other's
// pixel work: the slot keeps at most three buffers (the published frame,
// the one a Render is reading and the one being written).
type FrameSlot struct {
	mu      sync.Mutex
	bufs    [3]*image.YCbCr // allocated lazily; nil until needed
	front   *image.YCbCr    // published; never written while published
	reading *image.YCbCr    // the frame a Render is converting, or nil
	seq     atomic.Uint64

	// renderMu serialises Render calls, which share the scratch.
	renderMu sync.Mutex
	scratch  renderScratch
}

// NewFrameSlot returns an empty slot.
func NewFrameSlot() *FrameSlot { return &FrameSlot{} }

// Write publishes a width x height frame that fill draws into dst, a
// 4:2:0 picture with its origin at (0,0) and tight strides (YStride width,
// CStride (width+1)/2) whose previous contents are undefined. Write is for
// the single writer goroutine; fill must not keep dst. Non-positive sizes
// are ignored.
func (s *FrameSlot) Write(width, height int, fill func(dst *image.YCbCr)) {
	if width <= 0 || height <= 0 {
		return
	}
	s.mu.Lock()
	i := s.freeLocked()
	s.mu.Unlock()
	if i < 0 {
		return // cannot happen (see freeLocked); drop the frame rather than tear one
	}

	// No reader can see bufs[i]: it is neither published nor being read,
	// and only Write publishes.
	back := sizeI420(s.bufs[i], width, height)
	fill(back)

	s.mu.Lock()
	s.bufs[i] = back
	s.front = back
	s.seq.Add(1)
	s.mu.Unlock()
}

// freeLocked returns the index of a buffer that is neither published nor
// being read, or -1 if there is none. Render calls run one at a time, so
// at most two of the three are busy and there always is one.
func (s *FrameSlot) freeLocked() int {
	for i, b := range s.bufs {
		if b == nil || (b != s.front && b != s.reading) {
			return i
		}
	}
	return -1
}

// Put publishes a copy of img; the caller keeps img. Y'CbCr 4:2:0 (VP8,
// most cameras) is copied, 4:2:2 and 4:4:4 and RGBA are converted with
// libyuv; other types go through image/draw, which allocates. It is for
// the single writer goroutine. A nil or empty image is ignored.
func (s *FrameSlot) Put(img image.Image) {
	if img == nil {
		return
	}
	b := img.Bounds()
	s.Write(b.Dx(), b.Dy(), func(dst *image.YCbCr) { fillI420(dst, img) })
}

// Render converts the newest frame to RGBA at width x height (the frame's
// own size when either is not positive), flipped left to right when mirror
// is set, into dst: dst is resized to that size with its origin at (0,0)
// and Stride 4*width, reusing its pixels when they are large enough. It
// returns the image written (dst, or a new one when dst was too small or
// nil), the frame's own size and its sequence number. Before the first
// frame it returns (dst, (0,0), 0) and leaves dst alone.
//
// The frame is scaled in Y'CbCr with libyuv's box filter, then converted,
// so the cost follows the smaller of the two sizes. Once dst is large
// enough and the sizes stay the same, Render allocates nothing.
func (s *FrameSlot) Render(dst *image.RGBA, width, height int, mirror bool) (*image.RGBA, image.Point, uint64) {
	s.renderMu.Lock()
	defer s.renderMu.Unlock()
	s.mu.Lock()
	f, seq := s.front, s.seq.Load()
	s.reading = f
	s.mu.Unlock()
	if f == nil {
		return dst, image.Point{}, 0
	}
	size := f.Rect.Size()
	if width <= 0 || height <= 0 {
		width, height = size.X, size.Y
	}
	dst = render(dst, f, width, height, mirror, &s.scratch)
	s.mu.Lock()
	s.reading = nil
	s.mu.Unlock()
	return dst, size, seq
}

// Latest returns a new RGBA copy of the newest frame at its own size and
// its sequence number, or (nil, 0) before the first frame. It allocates a
// frame's worth of pixels on every call: it is for tests and one-off
// snapshots; views render into their own buffers with Render.
func (s *FrameSlot) Latest() (*image.RGBA, uint64) {
	img, _, seq := s.Render(nil, 0, 0, false)
	return img, seq
}

// Seq returns the sequence number of the newest frame: 0 before the first
// one, then 1, 2, ... A reader polls it to learn whether to redraw.
func (s *FrameSlot) Seq() uint64 { return s.seq.Load() }
