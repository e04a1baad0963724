package sfu

import (
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// attrsPool holds the attribute maps attrsFactory lends to outgoing
// packets.
var attrsPool = sync.Pool{New: func() any { return interceptor.Attributes{} }}

// attrsFactory makes the outermost interceptor of what a PeerConnection
// sends: it gives each packet that comes without attributes (pion passes
// none for a track's RTP) a map from a pool, cleared and given back when
// the write returns. The congestion controller (AddCongestionControl)
// otherwise makes a map of its own for every packet to every subscriber,
// the largest allocation on the forwarding path. Nothing below keeps the
// map past the write: the estimator reads it and the pacer, a no-op one,
// writes at once.
type attrsFactory struct{}

func (attrsFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &attrsInterceptor{}, nil
}

type attrsInterceptor struct{ interceptor.NoOp }

func (*attrsInterceptor) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if a != nil {
			return w.Write(h, payload, a)
		}
		a, _ = attrsPool.Get().(interceptor.Attributes)
		if a == nil {
			a = interceptor.Attributes{}
		}
		n, err := w.Write(h, payload, a)
		clear(a)
		attrsPool.Put(a)
		return n, err
	})
}
