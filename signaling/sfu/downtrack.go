package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// NewDownTrack makes a subscriber's own outgoing track for simulcast
// track t: it carries one layer at a time, chosen with SetTarget (the
// Allocator does), with sequence numbers, timestamps and VP8 picture ids
// that run on across switches. onLayer, if not nil, is called after each
// switch with the layer now sent (-1: none) and its size when known; it
// runs on a forwarding goroutine and must not block. Close removes it.
func (t *Track) NewDownTrack(onLayer func(layer, width, height int)) (*DownTrack, error) {
	local := NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, t.ID, t.Publisher)
	d := &DownTrack{Local: local, track: t, onLayer: onLayer, current: -1, target: -1, out: local}
	s := &t.sim
	s.dmu.Lock()
	defer s.dmu.Unlock()
	old := *s.downs.Load()
	next := make([]*DownTrack, 0, len(old)+1)
	next = append(append(next, old...), d)
	s.downs.Store(&next)
	return d, nil
}

// DownTrack is one subscriber's view of a simulcast track (see
// Track.NewDownTrack). Its forwarding state is guarded by mu and changed
// by the layers' forwarding goroutines and SetTarget; its allocation
// state belongs to the subscriber's Allocator.
type DownTrack struct {
	Local   *LocalTrack
	track   *Track
	onLayer func(layer, width, height int)
	out     packetWriter

	mu        sync.Mutex
	current   int // layer being sent, -1 none
	target    int // layer wanted, -1 none (paused)
	askedAt   time.Time
	started   bool
	seqOff    uint16
	tsOff     uint32
	pidOff    uint16
	tl0Off    uint8
	lastSeq   uint16 // the newest packet sent, after rewriting
	lastTS    uint32
	lastAt    time.Time
	lastPID   uint16
	lastTL0   uint8
	switchSeq uint16 // first packet of the current layer since the switch
	guard     bool   // drop the current layer's packets from before switchSeq
	lastIn    uint16 // the newest sequence number of the current layer, as it arrives
	lastInTS  uint32 // and its timestamp
	resync    bool   // the current layer's numbering jumped: wait for its keyframe
	buf       [maxPacket]byte
	pkt       rtp.Packet // the packet being sent, rewritten
	closed    bool

	alloc allocState // guarded by the Allocator's mu
	// need is what the allocator decided last, as bits by layer index,
	// for the track's NeededLayers (standby.go).
	need atomic.Uint32
}

// Track returns the simulcast track d carries.
func (d *DownTrack) Track() *Track { return d.track }

// Layer returns the layer being sent (-1: none) and the one wanted.
func (d *DownTrack) Layer() (current, target int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current, d.target
}

// SetTarget chooses the layer d should carry: -1 stops sending at once; a
// layer other than the one being sent is switched to at its next
// keyframe, which is asked for now with a PLI on that layer.
func (d *DownTrack) SetTarget(layer int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || layer == d.target {
		return
	}
	d.target = layer
	if layer < 0 {
		if d.current >= 0 {
			d.current = -1
			d.track.stats.LayerSwitches.Add(1)
			d.notifyLocked(-1)
		}
		return
	}
	if layer != d.current {
		d.askLocked(time.Now())
	}
}

// RequestKeyframe asks the publisher for a keyframe of the layer d sends
// (or is switching to), for a subscriber whose decoder lost sync.
func (d *DownTrack) RequestKeyframe() {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.current
	if d.target >= 0 && d.target != d.current {
		l = d.target
	}
	if ly := d.track.sim.layer(l); ly != nil {
		d.track.pliLayer(ly)
	}
}

// retry asks again for the keyframe of a switch that has waited long.
func (d *DownTrack) retry(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.target >= 0 && d.target != d.current && now.Sub(d.askedAt) > time.Second {
		d.askLocked(now)
	}
}

func (d *DownTrack) askLocked(now time.Time) {
	d.askedAt = now
	if l := d.track.sim.layer(d.target); l != nil {
		d.track.pliLayer(l)
	}
}

// RelayFeedback reads the RTCP the subscriber sends for d through sender:
// its PLI and FIR become keyframe requests for the layer it gets, its
// NACKs are answered from that layer's cache; meanwhile it sends the
// subscriber sender reports. It returns when the sender is stopped.
func (d *DownTrack) RelayFeedback(sender *webrtc.RTPSender) {
	relayFeedback(sender, d.Local, 90000, d.RequestKeyframe, d.resend)
}

// resend answers the subscriber's NACK for seq, a sequence number of d's
// outgoing stream: when it maps to a packet of the layer being sent since
// the last switch that the layer's cache still has, that packet goes
// again, rewritten as it was the first time.
func (d *DownTrack) resend(b *binding, seq uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.track.sim.layer(d.current)
	if l == nil || d.closed {
		return
	}
	in := seq - d.seqOff
	if seqDiff(in, d.switchSeq) < 0 || seqDiff(in, d.lastIn) > 0 {
		return // from before the switch, or not sent yet
	}
	var buf [maxPacket]byte
	n := l.cache.get(in, buf[:])
	if n == 0 {
		return
	}
	var pkt rtp.Packet
	if pkt.Unmarshal(buf[:n]) != nil {
		return
	}
	vi, ok := parseVP8(pkt.Payload)
	if !ok {
		vi = vp8Info{picID: -1, tl0: -1}
	}
	out, _, _ := d.rewriteLocked(&pkt, &vi)
	if b.write(&out.Header, out.Payload, false, time.Time{}) == nil {
		d.track.stats.Retransmits.Add(1)
	}
}

// Close stops d and takes it off its track.
func (d *DownTrack) Close() {
	d.mu.Lock()
	d.closed = true
	d.target, d.current = -1, -1
	d.mu.Unlock()
	s := &d.track.sim
	s.dmu.Lock()
	defer s.dmu.Unlock()
	old := *s.downs.Load()
	next := make([]*DownTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	s.downs.Store(&next)
}

func (d *DownTrack) notifyLocked(layer int) {
	if d.onLayer == nil {
		return
	}
	w, h := 0, 0
	if l := d.track.sim.layer(layer); l != nil {
		w, h = int(l.width.Load()), int(l.height.Load())
	}
	d.onLayer(layer, w, h)
}

// seqDiff is a-b in RTP sequence number space (RFC 3550 §A.1).
func seqDiff(a, b uint16) int { return int(int16(a - b)) }

// The largest steps in a layer's sequence numbers and timestamps (90 kHz)
// taken as reordering, loss or a pause; a larger one means the layer
// started over.
const (
	maxSeqJump = 1000
	maxTSBack  = 2 * 90000
	maxTSJump  = 60 * 90000
)

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// write sends pkt, of layer, if it is the layer d carries; it switches to
// the target layer at the first packet of one of its keyframes. The
// outgoing stream stays one stream: sequence numbers go on from the last
// one sent, the timestamp advances by the wall time since the last
// packet, and the VP8 PictureID and TL0PICIDX (RFC 7741 §4.2) go on from
// the last ones, so a receiver's jitter buffer and decoder see a keyframe
// of a stream they already know.
func (d *DownTrack) write(layer int, pkt *rtp.Packet, vi *vp8Info, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case layer != d.current:
		if layer != d.target || !vi.keyframe {
			return
		}
		d.switchLocked(layer, pkt, vi, now)
	case d.resync || d.jumpedLocked(pkt):
		// The layer starts over (a pion publisher's new camera track has
		// new numbering): go on from its next keyframe as after a switch.
		if !vi.keyframe {
			if !d.resync {
				d.resync = true
				if l := d.track.sim.layer(layer); l != nil {
					d.track.pliLayer(l)
				}
			}
			return
		}
		d.resync = false
		d.rebaseLocked(pkt, vi, now)
	}
	if d.guard {
		diff := seqDiff(pkt.SequenceNumber, d.switchSeq)
		if diff < 0 {
			return // sent before the keyframe we switched at: not part of this stream
		}
		if diff > maxSeqJump {
			d.guard = false
		}
	}
	if seqDiff(pkt.SequenceNumber, d.lastIn) > 0 {
		d.lastIn, d.lastInTS = pkt.SequenceNumber, pkt.Timestamp
	}
	out, pid, tl0 := d.rewriteLocked(pkt, vi)
	if !d.started || seqDiff(out.SequenceNumber, d.lastSeq) > 0 {
		d.lastSeq, d.lastTS, d.lastAt = out.SequenceNumber, out.Timestamp, now
		if vi.picID >= 0 {
			d.lastPID = pid
		}
		if vi.tl0 >= 0 {
			d.lastTL0 = tl0
		}
	}
	d.started = true
	if err := d.out.WriteRTP(out); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		d.track.stats.WriteErrors.Add(1)
	}
}

// rewriteLocked makes d.pkt the packet d sends for pkt of the current
// layer: the sequence number, timestamp, VP8 PictureID and TL0PICIDX
// moved by d's offsets (the payload copied to d.buf when it changes).
// It returns d.pkt and the PictureID and TL0PICIDX written.
func (d *DownTrack) rewriteLocked(pkt *rtp.Packet, vi *vp8Info) (out *rtp.Packet, pid uint16, tl0 uint8) {
	out = &d.pkt
	out.Header = rtp.Header{
		Version:        2,
		Padding:        pkt.Header.Padding,
		PaddingSize:    pkt.Header.PaddingSize,
		Marker:         pkt.Marker,
		PayloadType:    pkt.PayloadType,
		SequenceNumber: pkt.SequenceNumber + d.seqOff,
		Timestamp:      pkt.Timestamp + d.tsOff,
		Extensions:     out.Header.Extensions[:0],
	}
	out.Payload = pkt.Payload
	if vi.picID >= 0 || vi.tl0 >= 0 {
		n := copy(d.buf[:], pkt.Payload)
		p := d.buf[:n]
		if vi.picID >= 0 {
			pid = (vi.pictureID(p) + d.pidOff) & vi.pictureIDMask()
			vi.setPictureID(p, pid)
		}
		if vi.tl0 >= 0 {
			tl0 = p[vi.tl0] + d.tl0Off
			p[vi.tl0] = tl0
		}
		out.Payload = p
	}
	return out, pid, tl0
}

// switchLocked makes layer, whose keyframe starts with pkt, the layer sent.
func (d *DownTrack) switchLocked(layer int, pkt *rtp.Packet, vi *vp8Info, now time.Time) {
	d.rebaseLocked(pkt, vi, now)
	d.current = layer
	d.track.stats.LayerSwitches.Add(1)
	d.notifyLocked(layer)
}

// rebaseLocked sets the offsets so that pkt, the first packet of a
// keyframe, goes on from the last packet sent.
func (d *DownTrack) rebaseLocked(pkt *rtp.Packet, vi *vp8Info, now time.Time) {
	if d.started {
		d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
		d.tsOff = d.lastTS + elapsedTicks(now, d.lastAt) - pkt.Timestamp
		if vi.picID >= 0 {
			d.pidOff = d.lastPID + 1 - vi.pictureID(pkt.Payload)
		}
		if vi.tl0 >= 0 {
			d.tl0Off = d.lastTL0 + 1 - pkt.Payload[vi.tl0]
		}
	}
	d.switchSeq, d.guard, d.lastIn, d.lastInTS = pkt.SequenceNumber, true, pkt.SequenceNumber, pkt.Timestamp
}

// jumpedLocked reports whether pkt, of the current layer, does not follow
// the packets before it: its sequence number or timestamp jumped.
func (d *DownTrack) jumpedLocked(pkt *rtp.Packet) bool {
	if abs(seqDiff(pkt.SequenceNumber, d.lastIn)) > maxSeqJump {
		return true
	}
	dt := int32(pkt.Timestamp - d.lastInTS)
	return dt < -maxTSBack || dt > maxTSJump
}
