package capture_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/internal/mediatest"
)

// TestCameraFrameRate publishes the test camera (mediadevices' videotest
// driver, what the app's --fake-devices opens), set to 640x480 at 30 fps,
// through a real PeerConnection to another on loopback and checks that the
// frames the camera delivers reach the receiver: within 40 s some 2 s
// window brings at least 24 fps (loose for a busy machine and -race;
// BenchmarkCameraFrameRate measures the test camera at 640x480 and 30 fps
// arriving at a receiver over loopback: fps received (VP8 frames, counted
// by RTP timestamp), fps the camera delivered, encode wall time per frame,
// the process's CPU per frame (camera pattern, encoder, both peers), the
// bit rate, frames replaced unencoded because an encoder was behind,
// frames the camera fell behind its schedule (videotest's ticker drops
// ticks when the process is held up), and the 1-minute load average it ran
// under. Each iteration is one second of call after a 2 s warm-up: run it
// with -benchtime 10x.
func BenchmarkCameraFrameRate(b *testing.B) {
	call := startCameraCall(b)
	defer call.close(b)
	waitFor(b, 20*time.Second, "30 frames at the receiver", func() bool {
		f, _ := call.rx.counts()
		return f >= 30
	})
	time.Sleep(2 * time.Second)
	b.ResetTimer()
	w0 := call.snapshot()
	for range b.N {
		time.Sleep(time.Second)
	}
	w := call.snapshot().since(w0)
	b.StopTimer()
	b.Log(w)
	b.ReportMetric(w.fps(w.received), "fps")
	b.ReportMetric(w.fps(w.st.Captured), "captured-fps")
	b.ReportMetric(w.encodeMS(), "encode-ms/frame")
	if w.received > 0 {
		b.ReportMetric(w.cpu.Seconds()*1000/float64(w.received), "cpu-ms/frame")
	}
	b.ReportMetric(float64(w.bytes)*8/1000/w.d.Seconds(), "kbit/s")
	b.ReportMetric(float64(w.st.Replaced), "replaced-frames")
	b.ReportMetric(float64(w.st.Missed), "camera-missed-frames")
	b.ReportMetric(loadAverage(), "load1")
	b.ReportMetric(0, "ns/op")
}

// cameraCall is the test camera at the Capture's defaults (640x480,
// 30 fps) published through one real PeerConnection to another on
// loopback, with the frames arriving counted.
type cameraCall struct {
	cam      *capture.VideoTrack
	pub, sub *webrtc.PeerConnection
	rx       frameCounter
	wg       sync.WaitGroup
}

func startCameraCall(tb testing.TB, opts ...capture.Option) *cameraCall {
	tb.Helper()
	c, err := capture.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	api := newAPI(tb, c)
	call := &cameraCall{}
	if call.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		tb.Fatal(err)
	}
	if call.sub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		tb.Fatal(err)
	}
	if call.cam, err = c.OpenCamera(""); err != nil {
		tb.Fatal(err)
	}
	if _, err := call.pub.AddTrack(call.cam); err != nil {
		tb.Fatal(err)
	}
	call.sub.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		call.wg.Add(1)
		defer call.wg.Done()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			call.rx.add(p.Timestamp, len(p.Payload), mediatest.IsVP8KeyFrameStart(p))
		}
	})
	connect(tb, call.pub, call.sub)
	return call
}

func (c *cameraCall) close(tb testing.TB) {
	tb.Helper()
	for _, err := range []error{c.pub.Close(), c.sub.Close(), c.cam.Close()} {
		if err != nil {
			tb.Error(err)
		}
	}
	c.wg.Wait()
}

// frameCounter counts the frames of a received VP8 track: a frame begins
// where the RTP timestamp changes (RFC 7741, 4.1: all packets of a frame
// carry its timestamp).
type frameCounter struct {
	mu        sync.Mutex
	frames    uint64
	keyFrames uint64
	bytes     uint64
	lastTS    uint32
	seen      bool
}

func (f *frameCounter) add(ts uint32, payload int, key bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen || ts != f.lastTS {
		f.frames++
		f.lastTS, f.seen = ts, true
	}
	if key {
		f.keyFrames++
	}
	f.bytes += uint64(payload)
}

func (f *frameCounter) counts() (frames, bytes uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames, f.bytes
}

// window is what a cameraCall did up to a moment, or between two.
type window struct {
	at       time.Time
	d        time.Duration
	received uint64 // frames at the receiver
	bytes    uint64 // VP8 payload bytes at the receiver
	st       capture.VideoStats
	cpu      time.Duration // the process's CPU time
}

func (c *cameraCall) snapshot() window {
	f, b := c.rx.counts()
	return window{at: time.Now(), received: f, bytes: b, st: c.cam.Stats(), cpu: processCPU()}
}

// since returns what happened between w0 and w.
func (w window) since(w0 window) window {
	return window{
		at: w.at, d: w.at.Sub(w0.at), received: w.received - w0.received, bytes: w.bytes - w0.bytes, cpu: w.cpu - w0.cpu,
		st: capture.VideoStats{
			Captured: w.st.Captured - w0.st.Captured, Missed: w.st.Missed - w0.st.Missed,
			Replaced: w.st.Replaced - w0.st.Replaced,
			Encoded:  w.st.Encoded - w0.st.Encoded, Skipped: w.st.Skipped - w0.st.Skipped,
			Sent: w.st.Sent - w0.st.Sent, EncodeTime: w.st.EncodeTime - w0.st.EncodeTime,
		},
	}
}

func (w window) fps(n uint64) float64 { return float64(n) / w.d.Seconds() }

func (w window) encodeMS() float64 {
	if w.st.Encoded == 0 {
		return 0
	}
	return w.st.EncodeTime.Seconds() * 1000 / float64(w.st.Encoded)
}

func (w window) String() string {
	return fmt.Sprintf("%.1f s: received %.1f fps (%.0f kbit/s); camera %.1f fps (%d frames behind its schedule), "+
		"encoded %.1f, sent %.1f, replaced unencoded %d, skipped %d; encode %.2f ms/frame; load %.2f",
		w.d.Seconds(), w.fps(w.received), float64(w.bytes)*8/1000/w.d.Seconds(), w.fps(w.st.Captured),
		w.st.Missed, w.fps(w.st.Encoded), w.fps(w.st.Sent), w.st.Replaced, w.st.Skipped, w.encodeMS(), loadAverage())
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the 1-minute load average, or -1 where there is no
// /proc/loadavg.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		return -1
	}
	return f
}
