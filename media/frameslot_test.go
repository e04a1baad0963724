package media

import (
	"image"
	"sync"
	"testing"
)

// fill paints every byte of img with v, so a torn frame shows mixed values.
func fill(img *image.RGBA, v byte) {
	for i := range img.Pix {
		img.Pix[i] = v
	}
}

func uniform(t *testing.T, img *image.RGBA) {
	t.Helper()
	v := img.Pix[0]
	for i, p := range img.Pix {
		if p != v {
			t.Fatalf("torn frame: byte %d is %d, byte 0 is %d", i, p, v)
		}
	}
}

func TestFrameSlotEmpty(t *testing.T) {
	s := NewFrameSlot()
	if img, seq := s.Latest(); img != nil || seq != 0 {
		t.Fatalf("Latest on empty slot = %v, %d", img, seq)
	}
	dst, seq := s.CopyLatest(nil)
	if dst != nil || seq != 0 {
		t.Fatalf("CopyLatest on empty slot = %v, %d", dst, seq)
	}
	s.Put(nil)
	s.Write(0, 10, func(*image.RGBA) { t.Fatal("fill called for empty size") })
	if s.Seq() != 0 {
		t.Fatalf("Seq = %d after ignored writes", s.Seq())
	}
}

func TestFrameSlotLatestIsNeverRewritten(t *testing.T) {
	s := NewFrameSlot()
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	fill(src, 1)
	s.Put(src)
	got, seq := s.Latest()
	if seq != 1 || got.Pix[0] != 1 {
		t.Fatalf("Latest = %v, seq %d", got.Pix[0], seq)
	}
	for v := byte(2); v < 10; v++ {
		s.Write(4, 2, func(dst *image.RGBA) { fill(dst, v) })
	}
	uniform(t, got)
	if got.Pix[0] != 1 {
		t.Fatalf("lent frame was rewritten to %d", got.Pix[0])
	}
	cp, seq := s.CopyLatest(nil)
	if seq != 9 || cp.Pix[0] != 9 {
		t.Fatalf("CopyLatest = %d, seq %d; want 9, 9", cp.Pix[0], seq)
	}
}

func TestFrameSlotBuffersAreReused(t *testing.T) {
	s := NewFrameSlot()
	allocs := testing.AllocsPerRun(100, func() {
		s.Write(64, 48, func(dst *image.RGBA) { dst.Pix[0]++ })
	})
	if allocs > 0 {
		t.Fatalf("Write allocates %.1f times per frame without Latest readers", allocs)
	}
	var dst *image.RGBA
	dst, _ = s.CopyLatest(dst)
	allocs = testing.AllocsPerRun(100, func() {
		s.Write(64, 48, func(d *image.RGBA) { d.Pix[0]++ })
		dst, _ = s.CopyLatest(dst)
	})
	if allocs > 0 {
		t.Fatalf("Write+CopyLatest allocates %.1f times per frame", allocs)
	}
}

// TestFrameSlotRace runs one writer against many readers; run with -race.
// Every frame is uniform, so a reader that saw a frame mid-write would
// find mixed bytes.
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
			w := 32 + (i%3)*8 // sizes change too
			s.Write(w, 24, func(dst *image.RGBA) { fill(dst, byte(i)) })
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
				var img *image.RGBA
				var seq uint64
				if r%2 == 0 {
					img, seq = s.Latest()
				} else {
					own, seq = s.CopyLatest(own)
					img = own
				}
				if seq < last {
					t.Errorf("seq went back from %d to %d", last, seq)
					return
				}
				last = seq
				if img != nil && seq > 0 {
					uniform(t, img)
				}
			}
		}(r)
	}
	wg.Wait()
	if s.Seq() != frames {
		t.Fatalf("Seq = %d, want %d", s.Seq(), frames)
	}
}
