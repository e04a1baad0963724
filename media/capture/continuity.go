package capture

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// maxSenders bounds how many senders' stream positions a Capture
// remembers.
const maxSenders = 64

// streamPos is where a sender's RTP stream stopped: the sequence number
// and timestamp the next packet continues from.
type streamPos struct {
	nextSeq uint16
	lastTS  uint32
	at      time.Time // when the packet with lastTS was written
}

// senderPositions remembers, per sender (TrackLocalContext.ID, which pion
// keeps across ReplaceTrack), where the last track bound to it stopped, so
// the next track bound to the same sender continues the sequence numbers
// and timestamps of the same SSRC (RFC 3550, 5.1). Starting afresh would
// make receivers drop the new packets: SRTP replay protection (RFC 3711,
// 3.3.2) discards sequence numbers that look old, and jitter buffers
// reset.
type senderPositions struct {
	mu  sync.Mutex
	pos map[string]streamPos
}

// take returns and forgets the position of sender id.
func (s *senderPositions) take(id string) (streamPos, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pos[id]
	delete(s.pos, id)
	return p, ok
}

// put records the position of sender id, evicting the oldest entry when
// full.
func (s *senderPositions) put(id string, p streamPos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos == nil {
		s.pos = make(map[string]streamPos)
	}
	if _, ok := s.pos[id]; !ok && len(s.pos) >= maxSenders {
		var oldest string
		for k, v := range s.pos {
			if oldest == "" || v.at.Before(s.pos[oldest].at) {
				oldest = k
			}
		}
		delete(s.pos, oldest)
	}
	s.pos[id] = p
}

// streamWriter builds a binding's packetizer, continuing a sender's stream
// where the previous binding left it, and records the position again when
// the binding ends.
type streamWriter struct {
	positions *senderPositions
	id        string
	clock     uint32
	seq       *countingSequencer
	pk        rtp.Packetizer
	start     streamPos
	resumed   bool

	// Writer goroutine only.
	lastTS  uint32
	lastAt  time.Time
	written bool
}

func newStreamWriter(p *senderPositions, id string, ssrc uint32, pt uint8, clock uint32, payloader rtp.Payloader) *streamWriter {
	w := &streamWriter{positions: p, id: id, clock: clock}
	var seq rtp.Sequencer
	opts := []rtp.PacketizerOption{rtp.WithSSRC(ssrc), rtp.WithPayloadType(pt)}
	if pos, ok := p.take(id); ok {
		w.start, w.resumed = pos, true
		seq = rtp.NewFixedSequencer(pos.nextSeq)
		elapsed := time.Since(pos.at).Seconds() * float64(clock)
		opts = append(opts, rtp.WithTimestamp(pos.lastTS+uint32(elapsed)+1))
	} else {
		seq = rtp.NewRandomSequencer()
	}
	w.seq = &countingSequencer{Sequencer: seq}
	w.pk = rtp.NewPacketizerWithOptions(rtpMTU, payloader, w.seq, clock, opts...)
	return w
}

// wrote notes the packets just written. Writer goroutine only.
func (w *streamWriter) wrote(pkts []*rtp.Packet) {
	if n := len(pkts); n > 0 {
		w.lastTS = pkts[n-1].Timestamp
		w.lastAt = time.Now()
		w.written = true
	}
}

// save records where the stream stopped, once the writer has returned.
func (w *streamWriter) save() {
	switch {
	case w.written:
		w.positions.put(w.id, streamPos{nextSeq: uint16(w.seq.last.Load()) + 1, lastTS: w.lastTS, at: w.lastAt})
	case w.resumed:
		w.positions.put(w.id, w.start)
	}
}

// countingSequencer remembers the last sequence number handed out.
type countingSequencer struct {
	rtp.Sequencer
	last atomic.Uint32
}

// NextSequenceNumber implements rtp.Sequencer.
func (c *countingSequencer) NextSequenceNumber() uint16 {
	s := c.Sequencer.NextSequenceNumber()
	c.last.Store(uint32(s))
	return s
}
