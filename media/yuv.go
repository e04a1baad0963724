package media

// libyuv is Chromium's (and WebRTC's) converter and scaler: SIMD row
// functions for every layout, runtime CPU detection. Debian: libyuv-dev to
// build, libyuv0 to run. It ships no pkg-config file, hence the plain -l.

/*
#cgo LDFLAGS: -lyuv
#include <libyuv/convert.h>
#include <libyuv/convert_argb.h>
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>
*/
import "C"

import (
	"image"
	"unsafe"
)

// planes is a Y'CbCr picture as libyuv takes it: three planes, each
// starting at the picture's top-left sample, with their strides and the
// picture's size in luma samples. cw and ch are the chroma plane's size.
type planes struct {
	y, u, v []byte
	ys, cs  int
	w, h    int
	cw, ch  int
}

// planesOf returns img's planes from its Rect.Min, or ok false when img's
// subsampling is not one libyuv reads (4:2:0, 4:2:2, 4:4:4) or its buffers
// are too short for its bounds, so that no libyuv call reads past them.
func planesOf(img *image.YCbCr) (p planes, ok bool) {
	r := img.Rect
	w, h := r.Dx(), r.Dy()
	p = planes{ys: img.YStride, cs: img.CStride, w: w, h: h}
	// Chroma size: the chroma columns and rows the bounds touch.
	switch img.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		p.cw = (r.Max.X+1)/2 - r.Min.X/2
		p.ch = (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio422:
		p.cw = (r.Max.X+1)/2 - r.Min.X/2
		p.ch = h
	case image.YCbCrSubsampleRatio444:
		p.cw, p.ch = w, h
	default:
		return p, false
	}
	if w <= 0 || h <= 0 || p.ys < w || p.cs < p.cw {
		return p, false
	}
	yo, co := img.YOffset(r.Min.X, r.Min.Y), img.COffset(r.Min.X, r.Min.Y)
	if yo < 0 || co < 0 || yo > len(img.Y) || co > len(img.Cb) || co > len(img.Cr) {
		return p, false
	}
	p.y, p.u, p.v = img.Y[yo:], img.Cb[co:], img.Cr[co:]
	return p, p.fits()
}

// fits reports whether the planes hold h rows of w (luma) and ch rows of
// cw (chroma) samples at their strides.
func (p planes) fits() bool {
	return len(p.y) >= (p.h-1)*p.ys+p.w &&
		len(p.u) >= (p.ch-1)*p.cs+p.cw && len(p.v) >= (p.ch-1)*p.cs+p.cw
}

// ptr returns the address of b's first byte for C, which must not keep it.
func ptr(b []byte) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))) }

// Filters of libyuv's scaler. kFilterBox averages every source pixel when
// shrinking by more than two and is bilinear otherwise; it is what
// Chromium's video frame scaling uses for downscales.
const (
	filterBox = C.kFilterBox
)

// scaleI420 scales src into dst (both 4:2:0) with a box filter.
func scaleI420(dst, src planes) {
	C.I420Scale(ptr(src.y), C.int(src.ys), ptr(src.u), C.int(src.cs), ptr(src.v), C.int(src.cs),
		C.int(src.w), C.int(src.h),
		ptr(dst.y), C.int(dst.ys), ptr(dst.u), C.int(dst.cs), ptr(dst.v), C.int(dst.cs),
		C.int(dst.w), C.int(dst.h), filterBox)
}

// mirrorI420 flips src left to right into dst (4:2:0, same size).
func mirrorI420(dst, src planes) {
	C.I420Mirror(ptr(src.y), C.int(src.ys), ptr(src.u), C.int(src.cs), ptr(src.v), C.int(src.cs),
		ptr(dst.y), C.int(dst.ys), ptr(dst.u), C.int(dst.cs), ptr(dst.v), C.int(dst.cs),
		C.int(src.w), C.int(src.h))
}

// i420ToRGBA converts src (4:2:0, BT.601 studio range as VP8 and cameras
// deliver it) into dst, which has src's size and its origin at (0,0).
// libyuv's ABGR is R, G, B, A in memory: Go's image.RGBA.
func i420ToRGBA(dst *image.RGBA, src planes) {
	C.I420ToABGR(ptr(src.y), C.int(src.ys), ptr(src.u), C.int(src.cs), ptr(src.v), C.int(src.cs),
		ptr(dst.Pix), C.int(dst.Stride), C.int(src.w), C.int(src.h))
}

// toI420 converts src (4:2:0, 4:2:2 or 4:4:4, see planesOf) into dst
// (4:2:0, same size).
func toI420(dst planes, src planes, ratio image.YCbCrSubsampleRatio) {
	sy, sys, su, sv, scs := ptr(src.y), C.int(src.ys), ptr(src.u), ptr(src.v), C.int(src.cs)
	dy, dys, du, dv, dcs := ptr(dst.y), C.int(dst.ys), ptr(dst.u), ptr(dst.v), C.int(dst.cs)
	w, h := C.int(src.w), C.int(src.h)
	switch ratio {
	case image.YCbCrSubsampleRatio420:
		C.I420Copy(sy, sys, su, scs, sv, scs, dy, dys, du, dcs, dv, dcs, w, h)
	case image.YCbCrSubsampleRatio422:
		C.I422ToI420(sy, sys, su, scs, sv, scs, dy, dys, du, dcs, dv, dcs, w, h)
	case image.YCbCrSubsampleRatio444:
		C.I444ToI420(sy, sys, su, scs, sv, scs, dy, dys, du, dcs, dv, dcs, w, h)
	}
}

// rgbaToI420 converts src (Go's RGBA byte order, libyuv's ABGR) into dst
// (4:2:0, src's size) with BT.601 studio-range coefficients, the inverse of
// i420ToRGBA.
func rgbaToI420(dst planes, src []byte, stride int) {
	C.ABGRToI420(ptr(src), C.int(stride), ptr(dst.y), C.int(dst.ys), ptr(dst.u), C.int(dst.cs),
		ptr(dst.v), C.int(dst.cs), C.int(dst.w), C.int(dst.h))
}
