package client

import (
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
)

// InitialSendEstimate is the send bandwidth a connection assumes, in bits
// per second, until the server's feedback moves the estimate.
const InitialSendEstimate = 1_000_000

// Estimate reports are sent to OnSendEstimate's function when the
// estimate moved by estimateStep (a fraction) or estimateEvery passed.
const (
	estimateStep  = 0.05
	estimateEvery = time.Second
)

// rembFresh is how long the server's last REMB caps the estimate.
const rembFresh = 5 * time.Second

// sendEstimate follows the send-side bandwidth estimator of the current
// connection: Google Congestion Control over the transport-wide
// congestion control feedback the server returns for everything this
// session sends (PROTOCOL.md §5.2, media details). Each connection
// (rejoin) gets a new estimator; attach is called with it while the
// PeerConnection is built. The server's REMB, sent to a publisher whose
// video is not simulcast, caps it (rembWatch).
type sendEstimate struct {
	mu       sync.Mutex
	bwe      cc.BandwidthEstimator
	notify   func(bps int)
	reported int
	at       time.Time
	remb     int // the latest REMB, bits per second; 0 none
	rembAt   time.Time
}

// attach makes bwe the estimator followed.
func (e *sendEstimate) attach(bwe cc.BandwidthEstimator) {
	e.mu.Lock()
	e.bwe = bwe
	e.mu.Unlock()
	bwe.OnTargetBitrateChange(func(int) { e.changed(bwe) })
	e.changed(bwe)
}

// changed runs on a goroutine pion starts for each change of bwe's target
// (and once from attach); the latest value is read here, so reports made
// out of order still end on the newest.
func (e *sendEstimate) changed(bwe cc.BandwidthEstimator) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bwe != bwe || e.notify == nil {
		return
	}
	v := e.valueLocked()
	moved := e.reported == 0 || float64(abs(v-e.reported)) >= estimateStep*float64(e.reported)
	if !moved && time.Since(e.at) < estimateEvery {
		return
	}
	e.reported, e.at = v, time.Now()
	e.notify(v) // under mu: reports never overtake one another
}

func (e *sendEstimate) current() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.valueLocked()
}

// valueLocked is the estimate: the congestion controller's target, capped
// by a recent REMB.
func (e *sendEstimate) valueLocked() int {
	v := InitialSendEstimate
	if e.bwe != nil {
		v = e.bwe.GetTargetBitrate()
	}
	if e.remb > 0 && time.Since(e.rembAt) < rembFresh {
		v = min(v, e.remb)
	}
	return v
}

// capped records a REMB from the server.
func (e *sendEstimate) capped(bps int) {
	e.mu.Lock()
	e.remb, e.rembAt = bps, time.Now()
	bwe := e.bwe
	e.mu.Unlock()
	if bwe != nil {
		e.changed(bwe)
	}
}

// rembWatch is an interceptor that hands the REMB packets (draft-
// alvestrand-rmcat-remb) read from the server to a sendEstimate. Like
// every interceptor it sees the RTCP someone reads from a sender: the
// capture tracks read theirs.
type rembWatch struct{ e *sendEstimate }

// NewInterceptor implements interceptor.Factory.
func (w *rembWatch) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &rembInterceptor{e: w.e}, nil
}

type rembInterceptor struct {
	interceptor.NoOp
	e *sendEstimate
}

// BindRTCPReader implements interceptor.Interceptor.
func (i *rembInterceptor) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err != nil {
			return n, attr, err
		}
		if attr == nil {
			attr = interceptor.Attributes{}
		}
		if pkts, perr := attr.GetRTCPPackets(b[:n]); perr == nil {
			for _, p := range pkts {
				if r, ok := p.(*rtcp.ReceiverEstimatedMaximumBitrate); ok {
					i.e.capped(int(r.Bitrate))
				}
			}
		}
		return n, attr, err
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// SendEstimate returns how many bits per second this session may send
// now, for all of its media together: the congestion controller's target
// for the current connection to the server (InitialSendEstimate until
// feedback arrives), capped, while the camera is not simulcast, by what
// the server says its slowest subscriber can take (REMB). An encoder follows it: the camera (all its
// simulcast layers together) gets what the microphone (about 40 kbit/s)
// and a screen share leave.
func (s *Session) SendEstimate() int { return s.bwe.current() }

// OnSendEstimate sets f to be called with the new estimate (bits per
// second, as SendEstimate) when it moves by 5% or more, at most once per
// change and at least once a second while it changes, and once for each
// new connection; nil stops the calls. f runs on a goroutine of the media
// stack: it must return quickly (e.g. hand the value to the encoder's
// SetBitrate) and must not call back into the session.
func (s *Session) OnSendEstimate(f func(bps int)) {
	s.bwe.mu.Lock()
	s.bwe.notify, s.bwe.reported = f, 0
	bwe := s.bwe.bwe
	s.bwe.mu.Unlock()
	if f != nil && bwe != nil {
		s.bwe.changed(bwe)
	}
}
