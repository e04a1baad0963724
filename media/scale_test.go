package media

import (
	"image"
	"image/color"
	"testing"
)

// TestScalerSizesAndColours: a 4:2:0, a 4:2:2 and an RGBA picture of four
// coloured quadrants scale to the size asked, each quadrant keeping its
// colour; the same size is a copy.
func TestScalerSizesAndColours(t *testing.T) {
	src420 := quadrants(640, 480)
	src422 := image.NewYCbCr(src420.Rect, image.YCbCrSubsampleRatio422)
	rgba := image.NewRGBA(src420.Rect)
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			c := src420.YCbCrAt(x, y)
			src422.Y[src422.YOffset(x, y)] = c.Y
			src422.Cb[src422.COffset(x, y)] = c.Cb
			src422.Cr[src422.COffset(x, y)] = c.Cr
			rgba.Set(x, y, c)
		}
	}
	for _, src := range []image.Image{src420, src422, rgba} {
		var s Scaler
		var dst *image.YCbCr
		for _, size := range []image.Point{{160, 120}, {320, 240}, {640, 480}} {
			dst = s.Scale(dst, src, size.X, size.Y)
			if dst.Rect != image.Rect(0, 0, size.X, size.Y) || dst.SubsampleRatio != image.YCbCrSubsampleRatio420 {
				t.Fatalf("%T to %v: got %v %v", src, size, dst.Rect, dst.SubsampleRatio)
			}
			for _, q := range []struct {
				x, y int
				want string
			}{{1, 1, "red"}, {3, 1, "green"}, {1, 3, "blue"}, {3, 3, "white"}} {
				c := color.RGBAModel.Convert(dst.YCbCrAt(q.x*size.X/4, q.y*size.Y/4)).(color.RGBA)
				if got := dominant(c); got != q.want {
					t.Errorf("%T to %v: quadrant (%d,%d) is %s %v, want %s", src, size, q.x, q.y, got, c, q.want)
				}
			}
		}
	}
}

// TestScalerAllocatesNothing: once the sizes are stable, scaling a camera
// frame (4:2:2, as the test camera and YUYV webcams give) to a layer's
// size allocates nothing.
func TestScalerAllocatesNothing(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio422)
	var s Scaler
	var half, quarter *image.YCbCr
	allocs := testing.AllocsPerRun(20, func() {
		half = s.Scale(half, src, 320, 240)
		quarter = s.Scale(quarter, src, 160, 120)
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per frame", allocs)
	}
}
