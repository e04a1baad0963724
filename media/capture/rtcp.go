package capture

import (
	"errors"
	"io"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// rtcpMTU is the largest RTCP packet read from a sender.
const rtcpMTU = 1500

// maxRTCPErrors is how many read errors in a row end an RTCP loop.
const maxRTCPErrors = 50

// rtcpHandler receives the RTCP a bound sender reads.
type rtcpHandler interface {
	handleRTCP(pkts []rtcp.Packet)
}

// rtcpLoops reads the RTCP of every sender a track is bound to. pion gives
// a TrackLocal the sender's RTCP reader in its bind context; it is the same
// reader RTPSender.Read uses, so a track that reads it must be its only
// reader. The loop for a sender outlives Unbind until its next packet: a
// Read cannot be interrupted, so the loop checks on each packet whether it
// still has a handler, hands the packet to a handler re-bound meanwhile (the
// same sender keeps its context id across ReplaceTrack), or drops it and
// exits.
type rtcpLoops struct {
	mu    *sync.Mutex // the owning track's mutex
	loops map[string]*rtcpLoop
}

type rtcpLoop struct {
	h rtcpHandler // guarded by rtcpLoops.mu; nil once unbound
}

func newRTCPLoops(mu *sync.Mutex) rtcpLoops {
	return rtcpLoops{mu: mu, loops: make(map[string]*rtcpLoop)}
}

// attach makes h the receiver of ctx's RTCP, starting a loop when none runs.
// The caller holds mu.
func (r *rtcpLoops) attach(ctx webrtc.TrackLocalContext, h rtcpHandler) {
	if l, ok := r.loops[ctx.ID()]; ok {
		l.h = h
		return
	}
	l := &rtcpLoop{h: h}
	r.loops[ctx.ID()] = l
	go r.run(ctx.ID(), l, ctx.RTCPReader())
}

// detach stops delivering ctx's RTCP. The caller holds mu.
func (r *rtcpLoops) detach(id string) {
	if l, ok := r.loops[id]; ok {
		l.h = nil
	}
}

func (r *rtcpLoops) run(id string, l *rtcpLoop, reader interceptor.RTCPReader) {
	if reader == nil {
		r.mu.Lock()
		delete(r.loops, id)
		r.mu.Unlock()
		return
	}
	buf := make([]byte, rtcpMTU)
	errs := 0
	for {
		n, _, err := reader.Read(buf, interceptor.Attributes{})
		if err != nil {
			errs++
		} else {
			errs = 0
		}
		r.mu.Lock()
		h := l.h
		end := h == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errs >= maxRTCPErrors
		if end {
			if r.loops[id] == l {
				delete(r.loops, id)
			}
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		if err != nil {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		h.handleRTCP(pkts)
	}
}
