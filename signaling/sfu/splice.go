package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtp"
)

// Splicer keeps one outgoing VP8 RTP stream continuous while its source
// changes: after Restart, the next packet goes on from the last one sent,
// in sequence number (SRTP replay protection, RFC 3711 §3.3.2, drops a
// packet whose number looks old), timestamp (by the wall time between,
// at 90 kHz) and VP8 PictureID and TL0PICIDX (RFC 7741 §4.2; a receiver's
// frame buffer drops pictures whose id looks old). The Go client puts one
// on each simulcast encoding, whose camera track may be replaced. Its
// methods may be called from any goroutine.
type Splicer struct {
	mu      sync.Mutex
	started bool
	restart bool
	seqOff  uint16
	tsOff   uint32
	pidOff  uint16
	tl0Off  uint8
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
	lastPID uint16
	lastTL0 uint8
	first   uint16 // the first sequence number sent since the last restart
	buf     [1500]byte
	hdr     rtp.Header // the header Write rewrites and sends
}

// elapsedTicks is the time from last to now at 90 kHz, at least 1 (a new
// frame needs a new timestamp). now may be before last: the layers of a
// track are read on goroutines of their own, and one may take its time
// stamp just before another that writes first; a negative span converted
// to uint32 would set the timestamp back.
func elapsedTicks(now, last time.Time) uint32 {
	d := now.Sub(last)
	if d <= 0 {
		return 1
	}
	return max(uint32(d.Seconds()*90000), 1)
}

// orig maps out, a sequence number s sent since its last restart, back to
// the source's (a NACK is answered from the source's packets); false for
// one from before the restart or not sent yet. ts maps a source timestamp
// to the one s sends it with.
func (s *Splicer) orig(out uint16) (uint16, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || seqDiff(out, s.first) < 0 || seqDiff(out, s.lastSeq) > 0 {
		return 0, false
	}
	return out - s.seqOff, true
}

func (s *Splicer) ts(in uint32) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return in + s.tsOff
}

// Restart makes the next packet the first of a new source.
func (s *Splicer) Restart() {
	s.mu.Lock()
	s.restart = true
	s.mu.Unlock()
}

// Write rewrites a copy of h (the Splicer's own; h is not changed, but
// the copy shares its extensions) and the payload (in a copy of its own
// when it changes) and passes them to send, under the Splicer's lock:
// packets go out in the order they were spliced. send must not keep the
// header past its return.
func (s *Splicer) Write(in *rtp.Header, payload []byte, now time.Time, send func(*rtp.Header, []byte) (int, error)) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hdr = *in
	h := &s.hdr
	vi, ok := parseVP8(payload)
	if !ok {
		vi = vp8Info{picID: -1, tl0: -1}
	}
	if s.restart && s.started {
		s.seqOff = s.lastSeq + 1 - h.SequenceNumber
		s.tsOff = s.lastTS + elapsedTicks(now, s.lastAt) - h.Timestamp
		if vi.picID >= 0 {
			s.pidOff = s.lastPID + 1 - vi.pictureID(payload)
		}
		if vi.tl0 >= 0 {
			s.tl0Off = s.lastTL0 + 1 - payload[vi.tl0]
		}
	}
	restarted := s.restart || !s.started
	s.restart = false
	h.SequenceNumber += s.seqOff
	if restarted {
		s.first = h.SequenceNumber
	}
	h.Timestamp += s.tsOff
	if (vi.picID >= 0 && s.pidOff != 0) || (vi.tl0 >= 0 && s.tl0Off != 0) {
		n := copy(s.buf[:], payload)
		payload = s.buf[:n]
		if vi.picID >= 0 {
			vi.setPictureID(payload, (vi.pictureID(payload)+s.pidOff)&vi.pictureIDMask())
		}
		if vi.tl0 >= 0 {
			payload[vi.tl0] += s.tl0Off
		}
	}
	if !s.started || seqDiff(h.SequenceNumber, s.lastSeq) > 0 {
		s.lastSeq, s.lastTS, s.lastAt = h.SequenceNumber, h.Timestamp, now
		if vi.picID >= 0 {
			s.lastPID = vi.pictureID(payload)
		}
		if vi.tl0 >= 0 {
			s.lastTL0 = payload[vi.tl0]
		}
	}
	s.started = true
	return send(h, payload)
}
