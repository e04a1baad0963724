package sfubench

import (
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"

	"github.com/confab/confab/media/vp8enc"
)

// clipFrame is one encoded video frame, already cut into RTP payloads.
type clipFrame struct {
	payloads [][]byte
	key      bool
}

// clipSeconds, clipFPS and clipBitRate describe the clip every publisher
// sends: 640x480 VP8 at 30 fps and 1 Mbit/s, a moving picture (so the
// encoder has something to code) cut at an MTU of 1200 bytes, as pion's
// VP8 payloader does for a camera.
const (
	clipSeconds = 10
	clipFPS     = 30
	clipBitRate = 1_000_000
	clipMTU     = 1200
)

// makeClip encodes the clip once per benchmark run.
func makeClip(tb testing.TB) []clipFrame {
	tb.Helper()
	enc, err := vp8enc.New(vp8enc.Config{Width: 640, Height: 480, FrameRate: clipFPS, BitRate: clipBitRate, KeyFrameInterval: 3 * clipFPS})
	if err != nil {
		tb.Fatalf("vp8 encoder: %v", err)
	}
	defer enc.Close()
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	var pay codecs.VP8Payloader
	t0 := time.Unix(0, 0)
	var out []clipFrame
	for i := range clipSeconds * clipFPS {
		paint(img, i)
		f, err := enc.Encode(img, t0.Add(time.Duration(i)*time.Second/clipFPS))
		if err != nil {
			tb.Fatalf("encode frame %d: %v", i, err)
		}
		if len(f.Data) == 0 {
			continue
		}
		var cf clipFrame
		cf.key = f.Key
		for _, p := range pay.Payload(clipMTU, f.Data) {
			cf.payloads = append(cf.payloads, append([]byte(nil), p...))
		}
		out = append(out, cf)
	}
	return out
}

// paint draws frame i of a moving pattern: bands sliding at different
// speeds and a bouncing square, with some texture.
func paint(img *image.RGBA, i int) {
	b := img.Bounds()
	sq := int(200 + 180*math.Sin(float64(i)/15))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBA{uint8(x + 3*i), uint8(y - 2*i), uint8((x ^ y) + i), 255}
			if x > sq && x < sq+120 && y > 180 && y < 300 {
				c = color.RGBA{255, uint8(i * 5), 40, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
}
