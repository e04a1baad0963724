package vp8enc

import (
	"image"
	"syscall"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/prop"
)

// BenchmarkEncode640x480 encodes the test pattern at 640x480, 800 kbit/s,
// and reports per frame the wall time of Encode and the process's CPU
// time, the bit rate and libvpx's PSNR, for the settings Confab uses
// ("default": cpu-used -6, one thread), neighbouring speeds, two threads,
// and mediadevices' vpx encoder as Confab configured it before (CBR,
// error resilient, libvpx's automatic speed, one thread; it is fed at
// 30 fps in real time because it takes its timestamps from the clock).
func BenchmarkEncode640x480(b *testing.B) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"cpu-4", Config{CPUUsed: -4}},
		{"cpu-8", Config{CPUUsed: -8}},
		{"cpu-12", Config{CPUUsed: -12}},
		{"threads2", Config{Threads: 2}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.Width, cfg.Height, cfg.psnr = 640, 480, true
			enc, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			p := newTestPattern(640, 480)
			frames := make([]*image.YCbCr, 8) // the pattern's noise costs CPU: draw it beforehand
			for i := range frames {
				frames[i] = cloneYCbCr(p.next())
			}
			t0 := time.Now()
			var wall, cpu time.Duration
			b.ResetTimer()
			for i := range b.N {
				c0, w0 := processCPU(), time.Now()
				if _, err := enc.Encode(frames[i%len(frames)], t0.Add(time.Duration(i)*time.Second/30)); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(w0)
				cpu += processCPU() - c0
			}
			b.StopTimer()
			st := enc.Stats()
			report(b, wall, cpu, b.N, st.Bytes)
			if enc.psnrN > 0 {
				b.ReportMetric(enc.psnrSum/float64(enc.psnrN), "psnr-dB")
			}
		})
	}
	b.Run("mediadevices", func(b *testing.B) {
		params, err := vpx.NewVP8Params()
		if err != nil {
			b.Fatal(err)
		}
		params.RateControlEndUsage = vpx.RateControlCBR
		params.LagInFrames = 0
		params.ErrorResilient = vpx.ErrorResilientDefault
		params.KeyFrameInterval = 60
		params.BitRate = DefaultBitRate
		src := &pacedPattern{p: newTestPattern(640, 480), t0: time.Now()}
		enc, err := params.BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: 640, Height: 480, FrameRate: 30}})
		if err != nil {
			b.Fatal(err)
		}
		defer enc.Close()
		var wall, cpu time.Duration
		var bytes uint64
		b.ResetTimer()
		for range b.N {
			// Read waits for the next frame (pacedPattern), then encodes.
			data, release, err := enc.Read()
			if err != nil {
				b.Fatal(err)
			}
			release()
			wall += src.encodeWall()
			cpu += processCPU() - src.cpuAtFrame
			bytes += uint64(len(data))
		}
		b.StopTimer()
		report(b, wall, cpu, b.N, bytes)
	})
}

func report(b *testing.B, wall, cpu time.Duration, n int, bytes uint64) {
	b.ReportMetric(wall.Seconds()*1000/float64(n), "encode-ms/frame")
	b.ReportMetric(cpu.Seconds()*1000/float64(n), "cpu-ms/frame")
	b.ReportMetric(float64(bytes)*8/1000/(float64(n)/30), "kbit/s")
	b.ReportMetric(0, "ns/op")
}

// pacedPattern hands mediadevices' encoder the test pattern at 30 fps in
// real time and notes when it handed each frame out, so the encode time
// can be told apart from the wait.
type pacedPattern struct {
	p          *testPattern
	t0         time.Time
	i          int
	handed     time.Time
	cpuAtFrame time.Duration
}

func (r *pacedPattern) Read() (image.Image, func(), error) {
	time.Sleep(time.Until(r.t0.Add(time.Duration(r.i) * time.Second / 30)))
	r.i++
	img := r.p.next()
	r.handed, r.cpuAtFrame = time.Now(), processCPU()
	return img, func() {}, nil
}

func (r *pacedPattern) encodeWall() time.Duration { return time.Since(r.handed) }

func cloneYCbCr(m *image.YCbCr) *image.YCbCr {
	c := *m
	c.Y = append([]byte(nil), m.Y...)
	c.Cb = append([]byte(nil), m.Cb...)
	c.Cr = append([]byte(nil), m.Cr...)
	return &c
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
