package decode

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// Sizes of a frameAssembler's ring of packets that wait for an earlier
// one. Packets that arrive in order are copied into the frame at once and
// never wait, so the ring holds only what a reordering or a loss keeps
// back: MaxReorderPackets bounds how long a missing packet is waited for.
const (
	assemblerSlots = 128
	// MaxReorderPackets is the most packets WithReorder can wait for a
	// missing one.
	MaxReorderPackets = assemblerSlots - 1
	// maxPayload is the largest RTP payload kept: above any path MTU.
	maxPayload = 1500
	// resyncBehind: a packet this far behind the next one expected is not
	// a late packet but a sender that started its sequence over.
	resyncBehind = 1000
)

// frameAssembler puts VP8 frames back together from RTP packets (RFC
// 7741 §4.4): a frame is the packets of one timestamp, from the one that
// starts partition 0 (S=1, PID=0) to the one with the marker bit, with no
// sequence number missing. It copies each payload (without its VP8
// descriptor) and hands out frames in one buffer reused from frame to
// frame: once its buffers have grown to the stream's frames it allocates
// nothing.
//
// A missing packet is waited for until maxLate newer packets or maxDelay
// (RTP ticks) of newer media have arrived; then it is given up, with the
// frame it belonged to, and the next frame handed out says so (gap), so
// the decoder can wait for a keyframe.
type frameAssembler struct {
	maxLate  uint16
	maxDelay uint32

	slots   [assemblerSlots]asmSlot
	store   []byte // the slots' payloads, maxPayload bytes each
	started bool
	head    uint16 // sequence number of the next packet to take
	pending int    // packets in slots
	newest  uint16 // newest sequence number stored
	newTS   uint32 // its timestamp
	lastTS  uint32 // timestamp of the last packet taken (or the first seen)

	building bool   // a frame's first packets are in buf
	curTS    uint32 // that frame's timestamp
	buf      []byte
	tooLarge bool // the frame outgrew MaxFrameSize: its data was not kept
	lost     bool // packets were lost or dropped since the last frame out

	vp8 codecs.VP8Packet
}

type asmSlot struct {
	used   bool
	bad    bool // a VP8 descriptor that does not parse, or a payload too big
	start  bool // S=1 and PID=0: the first packet of a frame
	marker bool
	seq    uint16
	ts     uint32
	n      int // payload bytes in store; 0 for padding
}

// asmFrame is one frame out of the assembler; data is valid until the
// next pop.
type asmFrame struct {
	data     []byte
	gap      bool // packets were lost or dropped before this frame
	tooLarge bool // the frame was larger than MaxFrameSize (data is empty)
}

func newFrameAssembler(maxLate uint16, maxDelayTicks uint32) *frameAssembler {
	if maxLate > MaxReorderPackets {
		maxLate = MaxReorderPackets
	}
	if maxLate == 0 {
		maxLate = 1
	}
	return &frameAssembler{maxLate: maxLate, maxDelay: maxDelayTicks}
}

// push keeps a copy of pkt's payload: the caller may reuse pkt.
func (a *frameAssembler) push(pkt *rtp.Packet) {
	seq := pkt.SequenceNumber
	if !a.started {
		a.started, a.head, a.newest, a.newTS, a.lastTS = true, seq, seq, pkt.Timestamp, pkt.Timestamp
		a.store = make([]byte, assemblerSlots*maxPayload)
	}
	d := int16(seq - a.head)
	switch {
	case d < -resyncBehind || d >= assemblerSlots:
		// The sender started over, or so much was lost that nothing
		// waiting can still make a frame.
		a.reset(seq, pkt.Timestamp)
	case d < 0:
		return // given up on or taken already: too late
	}
	s := &a.slots[seq%assemblerSlots]
	if s.used {
		return // a duplicate
	}
	*s = asmSlot{used: true, seq: seq, ts: pkt.Timestamp, marker: pkt.Marker}
	if len(pkt.Payload) > 0 {
		payload, err := a.vp8.Unmarshal(pkt.Payload)
		switch {
		case err != nil || len(payload) > maxPayload:
			s.bad = true
		default:
			s.start = a.vp8.S == 1 && a.vp8.PID == 0
			s.n = copy(a.store[int(seq%assemblerSlots)*maxPayload:], payload)
		}
	}
	a.pending++
	if int16(seq-a.newest) > 0 {
		a.newest, a.newTS = seq, pkt.Timestamp
	}
}

// reset drops everything waiting and starts again at seq.
func (a *frameAssembler) reset(seq uint16, ts uint32) {
	for i := range a.slots {
		a.slots[i].used = false
	}
	a.pending = 0
	a.head, a.newest, a.newTS, a.lastTS = seq, seq, ts, ts
	a.building = false
	a.lost = true
}

// pop returns the next whole frame, or false when the next one is not
// complete yet.
func (a *frameAssembler) pop() (asmFrame, bool) {
	for a.started {
		s := &a.slots[a.head%assemblerSlots]
		if !s.used {
			if a.pending == 0 || (uint16(a.newest-a.head) < a.maxLate && int64(int32(a.newTS-a.lastTS)) <= int64(a.maxDelay)) {
				return asmFrame{}, false // wait for it
			}
			a.head++ // give up on it, and on its frame
			a.building = false
			a.lost = true
			continue
		}
		if a.building && s.n > 0 && s.ts != a.curTS {
			// The frame before ended without a marker bit (RFC 7741
			// says it must have one); all its packets are here.
			a.building = false
			return a.frameOut(), true
		}
		a.head++
		a.pending--
		s.used = false
		a.lastTS = s.ts
		switch {
		case s.bad:
			a.building = false
			a.lost = true
			continue
		case s.n == 0:
			continue // padding
		}
		if !a.building {
			if !s.start {
				a.lost = true // the rest of a frame whose start is gone
				continue
			}
			a.building, a.curTS = true, s.ts
			a.buf, a.tooLarge = a.buf[:0], false
		}
		if len(a.buf)+s.n > MaxFrameSize {
			a.tooLarge = true
		} else if !a.tooLarge {
			off := int(s.seq%assemblerSlots) * maxPayload
			a.buf = append(a.buf, a.store[off:off+s.n]...)
		}
		if s.marker {
			a.building = false
			return a.frameOut(), true
		}
	}
	return asmFrame{}, false
}

func (a *frameAssembler) frameOut() asmFrame {
	f := asmFrame{data: a.buf, gap: a.lost, tooLarge: a.tooLarge}
	if a.tooLarge {
		f.data = nil
	}
	a.lost = false
	return f
}
