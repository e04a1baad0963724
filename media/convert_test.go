package media

import (
	"image"
	"image/color"
	"image/draw"
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

func TestYCbCrToRGBAMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440,
		image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	rects := []image.Rectangle{
		image.Rect(0, 0, 16, 8), image.Rect(0, 0, 17, 9), // odd sizes
		image.Rect(3, 5, 20, 14), // odd origin
	}
	for _, ratio := range ratios {
		for _, r := range rects {
			src := randomYCbCr(rng, image.Rect(0, 0, 32, 32), ratio).SubImage(r).(*image.YCbCr)
			dst := YCbCrToRGBA(nil, src)
			if dst.Bounds() != image.Rect(0, 0, r.Dx(), r.Dy()) {
				t.Fatalf("%v %v: bounds %v", ratio, r, dst.Bounds())
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					yy := src.Y[src.YOffset(x, y)]
					ci := src.COffset(x, y)
					wr, wg, wb := refPixel(yy, src.Cb[ci], src.Cr[ci])
					got := dst.RGBAAt(x-r.Min.X, y-r.Min.Y)
					if absDiff(got.R, wr) > 1 || absDiff(got.G, wg) > 1 || absDiff(got.B, wb) > 1 || got.A != 255 {
						t.Fatalf("%v %v at (%d,%d): got %v want %d,%d,%d", ratio, r, x, y, got, wr, wg, wb)
					}
				}
			}
		}
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestToRGBA(t *testing.T) {
	src := image.NewRGBA(image.Rect(2, 2, 6, 5))
	src.SetRGBA(2, 2, color.RGBA{1, 2, 3, 255})
	dst := ToRGBA(nil, src)
	if dst.Bounds() != image.Rect(0, 0, 4, 3) || dst.RGBAAt(0, 0) != (color.RGBA{1, 2, 3, 255}) {
		t.Fatalf("RGBA copy: %v %v", dst.Bounds(), dst.RGBAAt(0, 0))
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	gray.SetGray(1, 1, color.Gray{200})
	dst = ToRGBA(dst, gray)
	if got := dst.RGBAAt(1, 1); got != (color.RGBA{200, 200, 200, 255}) {
		t.Fatalf("gray: %v", got)
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
// content per iteration; ns/op is ns per frame.
func BenchmarkI420ToRGBA(b *testing.B) {
	src := naturalYCbCr(image.Rect(0, 0, 640, 480))
	dst := image.NewRGBA(src.Rect)
	b.SetBytes(int64(len(dst.Pix)))
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		dst = YCbCrToRGBA(dst, src)
	}
	cpu.Report(b)
}

// BenchmarkI420ToRGBANoise converts random bytes, the worst case for
// clipping.
func BenchmarkI420ToRGBANoise(b *testing.B) {
	src := randomYCbCr(rand.New(rand.NewSource(1)), image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	dst := image.NewRGBA(src.Rect)
	cpu := mediatest.StartCPU()
	for b.Loop() {
		dst = YCbCrToRGBA(dst, src)
	}
	cpu.Report(b)
}

// BenchmarkI420ToRGBADraw is the image/draw baseline for comparison (full
// range JFIF maths, so not a substitute).
func BenchmarkI420ToRGBADraw(b *testing.B) {
	src := naturalYCbCr(image.Rect(0, 0, 640, 480))
	dst := image.NewRGBA(src.Rect)
	b.SetBytes(int64(len(dst.Pix)))
	cpu := mediatest.StartCPU()
	for b.Loop() {
		drawSlow(dst, src)
	}
	cpu.Report(b)
}

// drawSlow is image/draw's conversion, the baseline.
func drawSlow(dst *image.RGBA, src image.Image) {
	draw.Draw(dst, dst.Rect, src, src.Bounds().Min, draw.Src)
}
