package media

import "image"

// Scaler scales video frames into 4:2:0 pictures of a chosen size with
// libyuv, for encoders that send one camera at several sizes (simulcast).
// It keeps the intermediate 4:2:0 copy of sources that are not 4:2:0
// (4:2:2 cameras, RGBA screens) between calls, so that once the sizes are
// stable it allocates nothing. A Scaler is used by one goroutine at a
// time; the zero value is ready.
type Scaler struct {
	conv *image.YCbCr
}

// Scale writes src, scaled to w x h with a box filter, into dst and
// returns it: a 4:2:0 picture with its origin at (0,0) and tight strides.
// dst is nil or a picture Scale returned before; its buffer is reused when
// large enough. A source of that size is copied (converted to 4:2:0 when
// it is not). Sizes below 1 are taken as 1.
func (s *Scaler) Scale(dst *image.YCbCr, src image.Image, w, h int) *image.YCbCr {
	w, h = max(w, 1), max(h, 1)
	b := src.Bounds()
	if b.Empty() {
		dst = sizeI420(dst, w, h)
		clear(dst.Y)
		for i := range dst.Cb {
			dst.Cb[i], dst.Cr[i] = 128, 128
		}
		return dst
	}
	if b.Dx() == w && b.Dy() == h {
		dst = sizeI420(dst, w, h)
		fillI420(dst, src)
		return dst
	}
	var p planes
	ok := false
	if y, isYCbCr := src.(*image.YCbCr); isYCbCr && y.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		p, ok = planesOf(y)
	}
	if !ok {
		s.conv = sizeI420(s.conv, b.Dx(), b.Dy())
		fillI420(s.conv, src)
		p = i420(s.conv)
	}
	dst = sizeI420(dst, w, h)
	scaleI420(i420(dst), p)
	return dst
}
