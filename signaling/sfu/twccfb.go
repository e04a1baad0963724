package sfu

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// twccFeedbackInterval is how often a publisher gets transport-wide
// congestion control feedback for what it sends (pion's and browsers'
// default).
const twccFeedbackInterval = 100 * time.Millisecond

// twccFeedbackFactory makes, for each PeerConnection, the receiving side
// of transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): it notes the
// transport-wide sequence number and arrival time of every RTP packet
// received and sends the peer a TransportLayerCC feedback every
// interval, so that a publisher's own bandwidth estimator works. It does
// what pion's twcc.SenderInterceptor does with pion's twcc.Recorder, but
// notes each packet on the goroutine that reads it, under a mutex: pion
// hands every packet over an unbuffered channel to a goroutine of its
// own, a goroutine wake-up per packet received.
type twccFeedbackFactory struct{ interval time.Duration }

func (f twccFeedbackFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &twccFeedback{interval: f.interval, start: time.Now(), done: make(chan struct{})}, nil
}

type twccFeedback struct {
	interceptor.NoOp
	interval time.Duration
	start    time.Time // arrival times are microseconds since

	mu      sync.Mutex
	rec     *twcc.Recorder         // nil until BindRTCPWriter
	w       interceptor.RTCPWriter // where feedback goes
	running bool                   // loop has been started
	closed  bool

	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

// BindRTCPWriter keeps the PeerConnection's RTCP writer, where feedback
// goes.
func (f *twccFeedback) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec = twcc.NewRecorder(rand.Uint32())
	f.w = w
	return w
}

// BindRemoteStream notes each packet of a stream that carries the
// transport-cc header extension.
func (f *twccFeedback) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	id := transportCCID(info)
	if id == 0 {
		return r
	}
	ssrc := info.SSRC
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := r.Read(b, a)
		if err != nil {
			return 0, nil, err
		}
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		// A packet whose header or extension does not parse is passed on
		// unrecorded: the forwarding loop drops what it cannot parse, and
		// an error here would end the publisher's track (pion's
		// interceptor returns one).
		if h, err := attr.GetRTPHeader(b[:n]); err == nil {
			if ext := h.GetExtension(id); ext != nil {
				var tcc rtp.TransportCCExtension
				if tcc.Unmarshal(ext) == nil {
					f.record(ssrc, tcc.TransportSequence, time.Since(f.start).Microseconds())
				}
			}
		}
		return n, attr, nil
	})
}

// record notes one packet; the first one starts the loop that sends
// feedback (a PeerConnection that receives nothing has none running).
func (f *twccFeedback) record(ssrc uint32, seq uint16, arrivalUS int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.rec == nil {
		return
	}
	f.rec.Record(ssrc, seq, arrivalUS)
	if !f.running {
		f.running = true
		f.wg.Add(1)
		go f.loop()
	}
}

// loop sends the feedback for what was noted every interval until Close.
func (f *twccFeedback) loop() {
	defer f.wg.Done()
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case <-f.done:
			return
		case <-t.C:
		}
		f.mu.Lock()
		pkts := f.rec.BuildFeedbackPacket()
		w := f.w
		f.mu.Unlock()
		if len(pkts) > 0 {
			// A PeerConnection that is closing refuses the write; the
			// next feedback covers what this one would have.
			_, _ = w.Write(pkts, nil)
		}
	}
}

// Close stops the loop and waits for it.
func (f *twccFeedback) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

// transportCCID is the header extension id a stream negotiated for
// transport-wide sequence numbers, 0 for none.
func transportCCID(info *interceptor.StreamInfo) uint8 {
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			return uint8(e.ID)
		}
	}
	return 0
}
