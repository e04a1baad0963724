package capture_test

import (
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/decode"
	"github.com/confab/confab/media/internal/mediatest"
)

// layerSink decodes what one bound layer writes.
type layerSink struct {
	rid  string
	ctx  *mediatest.Context
	slot *media.FrameSlot
	dec  *decode.VideoDecoder
	keys atomic.Int64 // keyframes started
	pkts atomic.Int64
}

func (s *layerSink) run(wg *sync.WaitGroup, stop <-chan struct{}) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		case p := <-s.ctx.Packets:
			s.pkts.Add(1)
			if mediatest.IsVP8KeyFrameStart(p) {
				s.keys.Add(1)
			}
			_ = s.dec.Push(p)
		}
	}
}

func (s *layerSink) size() image.Point {
	_, size, _ := s.slot.Render(nil, 0, 0, false)
	return size
}

// TestCameraLayers binds the three layers of a 640x480 test camera, each
// to its own sender, decodes what each sends with libvpx and checks:
// each layer's frames have its size; a PLI on one layer makes a keyframe
// on that layer alone; a budget too small for the top layer stops it and
// a larger one brings it back, starting with a keyframe; a layer the
// server puts in standby stops and comes back the same way.
func TestCameraLayers(t *testing.T) {
	// A long keyframe interval, so keyframes seen come from requests.
	c, err := capture.New(capture.WithVideoSize(640, 480), capture.WithFrameRate(30), capture.WithKeyFrameInterval(3000))
	if err != nil {
		t.Fatal(err)
	}
	cam, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	layers := cam.Layers()
	if len(layers) != 3 {
		t.Fatalf("a 640x480 camera has %d layers, want 3", len(layers))
	}
	rids := []string{"q", "h", "f"}
	want := []image.Point{{160, 120}, {320, 240}, {640, 480}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sinks := make([]*layerSink, len(layers))
	for i, l := range layers {
		if l.RID() != "" || l.ID() != cam.ID() || l.StreamID() != cam.StreamID() {
			t.Errorf("layer %d: id %q stream %q rid %q", i, l.ID(), l.StreamID(), l.RID())
		}
		s := &layerSink{rid: rids[i], ctx: mediatest.NewContext("sender:"+rids[i], media.VP8Codec(), nil, 8192), slot: media.NewFrameSlot()}
		if s.dec, err = decode.NewVideoDecoder(s.slot); err != nil {
			t.Fatal(err)
		}
		sinks[i] = s
		wg.Add(1)
		go s.run(&wg, stop)
		if _, err := l.Bind(s.ctx); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for i, l := range layers {
			_ = l.Unbind(sinks[i].ctx)
			sinks[i].ctx.Close()
		}
		close(stop)
		wg.Wait()
		for _, s := range sinks {
			s.dec.Close()
		}
	}()

	state := func() string {
		out := ""
		for _, s := range sinks {
			out += fmt.Sprintf("%s: %d packets, %d keyframes, %d frames %v; ", s.rid, s.pkts.Load(), s.keys.Load(), s.dec.FramesDecoded(), s.size())
		}
		return out + fmt.Sprintf("layers %+v", cam.LayerStats())
	}
	const wait = 20 * time.Second
	waitFor(t, wait, "every layer decoding at its size", func() bool {
		for i, s := range sinks {
			if s.dec.FramesDecoded() < 10 || s.size() != want[i] {
				return false
			}
		}
		return true
	})
	t.Log(state())
	st := cam.LayerStats()
	for i, l := range st {
		if l.RID != rids[i] || l.Width != want[i].X || l.Height != want[i].Y || !l.Sending || l.Bound != 1 {
			t.Errorf("layer %d: %+v", i, l)
		}
	}
	// The default 800 kbit/s, shared about 15/30/55.
	if st[0].BitRate >= st[1].BitRate || st[1].BitRate >= st[2].BitRate || st[0].BitRate+st[1].BitRate+st[2].BitRate > capture.DefaultVideoBitRate+1000 {
		t.Errorf("layer rates %d, %d, %d", st[0].BitRate, st[1].BitRate, st[2].BitRate)
	}

	// A PLI on h: a keyframe on h, none on q and f.
	before := [3]int64{sinks[0].keys.Load(), sinks[1].keys.Load(), sinks[2].keys.Load()}
	if err := sinks[1].ctx.SendRTCP(&rtcp.PictureLossIndication{MediaSSRC: 1234}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, wait, "a keyframe on h after its PLI", func() bool { return sinks[1].keys.Load() > before[1] })
	// Frames of q and f well after the PLI: none of them a keyframe.
	qf := [2]uint64{sinks[0].dec.FramesDecoded(), sinks[2].dec.FramesDecoded()}
	waitFor(t, wait, "15 more frames on q and f", func() bool {
		return sinks[0].dec.FramesDecoded() >= qf[0]+15 && sinks[2].dec.FramesDecoded() >= qf[1]+15
	})
	if sinks[0].keys.Load() != before[0] || sinks[2].keys.Load() != before[2] {
		t.Errorf("a PLI on h made keyframes elsewhere: %s", state())
	}

	// Too little for f: it stops; q and h go on with the whole budget.
	cam.SetBitRate(300_000)
	st = cam.LayerStats()
	if st[2].Sending || !st[0].Sending || !st[1].Sending || st[0].BitRate+st[1].BitRate < 290_000 {
		t.Fatalf("at 300 kbit/s: %+v", st)
	}
	waitFor(t, wait, "f to stop", func() bool {
		n := sinks[2].pkts.Load()
		time.Sleep(300 * time.Millisecond)
		return sinks[2].pkts.Load() == n
	})
	h := sinks[1].dec.FramesDecoded()
	waitFor(t, wait, "h going on", func() bool { return sinks[1].dec.FramesDecoded() > h+10 })
	// A budget just over f's minimum does not bring it back (hysteresis);
	// a good one does, with a keyframe.
	cam.SetBitRate(400_000)
	if st := cam.LayerStats(); st[2].Sending {
		t.Errorf("f came back at 400 kbit/s: %+v", st)
	}
	keys := sinks[2].keys.Load()
	frames := sinks[2].dec.FramesDecoded()
	cam.SetBitRate(800_000)
	waitFor(t, wait, "f back, from a keyframe", func() bool {
		return sinks[2].keys.Load() > keys && sinks[2].dec.FramesDecoded() > frames+10
	})
	t.Log(state())

	// The server says nobody receives h (standby): h stops, q and f go on
	// and share the budget (q at most 8 bits per pixel); named again, h
	// comes back from a keyframe.
	fRate := cam.LayerStats()[2].BitRate
	cam.SendLayers([]string{"q", "f"})
	st = cam.LayerStats()
	if st[1].Sending || !st[0].Sending || !st[2].Sending || st[2].BitRate <= fRate || st[0].BitRate > 153_600 || st[0].BitRate+st[2].BitRate < 750_000 {
		t.Fatalf("h in standby: %+v (f had %d bit/s)", st, fRate)
	}
	waitFor(t, wait, "h to stop", func() bool {
		n := sinks[1].pkts.Load()
		time.Sleep(300 * time.Millisecond)
		return sinks[1].pkts.Load() == n
	})
	qf = [2]uint64{sinks[0].dec.FramesDecoded(), sinks[2].dec.FramesDecoded()}
	waitFor(t, wait, "q and f going on", func() bool {
		return sinks[0].dec.FramesDecoded() > qf[0]+10 && sinks[2].dec.FramesDecoded() > qf[1]+10
	})
	keys, frames = sinks[1].keys.Load(), sinks[1].dec.FramesDecoded()
	cam.SendLayers([]string{"q", "h", "f"})
	waitFor(t, wait, "h back, from a keyframe", func() bool {
		return sinks[1].keys.Load() > keys && sinks[1].dec.FramesDecoded() > frames+10
	})
	// None named: the lowest alone.
	cam.SendLayers(nil)
	if st := cam.LayerStats(); !st[0].Sending || st[1].Sending || st[2].Sending {
		t.Errorf("no layer named: %+v", st)
	}
	t.Log(state())
}

// TestFrameRateThinned: the test camera always delivers 30 fps; a track
// asked for 10 encodes at most 10 a second and counts the rest as thinned.
func TestFrameRateThinned(t *testing.T) {
	c, err := capture.New(capture.WithFrameRate(10))
	if err != nil {
		t.Fatal(err)
	}
	cam, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	ctx := mediatest.NewContext("sender", media.VP8Codec(), nil, 8192)
	defer ctx.Close()
	if _, err := cam.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cam.Unbind(ctx) }()
	st0, t0 := cam.Stats(), time.Now()
	waitFor(t, 20*time.Second, "2 s of frames", func() bool { return time.Since(t0) >= 2*time.Second })
	st, dt := cam.Stats(), time.Since(t0).Seconds()
	kept := float64(st.Captured-st0.Captured-(st.Thinned-st0.Thinned)) / dt
	if kept > 10*1.15 || st.Thinned == 0 {
		t.Errorf("asked for 10 fps: kept %.1f fps, %+v", kept, st)
	}
	if enc := float64(st.Encoded-st0.Encoded) / dt; enc > 10*1.15 {
		t.Errorf("asked for 10 fps: encoded %.1f fps", enc)
	}
	t.Logf("kept %.1f fps of %.1f delivered", kept, float64(st.Captured-st0.Captured)/dt)
}
