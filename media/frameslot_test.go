package media

import (
	"image"
	"sync"
	"testing"
)

// flat fills dst with luma v and neutral chroma, so a frame renders as one
// grey and a torn frame shows two.
func flat(dst *image.YCbCr, v byte) {
	for i := range dst.Y {
		dst.Y[i] = v
	}
	for i := range dst.Cb {
		dst.Cb[i], dst.Cr[i] = 128, 128
	}
}

func uniform(t *testing.T, img *image.RGBA) {
	t.Helper()
	first := img.Pix[:4]
	for i := 0; i < len(img.Pix); i += 4 {
		if p := img.Pix[i : i+4]; string(p) != string(first) {
			t.Fatalf("torn frame: pixel %d is %v, pixel 0 is %v", i/4, p, first)
		}
	}
}

func TestFrameSlotEmpty(t *testing.T) {
	s := NewFrameSlot()
	if img, seq := s.Latest(); img != nil || seq != 0 {
		t.Fatalf("Latest on empty slot = %v, %d", img, seq)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 3, 3))
	got, size, seq := s.Render(dst, 10, 10, true)
	if got != dst || got.Bounds().Dx() != 3 || size != (image.Point{}) || seq != 0 {
		t.Fatalf("Render on empty slot = %v, %v, %d", got.Bounds(), size, seq)
	}
	s.Put(nil)
	s.Put(image.NewRGBA(image.Rect(0, 0, 0, 5)))
	s.Write(0, 10, func(*image.YCbCr) { t.Fatal("fill called for empty size") })
	if s.Seq() != 0 {
		t.Fatalf("Seq = %d after ignored writes", s.Seq())
	}
}

func TestFrameSlotWriteLayout(t *testing.T) {
	s := NewFrameSlot()
	for _, sz := range []image.Point{{7, 5}, {640, 480}, {3, 3}} {
		s.Write(sz.X, sz.Y, func(dst *image.YCbCr) {
			cw, ch := (sz.X+1)/2, (sz.Y+1)/2
			if dst.Rect != image.Rect(0, 0, sz.X, sz.Y) || dst.SubsampleRatio != image.YCbCrSubsampleRatio420 ||
				dst.YStride != sz.X || dst.CStride != cw ||
				len(dst.Y) != sz.X*sz.Y || len(dst.Cb) != cw*ch || len(dst.Cr) != cw*ch {
				t.Fatalf("%v: dst %v %v strides %d %d lens %d %d %d", sz, dst.Rect, dst.SubsampleRatio,
					dst.YStride, dst.CStride, len(dst.Y), len(dst.Cb), len(dst.Cr))
			}
			flat(dst, 100)
		})
	}
}

func TestFrameSlotLatestIsACopy(t *testing.T) {
	s := NewFrameSlot()
	s.Write(4, 2, func(dst *image.YCbCr) { flat(dst, 200) })
	got, seq := s.Latest()
	if seq != 1 || got.Bounds() != image.Rect(0, 0, 4, 2) {
		t.Fatalf("Latest = %v, seq %d", got.Bounds(), seq)
	}
	first := got.Pix[0]
	for v := byte(20); v < 30; v++ {
		s.Write(4, 2, func(dst *image.YCbCr) { flat(dst, v) })
	}
	uniform(t, got)
	if got.Pix[0] != first {
		t.Fatalf("a frame Latest returned was rewritten from %d to %d", first, got.Pix[0])
	}
	again, seq := s.Latest()
	if seq != 11 || again.Pix[0] >= first {
		t.Fatalf("Latest after 10 writes = %d, seq %d", again.Pix[0], seq)
	}
}

func TestFrameSlotBuffersAreReused(t *testing.T) {
	s := NewFrameSlot()
	allocs := testing.AllocsPerRun(100, func() {
		s.Write(64, 48, func(dst *image.YCbCr) { dst.Y[0]++ })
	})
	if allocs > 0 {
		t.Fatalf("Write allocates %.1f times per frame", allocs)
	}
	for _, mirror := range []bool{false, true} {
		for _, size := range []image.Point{{32, 24}, {64, 48}, {160, 120}} {
			var dst *image.RGBA
			dst, _, _ = s.Render(dst, size.X, size.Y, mirror)
			allocs = testing.AllocsPerRun(100, func() {
				s.Write(64, 48, func(d *image.YCbCr) { d.Y[0]++ })
				dst, _, _ = s.Render(dst, size.X, size.Y, mirror)
			})
			if allocs > 0 {
				t.Fatalf("Write+Render to %v (mirror %v) allocates %.1f times per frame", size, mirror, allocs)
			}
		}
	}
	n := 0
	for _, b := range s.bufs {
		if b != nil {
			n++
		}
	}
	if n > 2 {
		t.Errorf("%d buffers with one reader that never overlaps the writer, want 2", n)
	}
}

// TestFrameSlotRace runs one writer against many readers; run with -race.
// Every frame is one grey, so a reader that saw a frame mid-write would
// find two. Sizes change too.
func TestFrameSlotRace(t *testing.T) {
	s := NewFrameSlot()
	const frames = 300
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 0; i < frames; i++ {
			w := 32 + (i%3)*8
			s.Write(w, 24, func(dst *image.YCbCr) { flat(dst, byte(16+i%200)) })
		}
	}()
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			var own *image.RGBA
			var last uint64
			for {
				select {
				case <-done:
					return
				default:
				}
				var seq uint64
				if r == 0 {
					own, seq = s.Latest()
				} else {
					own, _, seq = s.Render(own, 8*r, 6*r, r%2 == 0)
				}
				if seq < last {
					t.Errorf("seq went back from %d to %d", last, seq)
					return
				}
				last = seq
				if own != nil && seq > 0 {
					uniform(t, own)
				}
			}
		}(r)
	}
	wg.Wait()
	if s.Seq() != frames {
		t.Fatalf("Seq = %d, want %d", s.Seq(), frames)
	}
}
