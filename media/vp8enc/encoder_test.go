package vp8enc

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"math/rand"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/prop"
)

// testPattern draws frames like mediadevices' videotest camera (the app's
// --fake-devices): colour bars over a grey ramp and a patch of fresh
// black-and-white noise every frame, 4:2:2 as cameras deliver YUYV.
type testPattern struct {
	img *image.YCbCr
	rnd *rand.Rand
}

func newTestPattern(w, h int) *testPattern {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio422)
	bars := []color.YCbCr{{235, 128, 128}, {210, 16, 146}, {170, 166, 16}, {145, 54, 34}, {107, 202, 222}, {82, 90, 240}, {41, 240, 110}}
	for y := range h {
		for x := range w {
			c := color.YCbCr{uint8(x * 255 / w), 128, 128}
			if y < h*3/4 {
				c = bars[x*7/w]
				c.Y = uint8(int(c.Y) * 75 / 100)
			}
			img.Y[img.YOffset(x, y)] = c.Y
			img.Cb[img.COffset(x, y)] = c.Cb
			img.Cr[img.COffset(x, y)] = c.Cr
		}
	}
	return &testPattern{img: img, rnd: rand.New(rand.NewSource(1))}
}

// next returns the pattern with new noise (the same image each time).
func (p *testPattern) next() *image.YCbCr {
	w, h := p.img.Rect.Dx(), p.img.Rect.Dy()
	for y := h * 3 / 4; y < h; y++ {
		for x := w * 5 / 7; x < w; x++ {
			p.img.Y[p.img.YOffset(x, y)] = uint8(p.rnd.Int31n(2) * 255)
		}
	}
	return p.img
}

// keyFrameSize parses a VP8 keyframe header (RFC 6386, 9.1).
func keyFrameSize(t *testing.T, f Frame) (int, int) {
	t.Helper()
	d := f.Data
	if !f.Key || len(d) < 10 || d[0]&1 != 0 || !bytes.Equal(d[3:6], []byte{0x9d, 0x01, 0x2a}) {
		t.Fatalf("not a keyframe: key=%v % x", f.Key, d[:min(10, len(d))])
	}
	return int(d[6]) | int(d[7]&0x3f)<<8, int(d[8]) | int(d[9]&0x3f)<<8
}

// movingScene draws frames a rate control can meet: a ramp with mild
// noise (one of 8 noise fields per frame) and a box that moves 4 pixels a
// frame, 4:2:0.
type movingScene struct {
	w, h   int
	fields [8][]byte
	img    *image.YCbCr
}

func newMovingScene(w, h int) *movingScene {
	s := &movingScene{w: w, h: h, img: image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)}
	rnd := rand.New(rand.NewSource(2))
	for f := range s.fields {
		s.fields[f] = make([]byte, w*h)
		for i := range s.fields[f] {
			x, y := i%w, i/w
			s.fields[f][i] = uint8(40 + (x+y)*150/(w+h) + rnd.Intn(9) - 4)
		}
	}
	for i := range s.img.Cb {
		s.img.Cb[i], s.img.Cr[i] = 110, 140
	}
	return s
}

func (s *movingScene) frame(i int) *image.YCbCr {
	copy(s.img.Y, s.fields[i%len(s.fields)])
	bx, by := (i*4)%(s.w-64), s.h/3
	for y := by; y < by+64; y++ {
		row := s.img.Y[y*s.img.YStride:]
		for x := bx; x < bx+64; x++ {
			row[x] = 220
		}
	}
	return s.img
}

// TestEveryFrameEncoded encodes five seconds of the test pattern at 30 fps
// (timestamps 1/30 s apart, as fast as it goes) at the default bit rate:
// every frame comes out and only the first is a keyframe. The pattern's
// patch of fresh noise cannot be compressed to 800 kbit/s at realtime
// speeds even at the highest quantizer, so this is where a CBR encoder
// that may skip frames would skip many.
func TestEveryFrameEncoded(t *testing.T) {
	enc, err := New(Config{Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	p := newTestPattern(640, 480)
	t0 := time.Now()
	const n = 150
	for i := range n {
		f, err := enc.Encode(p.next(), t0.Add(time.Duration(i)*time.Second/30))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Data) == 0 {
			t.Fatalf("frame %d skipped", i)
		}
		if i == 0 {
			if w, h := keyFrameSize(t, f); w != 640 || h != 480 {
				t.Fatalf("keyframe size %dx%d", w, h)
			}
		} else if f.Key {
			t.Fatalf("frame %d is a keyframe", i)
		}
	}
	st := enc.Stats()
	if st.Frames != n || st.Encoded != n || st.Dropped != 0 || st.KeyFrames != 1 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("%d kbit/s; %.2f ms per frame; %+v", st.Bytes*8/5/1000,
		float64(st.EncodeTime.Microseconds())/1000/n, enc.Config())
}

// TestBitRateNearTarget checks the rate control on content it can meet:
// after the first second, within -40 % and +20 % of the target.
func TestBitRateNearTarget(t *testing.T) {
	for _, target := range []int{300_000, 800_000} {
		enc, err := New(Config{Width: 640, Height: 480, BitRate: target})
		if err != nil {
			t.Fatal(err)
		}
		scene := newMovingScene(640, 480)
		t0 := time.Now()
		var bytes int
		for i := range 120 {
			f, err := enc.Encode(scene.frame(i), t0.Add(time.Duration(i)*time.Second/30))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Data) == 0 {
				t.Fatalf("frame %d skipped", i)
			}
			if i >= 30 {
				bytes += len(f.Data)
			}
		}
		enc.Close()
		got := bytes * 8 / 3
		t.Logf("target %d kbit/s: %d kbit/s", target/1000, got/1000)
		if got < target*6/10 || got > target*12/10 {
			t.Errorf("target %d: %d bit/s", target, got)
		}
	}
}

// TestKeyFrameAndBitRate asks for a keyframe and a lower bit rate from
// another goroutine, as the RTCP reader and a congestion controller do.
func TestKeyFrameAndBitRate(t *testing.T) {
	enc, err := New(Config{Width: 320, Height: 240, BitRate: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	p := newTestPattern(320, 240)
	t0 := time.Now()
	i := 0
	encode := func(frames int) (bytes int, keys int) {
		for range frames {
			f, err := enc.Encode(p.next(), t0.Add(time.Duration(i)*time.Second/30))
			if err != nil {
				t.Fatal(err)
			}
			i++
			bytes += len(f.Data)
			if f.Key {
				keys++
			}
		}
		return bytes, keys
	}
	encode(30)
	high, _ := encode(60)
	done := make(chan struct{})
	go func() {
		enc.SetBitRate(200_000)
		enc.ForceKeyFrame()
		close(done)
	}()
	<-done
	if _, keys := encode(1); keys != 1 {
		t.Fatal("no keyframe after ForceKeyFrame")
	}
	encode(30)
	low, keys := encode(60)
	if keys != 0 {
		t.Errorf("%d keyframes unasked", keys)
	}
	if st := enc.Stats(); st.BitRate != 200_000 {
		t.Errorf("bit rate in force %d", st.BitRate)
	}
	t.Logf("%d kbit/s at 1000, then %d kbit/s at 200", high*8/2/1000, low*8/2/1000)
	if low*2 > high {
		t.Errorf("bit rate did not go down: %d then %d bytes", high, low)
	}
	enc.SetBitRate(1)
	encode(1)
	if st := enc.Stats(); st.BitRate != MinBitRate {
		t.Errorf("bit rate %d, want the floor %d", st.BitRate, MinBitRate)
	}
}

// TestNewSize restarts the encoder when the frames change size (a screen
// resized, another camera).
func TestNewSize(t *testing.T) {
	enc, err := New(Config{Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	t0 := time.Now()
	if _, err := enc.Encode(newTestPattern(640, 480).next(), t0); err != nil {
		t.Fatal(err)
	}
	f, err := enc.Encode(newTestPattern(322, 242).next(), t0.Add(time.Second/30))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := keyFrameSize(t, f); w != 322 || h != 242 {
		t.Fatalf("keyframe size %dx%d after resize", w, h)
	}
	if c := enc.Config(); c.Width != 322 || c.Height != 242 || c.Threads != 1 || c.CPUUsed != -6 {
		t.Fatalf("config after resize %+v", c)
	}
}

// TestInputLayouts encodes one flat colour given as RGBA, 4:4:4, 4:2:2,
// 4:2:0 and a paletted image, decodes each and checks the colour came
// through.
func TestInputLayouts(t *testing.T) {
	want := color.RGBA{200, 60, 40, 255}
	yy, cb, cr := color.RGBToYCbCr(want.R, want.G, want.B)
	const w, h = 96, 64
	rect := image.Rect(0, 0, w, h)
	ycc := func(r image.YCbCrSubsampleRatio) image.Image {
		m := image.NewYCbCr(rect, r)
		for i := range m.Y {
			m.Y[i] = yy
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = cb, cr
		}
		return m
	}
	rgba := image.NewRGBA(rect)
	pal := image.NewPaletted(rect, color.Palette{want})
	for i := 0; i < len(rgba.Pix); i += 4 {
		copy(rgba.Pix[i:], []byte{want.R, want.G, want.B, 255})
	}
	inputs := map[string]image.Image{
		"rgba": rgba, "444": ycc(image.YCbCrSubsampleRatio444), "422": ycc(image.YCbCrSubsampleRatio422),
		"420": ycc(image.YCbCrSubsampleRatio420), "paletted": pal,
	}
	for name, img := range inputs {
		t.Run(name, func(t *testing.T) {
			enc, err := New(Config{Width: w, Height: h, BitRate: 500_000})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			f, err := enc.Encode(img, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			got := decodeCenter(t, f.Data, w, h)
			r, g, b, _ := got.RGBA()
			const tol = 12
			if d := max(absDiff(r>>8, uint32(want.R)), absDiff(g>>8, uint32(want.G)), absDiff(b>>8, uint32(want.B))); d > tol {
				t.Fatalf("decoded %v, want %v", got, want)
			}
		})
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// frameReader hands a decoder one frame per Read.
type frameReader struct{ data []byte }

func (r *frameReader) Read(p []byte) (int, error) { return copy(p, r.data), nil }

func decodeCenter(t *testing.T, frame []byte, w, h int) color.Color {
	t.Helper()
	dec, err := vpx.NewDecoder(&frameReader{frame}, prop.Media{Video: prop.Video{Width: w, Height: h}})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	img, _, err := dec.Read()
	if err != nil {
		t.Fatal(err)
	}
	return img.At(w/2, h/2)
}

func TestConfigChecks(t *testing.T) {
	bad := map[string]Config{
		"size":      {Width: 0, Height: 480},
		"rate":      {Width: 64, Height: 64, BitRate: 1000},
		"cpu":       {Width: 64, Height: 64, CPUUsed: -17},
		"threads":   {Width: 64, Height: 64, Threads: -1},
		"drop":      {Width: 64, Height: 64, DropFrameThreshold: 101},
		"framerate": {Width: 64, Height: 64, FrameRate: -1},
	}
	for name, c := range bad {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
	enc, err := New(Config{Width: 64, Height: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(newTestPattern(64, 64).next(), time.Now()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Encode after Close: %v", err)
	}
}

func TestSpeedAndThreadsBySize(t *testing.T) {
	cases := []struct{ w, h, cpus, cpu, threads int }{
		{320, 240, 2, -6, 1},
		{640, 480, 2, -6, 1},
		{640, 480, 16, -6, 1},
		{1280, 720, 2, -8, 1},
		{1280, 720, 4, -8, 2},
		{1280, 720, 8, -8, 3},
		{1920, 1080, 16, -8, 8},
	}
	for _, c := range cases {
		if got := CPUUsedFor(c.w, c.h); got != c.cpu {
			t.Errorf("CPUUsedFor(%d, %d) = %d, want %d", c.w, c.h, got, c.cpu)
		}
		if got := ThreadsFor(c.w, c.h, c.cpus); got != c.threads {
			t.Errorf("ThreadsFor(%d, %d, %d) = %d, want %d", c.w, c.h, c.cpus, got, c.threads)
		}
	}
}
