package sfu

import (
	"sync/atomic"

	"github.com/pion/rtp"
)

// tapSlot holds a track's tap (Track.Tap), read once per packet.
type tapSlot struct {
	p atomic.Pointer[func(layer int, p *rtp.Packet)]
}

func (s *tapSlot) call(layer int, p *rtp.Packet) {
	if fn := s.p.Load(); fn != nil {
		(*fn)(layer, p)
	}
}

// Tap makes fn see every RTP packet t receives from now on, on the
// track's forwarding goroutine, before it is forwarded (a recorder uses
// it). layer is the packet's simulcast layer index, 0 for a track that is
// not simulcast. The packet and its payload are valid only during the
// call (the read buffer is reused): fn copies what it keeps, and returns
// at once, never blocks, as it runs in the forwarding path. fn replaces
// any tap set before. The returned func removes fn, unless another tap
// has replaced it meanwhile; a call of fn may still be under way when it
// returns.
func (t *Track) Tap(fn func(layer int, p *rtp.Packet)) (remove func()) {
	p := &fn
	t.tap.p.Store(p)
	return func() { t.tap.p.CompareAndSwap(p, nil) }
}
