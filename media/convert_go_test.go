package media

import (
	"encoding/binary"
	"image"
)

// This is the pure-Go I420->RGBA converter the decoder used before libyuv:
// every frame converted at full size, whether shown or not. Only the
// benchmarks use it now, as the baseline the libyuv path is measured
// against.

// BT.601 studio-range ("TV range", Y in 16..235) coefficients in 16.16
// fixed point. VP8 (RFC 6386, section 9.2) and V4L2 cameras deliver this
// range; Go's image/color uses the full (JFIF) range instead, which would
// render decoded video washed out.
const (
	cY   = 76309  // 1.164383 * 65536
	cRV  = 104597 // 1.596027 * 65536
	cGU  = 25675  // 0.391762 * 65536
	cGV  = 53279  // 0.812968 * 65536
	cBU  = 132201 // 2.017232 * 65536
	half = 1 << 15
)

// clamp8 maps a 16.16 fixed-point value to 0..255. min and max compile to
// conditional moves: no branch to mispredict on noisy pictures, where a
// branching clamp (image/draw's) is 4x slower.
func clamp8(v int32) uint8 {
	return uint8(min(max(v>>16, 0), 255))
}

// goYCbCrToRGBA converts src into dst, which it resizes to src's size.
func goYCbCrToRGBA(dst *image.RGBA, src *image.YCbCr) *image.RGBA {
	b := src.Bounds()
	dst = sizeRGBA(dst, b.Dx(), b.Dy())
	convertYCbCr(dst, src)
	return dst
}

// convertYCbCr converts src into dst, which has src's size and origin (0,0).
func convertYCbCr(dst *image.RGBA, src *image.YCbCr) {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	var xShift, yShift uint
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		xShift, yShift = 1, 1
	case image.YCbCrSubsampleRatio422:
		xShift, yShift = 1, 0
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio440:
		yShift = 1
	default:
		convertYCbCrSlow(dst, src)
		return
	}
	// As in image.YCbCr.COffset: Bounds() == Rect, and the planes start at
	// Rect.Min, so chroma indices are relative to Rect.Min divided down.
	for y := 0; y < h; y++ {
		yRow := src.Y[y*src.YStride:][:w]
		cRow := (((b.Min.Y + y) >> yShift) - (b.Min.Y >> yShift)) * src.CStride
		d := dst.Pix[y*dst.Stride:][:4*w]
		if xShift == 1 && b.Min.X&1 == 0 {
			cw := (w + 1) / 2
			cb, cr := src.Cb[cRow:][:cw], src.Cr[cRow:][:cw]
			rowPairs(d, yRow, cb, cr, w)
			if w&1 == 1 { // the last pixel has a chroma sample of its own
				px(d[4*(w-1):4*w], yRow[w-1], cb[cw-1], cr[cw-1])
			}
			continue
		}
		for x := 0; x < w; x++ {
			ci := cRow + ((b.Min.X + x) >> xShift) - (b.Min.X >> xShift)
			px(d[4*x:4*x+4], yRow[x], src.Cb[ci], src.Cr[ci])
		}
	}
}

// rowPairs converts one row of horizontally subsampled pixels: each chroma
// sample covers two luma samples, so its terms are computed once, and each
// pixel is stored as one 32-bit word.
func rowPairs(d, yRow, cbRow, crRow []byte, w int) {
	pairs := w / 2
	d = d[:8*pairs]
	yRow = yRow[:2*pairs]
	cbRow = cbRow[:pairs]
	crRow = crRow[:pairs]
	for i := range cbRow {
		u := int32(cbRow[i]) - 128
		v := int32(crRow[i]) - 128
		rv := cRV*v + half
		guv := -cGU*u - cGV*v + half
		bu := cBU*u + half

		yy := yRow[2*i : 2*i+2 : 2*i+2]
		y0 := (int32(yy[0]) - 16) * cY
		y1 := (int32(yy[1]) - 16) * cY
		o := d[8*i : 8*i+8 : 8*i+8]
		binary.LittleEndian.PutUint32(o[0:4], pack(y0+rv, y0+guv, y0+bu))
		binary.LittleEndian.PutUint32(o[4:8], pack(y1+rv, y1+guv, y1+bu))
	}
}

// pack clamps three 16.16 values and packs them as R, G, B, 0xff bytes of
// a little-endian word.
func pack(r, g, b int32) uint32 {
	return uint32(clamp8(r)) | uint32(clamp8(g))<<8 | uint32(clamp8(b))<<16 | 0xff000000
}

// px converts one pixel into o[0:4].
func px(o []byte, yy, cb, cr byte) {
	u := int32(cb) - 128
	v := int32(cr) - 128
	y1 := (int32(yy)-16)*cY + half
	o[0] = clamp8(y1 + cRV*v)
	o[1] = clamp8(y1 - cGU*u - cGV*v)
	o[2] = clamp8(y1 + cBU*u)
	o[3] = 0xff
}

// convertYCbCrSlow handles the rare subsampling ratios (4:1:1, 4:1:0).
func convertYCbCrSlow(dst *image.RGBA, src *image.YCbCr) {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi := src.YOffset(x, y)
			ci := src.COffset(x, y)
			o := dst.PixOffset(x-b.Min.X, y-b.Min.Y)
			px(dst.Pix[o:o+4], src.Y[yi], src.Cb[ci], src.Cr[ci])
		}
	}
}
