package media

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"

	"github.com/confab/confab/media/internal/mediatest"
)

// refPixel is the BT.601 studio-range conversion in floating point.
func refPixel(y, cb, cr uint8) (r, g, b uint8) {
	c := 1.164383 * (float64(y) - 16)
	u := float64(cb) - 128
	v := float64(cr) - 128
	cl := func(f float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(f)))) }
	return cl(c + 1.596027*v), cl(c - 0.391762*u - 0.812968*v), cl(c + 2.017232*u)
}

func randomYCbCr(rng *rand.Rand, r image.Rectangle, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	img := image.NewYCbCr(r, ratio)
	rng.Read(img.Y)
	rng.Read(img.Cb)
	rng.Read(img.Cr)
	return img
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// libyuv's row functions work in fixed point with fewer fraction bits than
// the old Go converter; on random (often clipping) input they stay within
// 2 of the exact maths on AVX2, and 3 leaves room for its other code paths.
const tolerance = 3

// TestRenderMatchesReference puts pictures of every layout, size parity
// and origin into a slot and renders them at their own size: every pixel
// must match the floating-point BT.601 conversion. Layouts other than
// 4:2:0 are tested with one chroma value per picture, which any chroma
// subsampling keeps.
func TestRenderMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440,
		image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	rects := []image.Rectangle{
		image.Rect(0, 0, 16, 8), image.Rect(0, 0, 17, 9), // odd sizes
		image.Rect(4, 6, 20, 14), image.Rect(3, 5, 20, 14), // odd origin
	}
	worst := 0
	for _, ratio := range ratios {
		for _, r := range rects {
			full := randomYCbCr(rng, image.Rect(0, 0, 32, 32), ratio)
			if ratio != image.YCbCrSubsampleRatio420 {
				cb, cr := uint8(rng.Intn(256)), uint8(rng.Intn(256))
				for i := range full.Cb {
					full.Cb[i], full.Cr[i] = cb, cr
				}
			} else if r.Min.X%2 == 1 || r.Min.Y%2 == 1 {
				continue // an odd origin splits chroma blocks; I420 cannot
			}
			src := full.SubImage(r).(*image.YCbCr)
			s := NewFrameSlot()
			s.Put(src)
			dst, size, seq := s.Render(nil, 0, 0, false)
			if seq != 1 || size != r.Size() || dst.Bounds() != image.Rect(0, 0, r.Dx(), r.Dy()) {
				t.Fatalf("%v %v: seq %d size %v bounds %v", ratio, r, seq, size, dst.Bounds())
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					ci := src.COffset(x, y)
					wr, wg, wb := refPixel(src.Y[src.YOffset(x, y)], src.Cb[ci], src.Cr[ci])
					got := dst.RGBAAt(x-r.Min.X, y-r.Min.Y)
					d := max(absDiff(got.R, wr), absDiff(got.G, wg), absDiff(got.B, wb))
					worst = max(worst, d)
					if d > tolerance || got.A != 255 {
						t.Fatalf("%v %v at (%d,%d): got %v want %d,%d,%d", ratio, r, x, y, got, wr, wg, wb)
					}
				}
			}
		}
	}
	t.Logf("largest difference from the exact conversion: %d", worst)
}

// TestPutRGBA converts RGBA to I420 and back: colours survive (within the
// loss of 4:2:0 on flat areas) and red stays red, not blue.
func TestPutRGBA(t *testing.T) {
	src := image.NewRGBA(image.Rect(2, 2, 34, 18)) // an origin of its own
	colours := []color.RGBA{{220, 30, 30, 255}, {30, 200, 40, 255}, {20, 40, 210, 255}, {128, 128, 128, 255}}
	for y := 2; y < 18; y++ {
		for x := 2; x < 34; x++ {
			src.SetRGBA(x, y, colours[(x-2)/8])
		}
	}
	s := NewFrameSlot()
	s.Put(src)
	dst, size, _ := s.Render(nil, 0, 0, false)
	if size != image.Pt(32, 16) {
		t.Fatalf("size %v", size)
	}
	for i, want := range colours {
		got := dst.RGBAAt(8*i+4, 8)
		if absDiff(got.R, want.R) > 4 || absDiff(got.G, want.G) > 4 || absDiff(got.B, want.B) > 4 {
			t.Errorf("colour %d: got %v, want %v", i, got, want)
		}
	}

	gray := image.NewGray(image.Rect(0, 0, 4, 2))
	gray.SetGray(1, 1, color.Gray{200})
	s.Put(gray)
	dst, _, _ = s.Render(dst, 0, 0, false)
	if got := dst.RGBAAt(1, 1); absDiff(got.R, 200) > 2 || absDiff(got.B, 200) > 2 {
		t.Fatalf("gray: %v", got)
	}
}

// quadrants is a w x h I420 picture: red top-left, green top-right, blue
// bottom-left, white bottom-right.
func quadrants(w, h int) *image.YCbCr {
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := [2][2]color.RGBA{
				{{235, 20, 20, 255}, {20, 235, 20, 255}},
				{{20, 20, 235, 255}, {235, 235, 235, 255}},
			}[2*y/h][2*x/w]
			rgba.SetRGBA(x, y, c)
		}
	}
	img := sizeI420(nil, w, h)
	fillI420(img, rgba)
	return img
}

// dominant names the strongest channel of c, or "white".
func dominant(c color.RGBA) string {
	switch {
	case c.R > 180 && c.G > 180 && c.B > 180:
		return "white"
	case c.R > 150 && c.G < 100 && c.B < 100:
		return "red"
	case c.G > 150 && c.R < 100 && c.B < 100:
		return "green"
	case c.B > 150 && c.R < 100 && c.G < 100:
		return "blue"
	}
	return "mixed"
}

func TestRenderScalesAndMirrors(t *testing.T) {
	s := NewFrameSlot()
	s.Put(quadrants(64, 48))
	for _, tc := range []struct {
		w, h   int
		mirror bool
	}{
		{64, 48, false}, {64, 48, true}, // same size
		{32, 24, false}, {33, 25, true}, {9, 7, true}, // down, odd
		{200, 150, false}, {201, 149, true}, // up
		{100, 20, true}, // another aspect: the slot stretches, the caller fits
	} {
		dst, size, _ := s.Render(nil, tc.w, tc.h, tc.mirror)
		if size != image.Pt(64, 48) || dst.Bounds() != image.Rect(0, 0, tc.w, tc.h) || dst.Stride != 4*tc.w {
			t.Fatalf("%+v: size %v bounds %v stride %d", tc, size, dst.Bounds(), dst.Stride)
		}
		want := [4]string{"red", "green", "blue", "white"}
		if tc.mirror {
			want = [4]string{"green", "red", "white", "blue"}
		}
		corners := [4]image.Point{{1, 1}, {tc.w - 2, 1}, {1, tc.h - 2}, {tc.w - 2, tc.h - 2}}
		for i, p := range corners {
			if got := dominant(dst.RGBAAt(p.X, p.Y)); got != want[i] {
				t.Errorf("%+v: pixel %v is %s (%v), want %s", tc, p, got, dst.RGBAAt(p.X, p.Y), want[i])
			}
		}
	}
}

func TestRenderReusesDst(t *testing.T) {
	s := NewFrameSlot()
	s.Put(quadrants(64, 48))
	dst := image.NewRGBA(image.Rect(0, 0, 100, 100))
	got, _, _ := s.Render(dst, 32, 24, false)
	if got != dst || len(got.Pix) != 4*32*24 {
		t.Fatalf("a large enough dst was not reused: %p %p len %d", got, dst, len(got.Pix))
	}
	bigger, _, _ := s.Render(got, 128, 96, false)
	if bigger == dst || bigger.Bounds().Dx() != 128 {
		t.Fatalf("too small a dst: %v", bigger.Bounds())
	}
}

// naturalYCbCr is a picture with the statistics of camera video: smooth
// studio-range gradients with a little noise, rarely clipping.
func naturalYCbCr(r image.Rectangle) *image.YCbCr {
	rng := rand.New(rand.NewSource(1))
	img := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			img.Y[y*img.YStride+x] = uint8(16 + (x+y)*219/(r.Dx()+r.Dy()) + rng.Intn(5))
		}
	}
	for y := 0; y < (r.Dy()+1)/2; y++ {
		for x := 0; x < (r.Dx()+1)/2; x++ {
			img.Cb[y*img.CStride+x] = uint8(100 + x*56/r.Dx() + rng.Intn(3))
			img.Cr[y*img.CStride+x] = uint8(150 - y*60/r.Dy() + rng.Intn(3))
		}
	}
	return img
}

// BenchmarkI420ToRGBA converts one 640x480 I420 frame of camera-like
// content at full size per iteration with libyuv; ns/op is ns per frame.
func BenchmarkI420ToRGBA(b *testing.B) {
	s := NewFrameSlot()
	s.Put(naturalYCbCr(image.Rect(0, 0, 640, 480)))
	dst, _, _ := s.Render(nil, 0, 0, false)
	b.SetBytes(int64(len(dst.Pix)))
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		dst, _, _ = s.Render(dst, 0, 0, false)
	}
	cpu.Report(b)
}

// BenchmarkI420ToRGBAGo is the same with the pure-Go converter the app
// used before libyuv.
func BenchmarkI420ToRGBAGo(b *testing.B) {
	src := naturalYCbCr(image.Rect(0, 0, 640, 480))
	dst := image.NewRGBA(src.Rect)
	b.SetBytes(int64(len(dst.Pix)))
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		dst = goYCbCrToRGBA(dst, src)
	}
	cpu.Report(b)
}

// BenchmarkRender640To320 draws a 640x480 frame into a 320x240 view, the
// way a tile does: libyuv scales the I420 frame, then converts it into
// the view's own buffer.
func BenchmarkRender640To320(b *testing.B) {
	benchRender(b, false)
}

// BenchmarkRender640To320Mirror is the same for one's own camera.
func BenchmarkRender640To320Mirror(b *testing.B) {
	benchRender(b, true)
}

func benchRender(b *testing.B, mirror bool) {
	s := NewFrameSlot()
	s.Put(naturalYCbCr(image.Rect(0, 0, 640, 480)))
	dst, _, _ := s.Render(nil, 320, 240, mirror)
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		dst, _, _ = s.Render(dst, 320, 240, mirror)
	}
	cpu.Report(b)
}

// BenchmarkRender640To320Go is what drawing one frame cost before: the
// slot converted every frame at full size in Go into a fresh 1.2 MB
// buffer (the one it had lent to the view could not be reused), and the
// GPU (llvmpipe: the CPU) scaled the full-size texture down.
func BenchmarkRender640To320Go(b *testing.B) {
	src := naturalYCbCr(image.Rect(0, 0, 640, 480))
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		goYCbCrToRGBA(nil, src)
	}
	cpu.Report(b)
}
