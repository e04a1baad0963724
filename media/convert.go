package media

import (
	"image"
	"image/draw"
)

// Video frames stay Y'CbCr 4:2:0 (I420) from the decoder or the camera to
// the moment a view draws them; only then are they scaled to the size on
// screen and converted to RGBA, in one pass of libyuv each (see yuv.go).
// Both ends use BT.601 studio range ("TV range", Y in 16..235): VP8
// (RFC 6386, section 9.2) and V4L2 cameras deliver it, and Go's
// image/color, which assumes full (JFIF) range, would render it washed out.

// sizeI420 returns img resized to a w x h 4:2:0 picture with its origin at
// (0,0) and tight strides, reusing its buffer when the capacity allows.
// The three planes lie back to back in one buffer, and Y's capacity runs
// to the end of it, so that a picture from sizeI420 can be resized again.
func sizeI420(img *image.YCbCr, w, h int) *image.YCbCr {
	cw, ch := (w+1)/2, (h+1)/2
	ny, nc := w*h, cw*ch
	n := ny + 2*nc
	if img == nil || cap(img.Y) < n {
		img = &image.YCbCr{Y: make([]byte, n)}
	}
	buf := img.Y[:n]
	img.Y = buf[:ny]
	img.Cb = buf[ny : ny+nc : ny+nc]
	img.Cr = buf[ny+nc : n : n]
	img.YStride, img.CStride = w, cw
	img.SubsampleRatio = image.YCbCrSubsampleRatio420
	img.Rect = image.Rect(0, 0, w, h)
	return img
}

// i420 returns the planes of a picture made by sizeI420.
func i420(img *image.YCbCr) planes {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	return planes{y: img.Y, u: img.Cb, v: img.Cr, ys: img.YStride, cs: img.CStride,
		w: w, h: h, cw: (w + 1) / 2, ch: (h + 1) / 2}
}

// sizeRGBA returns img resized to w x h with its origin at (0,0) and
// Stride 4*w, reusing its pixel buffer when the capacity allows.
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

// fillI420 converts src into dst, a 4:2:0 picture of src's size from
// sizeI420. Y'CbCr 4:2:0, 4:2:2 and 4:4:4 (what VP8, cameras and the
// mediadevices test drivers give) and RGBA (screen capture) take libyuv;
// anything else is drawn into an RGBA picture first, which allocates.
func fillI420(dst *image.YCbCr, src image.Image) {
	d := i420(dst)
	switch s := src.(type) {
	case *image.YCbCr:
		if p, ok := planesOf(s); ok {
			toI420(d, p, s.SubsampleRatio)
		} else {
			subsample(dst, s)
		}
		return
	case *image.RGBA:
		b := s.Rect
		if o := s.PixOffset(b.Min.X, b.Min.Y); b.Dx() > 0 && s.Stride >= 4*b.Dx() &&
			len(s.Pix) >= o+(b.Dy()-1)*s.Stride+4*b.Dx() {
			rgbaToI420(d, s.Pix[o:], s.Stride)
			return
		}
	}
	b := src.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, src, b.Min, draw.Src)
	rgbaToI420(d, rgba.Pix, rgba.Stride)
}

// subsample copies a Y'CbCr picture of a rare layout (4:4:0, 4:1:1,
// 4:1:0) into dst, taking for each 2x2 block the chroma sample of its
// top-left pixel.
func subsample(dst, src *image.YCbCr) {
	b := src.Rect
	w, h := b.Dx(), b.Dy()
	for y := 0; y < h; y++ {
		copy(dst.Y[y*dst.YStride:][:w], src.Y[src.YOffset(b.Min.X, b.Min.Y+y):][:w])
	}
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < (w+1)/2; x++ {
			ci := src.COffset(b.Min.X+2*x, b.Min.Y+2*y)
			dst.Cb[y*dst.CStride+x] = src.Cb[ci]
			dst.Cr[y*dst.CStride+x] = src.Cr[ci]
		}
	}
}

// renderScratch holds the intermediate pictures of a scaled or mirrored
// render, kept between frames so that rendering allocates nothing once
// sizes are stable.
type renderScratch struct {
	scaled, mirrored *image.YCbCr
}

// render scales src (a picture from sizeI420) to w x h, flips it left to
// right if mirror is set, and converts it into dst, which it resizes to
// w x h reusing its pixels when they are large enough. It returns the
// image written. Scaling and mirroring happen on the small side of the
// scale: on src when enlarging, on the result when shrinking.
func render(dst *image.RGBA, src *image.YCbCr, w, h int, mirror bool, sc *renderScratch) *image.RGBA {
	dst = sizeRGBA(dst, w, h)
	p := i420(src)
	if w != p.w || h != p.h {
		if mirror && w*h > p.w*p.h { // mirror the smaller source, then scale
			sc.mirrored = sizeI420(sc.mirrored, p.w, p.h)
			m := i420(sc.mirrored)
			mirrorI420(m, p)
			p, mirror = m, false
		}
		sc.scaled = sizeI420(sc.scaled, w, h)
		s := i420(sc.scaled)
		scaleI420(s, p)
		p = s
	}
	if mirror {
		sc.mirrored = sizeI420(sc.mirrored, w, h)
		m := i420(sc.mirrored)
		mirrorI420(m, p)
		p = m
	}
	i420ToRGBA(dst, p)
	return dst
}
