package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// keyframeGap is the shortest time between two keyframe requests sent to
// one publisher for one stream. Requests inside the gap are coalesced into
// one sent at its end, never dropped: a subscriber joining just after
// another must not wait for its decoder to ask again.
const keyframeGap = 150 * time.Millisecond

// Stats counts what the SFU forwarded. It is safe for concurrent use.
type Stats struct {
	PacketsIn  atomic.Uint64
	BytesIn    atomic.Uint64
	Keyframes  atomic.Uint64
	TracksLive atomic.Int64
	// WriteErrors counts packets that could not be written to at least one
	// subscriber; forwarding goes on for the others.
	WriteErrors atomic.Uint64
	// LayerSwitches counts simulcast layer changes made for subscribers
	// (at a keyframe of the new layer, or a pause).
	LayerSwitches atomic.Uint64
	// Retransmits counts packets sent again for subscribers' NACKs.
	Retransmits atomic.Uint64
}

// packetWriter is where Forward writes each packet.
type packetWriter interface {
	WriteRTP(p *rtp.Packet) error
}

// Track is one published track and its fan-out.
//
// A track that is not simulcast has Local: every subscriber's
// PeerConnection adds it, and Forward copies each RTP packet from the
// publisher to all of them at once (LocalTrack rewrites SSRC and payload
// type per subscriber). The latest video packets are kept once, in the
// track's cache, to answer every subscriber's NACKs.
//
// A simulcast track (Simulcast true, Local nil) receives up to MaxLayers
// layers of one video, each a TrackRemote with its own RID; each
// subscriber gets a DownTrack of its own (NewDownTrack) that carries one
// layer at a time (simulcast.go).
type Track struct {
	ID        string
	Publisher string
	Source    string
	Kind      webrtc.RTPCodecType
	Local     *LocalTrack
	Simulcast bool

	out        packetWriter // Local, the fan-out to every subscriber
	remote     *webrtc.TrackRemote
	publisher  *webrtc.PeerConnection
	levelExtID uint8
	stripExt   []uint8 // header extensions that name the publisher's m-line (mid, rid)
	stats      *Stats
	done       chan struct{}
	rate       rateMeter
	pli        pliGate
	tap        tapSlot     // a recorder's view of the packets (tap.go)
	cache      packetCache // the latest packets, for NACKs (video)
	clockRate  uint32

	sim simulcast // the layers and down tracks of a simulcast track

	batch Batcher // brackets each fan-out; nil: none
}

// TrackOption configures a Track.
type TrackOption func(*Track)

// WithBatcher has the track bracket each packet's fan-out with b's Begin
// and End, so that its datagrams leave together (the Engine's sendmmsg).
func WithBatcher(b Batcher) TrackOption { return func(t *Track) { t.batch = b } }

// NewTrack prepares the fan-out of remote, received by receiver on the
// publisher's PeerConnection pc. id and streamID become the msid that
// subscribers see.
func NewTrack(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver,
	id, streamID, source string, stats *Stats, opts ...TrackOption) (*Track, error) {
	codec := remote.Codec().RTPCodecCapability
	if codec.MimeType == "" {
		return nil, ErrNoCodec
	}
	local := NewLocalTrack(codec, id, streamID)
	t := newTrack(pc, remote.Kind(), receiver, id, streamID, source, stats, opts)
	t.Local, t.out, t.remote, t.clockRate = local, local, remote, codec.ClockRate
	return t, nil
}

func newTrack(pc *webrtc.PeerConnection, kind webrtc.RTPCodecType, receiver *webrtc.RTPReceiver,
	id, streamID, source string, stats *Stats, opts []TrackOption) *Track {
	t := &Track{
		ID: id, Publisher: streamID, Source: source, Kind: kind,
		publisher: pc, stats: stats, done: make(chan struct{}),
	}
	for _, o := range opts {
		o(t)
	}
	if stats == nil {
		t.stats = &Stats{}
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		switch ext.URI {
		case sdp.AudioLevelURI:
			t.levelExtID = uint8(ext.ID)
		case sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI:
			// They name the publisher's m-line and layer; on a
			// subscriber's m-line they would misroute the packet (a
			// browser drops a packet whose mid is not that m-line's).
			t.stripExt = append(t.stripExt, uint8(ext.ID))
		}
	}
	return t
}

// Forward copies packets from the publisher to the subscribers until the
// publisher's track ends. onLevel, if not nil, receives the RFC 6464 audio
// level (0 = loudest, 127 = silence) of each audio packet that carries one.
// Forward is called once, on its own goroutine, for a track that is not
// simulcast.
func (t *Track) Forward(onLevel func(level uint8, voice bool)) error {
	defer close(t.done)
	t.stats.TracksLive.Add(1)
	defer t.stats.TracksLive.Add(-1)
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		t.handle(buf[:n], &pkt, onLevel)
	}
}

// handle forwards raw, one RTP packet as the publisher sent it, parsed
// into pkt (reused from packet to packet). It is the one place where
// Forward handles what it receives.
func (t *Track) handle(raw []byte, pkt *rtp.Packet, onLevel func(level uint8, voice bool)) {
	if err := pkt.Unmarshal(raw); err != nil {
		return // a malformed packet is dropped, not forwarded
	}
	t.stats.PacketsIn.Add(1)
	t.stats.BytesIn.Add(uint64(len(raw)))
	t.rate.add(len(raw))
	t.tap.call(0, pkt)
	if onLevel != nil && t.levelExtID != 0 {
		// RFC 6464 §3: one byte, V flag in the top bit, level in -dBov below.
		if ext := pkt.Header.GetExtension(t.levelExtID); len(ext) >= 1 {
			onLevel(ext[0]&0x7f, ext[0]&0x80 != 0)
		}
	}
	if t.Kind == webrtc.RTPCodecTypeVideo {
		t.cache.put(pkt.SequenceNumber, raw)
	}
	t.strip(pkt)
	if t.batch != nil {
		t.batch.Begin()
		defer t.batch.End()
	}
	// A failed write to one subscriber must not stop the others' media.
	if err := t.out.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.stats.WriteErrors.Add(1)
	}
}

// strip removes the header extensions that name the publisher's m-line.
func (t *Track) strip(pkt *rtp.Packet) {
	for _, id := range t.stripExt {
		_ = pkt.Header.DelExtension(id)
	}
}

// resend answers a subscriber's NACK for seq from the track's cache: the
// packet goes again to that subscriber (binding b) alone.
func (t *Track) resend(b *binding, seq uint16) {
	if m, ok := b.w.(remapper); ok {
		if seq, ok = m.origSeq(seq); !ok {
			return
		}
	}
	var buf [maxPacket]byte
	n := t.cache.get(seq, buf[:])
	if n == 0 {
		return
	}
	var pkt rtp.Packet
	if pkt.Unmarshal(buf[:n]) != nil {
		return
	}
	t.strip(&pkt)
	if b.write(&pkt.Header, pkt.Payload, false, time.Time{}) == nil {
		t.stats.Retransmits.Add(1)
	}
}

// SSRC is the publisher's SSRC of a track that is not simulcast (0 for a
// simulcast track, whose layers each have their own).
func (t *Track) SSRC() uint32 {
	if t.remote == nil {
		return 0
	}
	return uint32(t.remote.SSRC())
}

// Done is closed when forwarding has ended: Forward has returned, or, for
// a simulcast track, the last of its layers has.
func (t *Track) Done() <-chan struct{} { return t.done }

// Bitrate is what the publisher sends on this track, in bits per second,
// averaged over the last second or so (all layers of a simulcast track).
func (t *Track) Bitrate(now time.Time) int {
	if t.Simulcast {
		sum := 0
		for _, l := range t.sim.snapshot() {
			sum += l.rate.bitrate(now)
		}
		return sum
	}
	return t.rate.bitrate(now)
}

// RequestKeyframe asks the publisher for a keyframe with a PLI (RFC 4585
// §6.3.1). At most one PLI per keyframeGap is sent; a request inside the
// gap is sent when the gap ends, together with any others that arrive
// meanwhile. Audio tracks ignore it. For a simulcast track it asks on
// every layer (a subscriber's DownTrack asks only for the layer it needs).
func (t *Track) RequestKeyframe() {
	if t.Kind != webrtc.RTPCodecTypeVideo {
		return
	}
	if t.Simulcast {
		for _, l := range t.sim.snapshot() {
			t.pliLayer(l)
		}
		return
	}
	ssrc := t.SSRC()
	t.pli.request(t.done, func() { t.sendPLI(ssrc) })
}

func (t *Track) sendPLI(ssrc uint32) {
	t.stats.Keyframes.Add(1)
	if t.publisher == nil {
		return // a track made by a unit test
	}
	_ = t.publisher.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// RelayFeedback reads the RTCP a subscriber sends for this track through
// sender: its PLI and FIR become keyframe requests to the publisher, its
// NACKs are answered from the track's cache; meanwhile it sends the
// subscriber sender reports. It returns when the sender is stopped.
func (t *Track) RelayFeedback(sender *webrtc.RTPSender) {
	relayFeedback(sender, t.Local, t.clockRate, t.RequestKeyframe, t.resend)
}

// pliGate spaces the keyframe requests for one stream (keyframeGap).
type pliGate struct {
	mu    sync.Mutex
	last  time.Time
	timer *time.Timer // a coalesced request waiting for the gap to pass
}

// request calls send now, or at the end of the gap, unless done is closed
// by then.
func (g *pliGate) request(done <-chan struct{}, send func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer != nil {
		return // already coming
	}
	wait := time.Until(g.last.Add(keyframeGap))
	if wait <= 0 {
		g.last = time.Now()
		send()
		return
	}
	g.timer = time.AfterFunc(wait, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.timer = nil
		select {
		case <-done:
		default:
			g.last = time.Now()
			send()
		}
	})
}

// rateWindow is how often a rateMeter takes a new reading; rateSmooth is
// the weight of a new reading (a time constant of about 2 s: a keyframe
// is a burst, not a new bitrate).
const (
	rateWindow = 500 * time.Millisecond
	rateSmooth = 0.25
)

// rateMeter measures a bitrate from byte counts: add is called per packet
// from one goroutine, bitrate from any; a reading covers at least
// rateWindow and is smoothed with the ones before.
type rateMeter struct {
	bytes atomic.Uint64

	mu       sync.Mutex
	at       time.Time
	seen     uint64
	bps      float64
	measured bool
}

func (m *rateMeter) add(n int) { m.bytes.Add(uint64(n)) }

func (m *rateMeter) bitrate(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	total := m.bytes.Load()
	if m.at.IsZero() {
		m.at, m.seen = now, total
		return 0
	}
	dt := now.Sub(m.at)
	if dt < rateWindow {
		return int(m.bps)
	}
	sample := float64(total-m.seen) * 8 / dt.Seconds()
	if m.measured {
		m.bps = (1-rateSmooth)*m.bps + rateSmooth*sample
	} else {
		m.bps, m.measured = sample, true
	}
	m.at, m.seen = now, total
	return int(m.bps)
}
