package sfu

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// LocalTrack is a track the SFU sends: the same packets to every
// PeerConnection it is bound to, each with that subscriber's SSRC and
// payload type. It replaces pion's TrackLocalStaticRTP so that sending
// keeps, per subscriber, the counts a sender report needs (RFC 3550
// §6.4.1) without pion's per-packet report and NACK interceptors, and
// so that a retransmission can go to one subscriber alone.
//
// WriteRTP is called by one forwarding goroutine at a time; Bind and
// Unbind by pion; the rest from any goroutine.
type LocalTrack struct {
	id, streamID string
	codec        webrtc.RTPCodecCapability
	kind         webrtc.RTPCodecType

	mu    sync.Mutex                 // serializes changes to binds
	binds atomic.Pointer[[]*binding] // copy on write, read per packet
	hdr   rtp.Header                 // WriteRTP's copy of the header, rewritten per binding
}

// binding is one subscriber's RTP stream of a LocalTrack.
type binding struct {
	ctxID string
	ssrc  uint32
	pt    uint8
	w     webrtc.TrackLocalWriter
	tw    timedWriter // w, when it takes the fan-out's clock reading

	// What the sender report says, written per packet by the forwarding
	// goroutine (retransmissions are not counted, RFC 3550 §6.4.1).
	packets atomic.Uint32
	octets  atomic.Uint32
	lastTS  atomic.Uint32
	lastAt  atomic.Int64 // Unix ns when lastTS was sent; 0 before any packet
}

// NewLocalTrack returns a LocalTrack of codec, with track id id in stream
// streamID (the msid subscribers see).
func NewLocalTrack(codec webrtc.RTPCodecCapability, id, streamID string) *LocalTrack {
	kind := webrtc.RTPCodecTypeVideo
	if strings.HasPrefix(strings.ToLower(codec.MimeType), "audio/") {
		kind = webrtc.RTPCodecTypeAudio
	}
	l := &LocalTrack{id: id, streamID: streamID, codec: codec, kind: kind}
	l.binds.Store(&[]*binding{})
	return l
}

// ErrNoCodec is returned by Bind when the PeerConnection did not
// negotiate the track's codec.
var ErrNoCodec = errors.New("sfu: codec not negotiated")

// Bind is called by pion when a PeerConnection starts sending l.
func (l *LocalTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, l.codec.MimeType) {
			continue
		}
		b := &binding{ctxID: ctx.ID(), ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), w: ctx.WriteStream()}
		b.tw, _ = b.w.(timedWriter)
		l.mu.Lock()
		defer l.mu.Unlock()
		old := *l.binds.Load()
		next := make([]*binding, 0, len(old)+1)
		next = append(append(next, old...), b)
		l.binds.Store(&next)
		return c, nil
	}
	return webrtc.RTPCodecParameters{}, ErrNoCodec
}

// Unbind is called by pion when a PeerConnection stops sending l.
func (l *LocalTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := *l.binds.Load()
	next := make([]*binding, 0, len(old))
	for _, b := range old {
		if b.ctxID != ctx.ID() {
			next = append(next, b)
		}
	}
	l.binds.Store(&next)
	return nil
}

// ID is the track id subscribers see.
func (l *LocalTrack) ID() string { return l.id }

// RID is empty: what the SFU sends is never simulcast.
func (l *LocalTrack) RID() string { return "" }

// StreamID is the stream id subscribers see.
func (l *LocalTrack) StreamID() string { return l.streamID }

// Kind is audio or video.
func (l *LocalTrack) Kind() webrtc.RTPCodecType { return l.kind }

// WriteRTP sends p to every subscriber. p is not changed. A failed write
// to one subscriber does not stop the others; the first error is
// returned.
func (l *LocalTrack) WriteRTP(p *rtp.Packet) error {
	binds := *l.binds.Load()
	if len(binds) == 0 {
		return nil
	}
	now := time.Now()
	l.hdr = p.Header
	var first error
	for _, b := range binds {
		if err := b.write(&l.hdr, p.Payload, true, now); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// write sends one packet with b's SSRC and payload type, which it sets
// in h; counted says it is new (not a retransmission), sent at now (a
// retransmission's now is zero).
func (b *binding) write(h *rtp.Header, payload []byte, counted bool, now time.Time) error {
	h.SSRC, h.PayloadType = b.ssrc, b.pt
	var err error
	if b.tw != nil {
		_, err = b.tw.writeRTPAt(h, payload, now)
	} else {
		_, err = b.w.WriteRTP(h, payload)
	}
	if err != nil {
		return err
	}
	if counted {
		b.packets.Add(1)
		b.octets.Add(uint32(len(payload)))
		b.lastTS.Store(h.Timestamp)
		b.lastAt.Store(now.UnixNano())
	}
	return nil
}

// timedWriter is a binding's writer that takes the time a fan-out read
// once for all its subscribers (a Gate's, whose Splicer needs it) rather
// than reading the clock again per subscriber; a zero now means it reads
// the clock itself.
type timedWriter interface {
	writeRTPAt(h *rtp.Header, payload []byte, now time.Time) (int, error)
}

// remapper is implemented by a binding's writer that renumbers what it
// sends (a Gate, whose splice renumbers after a resume): NACKs and sender
// reports are mapped through it.
type remapper interface {
	origSeq(out uint16) (in uint16, ok bool)
	outTS(in uint32) uint32
}

// bindingFor returns l's binding with SSRC ssrc, or nil.
func (l *LocalTrack) bindingFor(ssrc uint32) *binding {
	for _, b := range *l.binds.Load() {
		if b.ssrc == ssrc {
			return b
		}
	}
	return nil
}

// senderReport builds the sender report of b at now (RFC 3550 §6.4.1):
// the RTP timestamp is the last one sent advanced by the time since, in
// the codec's clock. ok is false before b has sent anything.
func (b *binding) senderReport(clockRate uint32, now time.Time) (sr rtcp.SenderReport, ok bool) {
	at := b.lastAt.Load()
	if at == 0 {
		return sr, false
	}
	elapsed := now.Sub(time.Unix(0, at))
	last := b.lastTS.Load()
	if m, ok := b.w.(remapper); ok {
		last = m.outTS(last)
	}
	ts := last + uint32(elapsed.Seconds()*float64(clockRate))
	return rtcp.SenderReport{
		SSRC:        b.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     ts,
		PacketCount: b.packets.Load(),
		OctetCount:  b.octets.Load(),
	}, true
}

// ntpTime is t as a 64-bit NTP timestamp (RFC 3550 §4): seconds since
// 1900 in the high word, the fraction in the low one.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, in seconds
	ns := uint64(t.UnixNano())
	sec := ns/1e9 + ntpEpochOffset
	frac := (ns % 1e9) << 32 / 1e9
	return sec<<32 | frac
}
