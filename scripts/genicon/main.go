// Command genicon draws assets/icon.png, the Confab app icon: a white
// speech bubble holding a video camera on a blue rounded square. Run it
// from the repository root with "go run ./scripts/genicon".
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const size = 512

// roundRect is the signed distance from (x, y) to a rounded rectangle.
func roundRect(x, y, cx, cy, hw, hh, r float64) float64 {
	qx := math.Abs(x-cx) - hw + r
	qy := math.Abs(y-cy) - hh + r
	out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
	return out + math.Min(math.Max(qx, qy), 0) - r
}

// inTriangle reports whether (x, y) lies inside the triangle abc.
func inTriangle(x, y float64, t [6]float64) bool {
	s := func(x1, y1, x2, y2 float64) float64 { return (x-x2)*(y1-y2) - (x1-x2)*(y-y2) }
	d1 := s(t[0], t[1], t[2], t[3])
	d2 := s(t[2], t[3], t[4], t[5])
	d3 := s(t[4], t[5], t[0], t[1])
	neg := d1 < 0 || d2 < 0 || d3 < 0
	pos := d1 > 0 || d2 > 0 || d3 > 0
	return !(neg && pos)
}

// shade returns the colour of one sample point and whether it is covered.
func shade(x, y float64) (r, g, b float64, ok bool) {
	if roundRect(x, y, 256, 256, 240, 240, 104) > 0 {
		return 0, 0, 0, false
	}
	// Diagonal gradient from indigo to sky blue.
	t := (x + y) / (2 * size)
	r, g, b = 79+(14-79)*t, 70+(165-70)*t, 229+(233-229)*t
	bubble := roundRect(x, y, 256, 236, 168, 124, 64) <= 0 ||
		inTriangle(x, y, [6]float64{150, 320, 236, 340, 126, 424})
	camera := roundRect(x, y, 222, 236, 84, 62, 20) <= 0 ||
		inTriangle(x, y, [6]float64{292, 236, 372, 184, 372, 288})
	if bubble && !camera {
		return 255, 255, 255, true
	}
	return r, g, b, true
}

func main() {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const n = 4 // n*n samples per pixel for anti-aliasing
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var sr, sg, sb, cov float64
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					r, g, b, ok := shade(float64(px)+(float64(sx)+0.5)/n, float64(py)+(float64(sy)+0.5)/n)
					if ok {
						sr, sg, sb, cov = sr+r, sg+g, sb+b, cov+1
					}
				}
			}
			if cov == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(sr / cov), uint8(sg / cov), uint8(sb / cov), uint8(255 * cov / (n * n))})
		}
	}
	f, err := os.Create("assets/icon.png")
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
