package sfu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// sendScratch is what the outermost interceptor of what a PeerConnection
// sends lends one packet for the time of its write: the attribute map
// the congestion controller would otherwise make per packet (the largest
// allocation on the forwarding path) and the bytes of the packet's
// transport-cc header extension.
type sendScratch struct {
	attrs interceptor.Attributes
	tcc   [2]byte
}

var scratchPool = sync.Pool{New: func() any { return &sendScratch{attrs: interceptor.Attributes{}} }}

// sendFactory makes the outermost interceptor of what a PeerConnection
// sends (AddCongestionControl). For each packet it writes the next
// transport-wide sequence number of the PeerConnection into the
// transport-cc header extension
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), as pion's
// twcc.HeaderExtensionInterceptor does but without allocating the
// extension's bytes, and gives a packet that comes without attributes
// (pion passes none for a track's RTP) a map; both come from a pool and
// go back when the write returns. Nothing below keeps them past the
// write: the estimator reads them and the pacer (directPacer) writes at
// once. The caller's header is given back as it came (its own extension
// with that id, or none).
type sendFactory struct{}

func (sendFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &sendInterceptor{}, nil
}

type sendInterceptor struct {
	interceptor.NoOp
	next atomic.Uint32 // the next transport-wide sequence number, in the low 16 bits
}

func (s *sendInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	id := transportCCID(info)
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h == nil {
			return 0, errNilHeader
		}
		sc, _ := scratchPool.Get().(*sendScratch)
		if sc == nil {
			sc = &sendScratch{attrs: interceptor.Attributes{}}
		}
		var prev []byte // the caller's own extension with id, if any
		set := false
		defer func() {
			// The header goes back as it came: the SFU's fan-out writes one
			// header to every subscriber, and one without transport-cc
			// (or with another id) must not get these pooled bytes.
			if set {
				if prev != nil {
					_ = h.SetExtension(id, prev)
				} else {
					_ = h.DelExtension(id)
				}
			}
			clear(sc.attrs)
			scratchPool.Put(sc)
		}()
		if id != 0 {
			prev = h.GetExtension(id)
			binary.BigEndian.PutUint16(sc.tcc[:], uint16(s.next.Add(1)-1))
			if err := h.SetExtension(id, sc.tcc[:]); err != nil {
				return 0, err
			}
			set = true
		}
		if a == nil {
			a = sc.attrs
		}
		return w.Write(h, payload, a)
	})
}

var (
	errNilHeader     = errors.New("sfu: RTP header is nil")
	errUnknownStream = errors.New("sfu: no such outgoing stream")
)

// directPacer is the congestion controller's pacer (AddCongestionControl):
// it sends each packet at once, as pion's gcc.NoOpPacer does, but finds
// the stream's writer in a copy-on-write map instead of under a mutex that
// NoOpPacer holds across the whole write (SRTP and the socket): with it,
// two tracks fanned out to one subscriber at the same time waited for
// each other.
type directPacer struct {
	mu      sync.Mutex // serializes AddStream
	writers atomic.Pointer[map[uint32]interceptor.RTPWriter]
}

// AddStream adds the writer of the stream with SSRC ssrc.
func (p *directPacer) AddStream(ssrc uint32, w interceptor.RTPWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := map[uint32]interceptor.RTPWriter{ssrc: w}
	if old := p.writers.Load(); old != nil {
		for k, v := range *old {
			if k != ssrc {
				next[k] = v
			}
		}
	}
	p.writers.Store(&next)
}

// Write sends a packet of a stream added before.
func (p *directPacer) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	if m := p.writers.Load(); m != nil {
		if w, ok := (*m)[h.SSRC]; ok {
			return w.Write(h, payload, a)
		}
	}
	return 0, fmt.Errorf("%w: SSRC %d", errUnknownStream, h.SSRC)
}

// SetTargetBitrate does nothing: packets are not paced.
func (p *directPacer) SetTargetBitrate(int) {}

// Close does nothing.
func (p *directPacer) Close() error { return nil }
