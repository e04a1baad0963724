package sfu

import "sync"

// cacheSize is how many of a stream's latest packets are kept for
// retransmission: about 3 s of a 1.5 Mbit/s video, as deep as pion's
// NACK responder kept per subscriber. A power of two.
const cacheSize = 1024

// packetCache keeps the latest packets of one published video stream as
// they arrived, so that every subscriber's NACK (RFC 4585 §6.2.1) is
// answered from one copy. put is called by the stream's forwarding
// goroutine, get from the subscribers' feedback goroutines.
type packetCache struct {
	mu    sync.Mutex
	slots *[cacheSize]cacheSlot // allocated at the first put
}

type cacheSlot struct {
	seq uint16
	n   int // 0: empty
	buf [maxPacket]byte
}

// maxPacket is the largest RTP packet kept or forwarded.
const maxPacket = 1500

// put keeps raw, the packet with sequence number seq, in place of the one
// cacheSize numbers before it.
func (c *packetCache) put(seq uint16, raw []byte) {
	if len(raw) > maxPacket {
		return
	}
	c.mu.Lock()
	if c.slots == nil {
		c.slots = new([cacheSize]cacheSlot)
	}
	s := &c.slots[seq%cacheSize]
	s.seq, s.n = seq, copy(s.buf[:], raw)
	c.mu.Unlock()
}

// get copies the packet with sequence number seq into dst and returns
// its length, or 0 if it is no longer (or never was) kept.
func (c *packetCache) get(seq uint16, dst []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots == nil {
		return 0
	}
	s := &c.slots[seq%cacheSize]
	if s.n == 0 || s.seq != seq {
		return 0
	}
	return copy(dst, s.buf[:s.n])
}
