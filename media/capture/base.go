package capture

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices"
	"github.com/pion/webrtc/v4"
)

// base is what video and audio tracks share: identity, the mediadevices
// track that owns the device, the pump's lifecycle and the RTCP loops.
type base struct {
	cap  *Capture
	dev  Device
	tc   trackConfig
	kind webrtc.RTPCodecType
	md   mediadevices.Track
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	rtcp   rtcpLoops

	stop      chan struct{} // closed to stop the pump
	done      chan struct{} // closed when the pump has returned
	errMu     sync.Mutex
	err       error // why the pump stopped on its own
	closeOnce sync.Once
	closeErr  error

	sent atomic.Uint64 // frames or packets written, all bindings
}

func (b *base) init(c *Capture, dev Device, tc trackConfig, kind webrtc.RTPCodecType, md mediadevices.Track) {
	b.cap, b.dev, b.tc, b.kind, b.md = c, dev, tc, kind, md
	b.log = c.log.With("track", tc.id, "device", dev.Label)
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	b.rtcp = newRTCPLoops(&b.mu)
}

// ID implements webrtc.TrackLocal.
func (b *base) ID() string { return b.tc.id }

// StreamID implements webrtc.TrackLocal.
func (b *base) StreamID() string { return b.tc.streamID }

// RID implements webrtc.TrackLocal; simulcast is not used.
func (b *base) RID() string { return "" }

// Kind implements webrtc.TrackLocal.
func (b *base) Kind() webrtc.RTPCodecType { return b.kind }

// Device returns the device the track captures.
func (b *base) Device() Device { return b.dev }

// Done is closed when the device stops delivering: after Close, or when it
// fails (unplugged camera), in which case Err says why.
func (b *base) Done() <-chan struct{} { return b.done }

// Err returns why the device stopped on its own, or nil while it runs and
// after a plain Close.
func (b *base) Err() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.err
}

func (b *base) fail(err error) {
	select {
	case <-b.stop:
		return // closing: read errors are expected
	default:
	}
	b.errMu.Lock()
	b.err = fmt.Errorf("capture: %s %q stopped: %w", b.dev.Kind, b.dev.Label, err)
	b.errMu.Unlock()
	b.log.Warn("device stopped", "err", err)
}

// close stops the pump, runs stopSinks, then closes the device.
func (b *base) close(stopSinks func()) error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
		select {
		case <-b.done:
		case <-time.After(stopTimeout):
			b.log.Warn("device read did not return; closing it anyway")
		}
		stopSinks()
		if err := b.md.Close(); err != nil {
			b.closeErr = fmt.Errorf("capture: close %s %q: %w", b.dev.Kind, b.dev.Label, err)
		}
	})
	return b.closeErr
}

// pickCodec finds mime among the negotiated codecs.
func pickCodec(params []webrtc.RTPCodecParameters, mime string) (webrtc.RTPCodecParameters, bool) {
	for _, p := range params {
		if strings.EqualFold(p.MimeType, mime) {
			return p, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}
