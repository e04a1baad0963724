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
// one publisher for one track. Requests inside the gap are coalesced into
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
}

// packetWriter is where Forward writes each packet.
type packetWriter interface {
	WriteRTP(p *rtp.Packet) error
}

// Track is one published track and its fan-out: every subscriber's
// PeerConnection adds Local, and Forward copies each RTP packet from the
// publisher to all of them at once (TrackLocalStaticRTP rewrites SSRC and
// payload type per subscriber).
type Track struct {
	ID        string
	Publisher string
	Source    string
	Kind      webrtc.RTPCodecType
	Local     *webrtc.TrackLocalStaticRTP

	out        packetWriter // Local, the fan-out to every subscriber
	remote     *webrtc.TrackRemote
	publisher  *webrtc.PeerConnection
	levelExtID uint8
	stats      *Stats
	done       chan struct{}

	pliMu    sync.Mutex
	lastPLI  time.Time
	pliTimer *time.Timer // a coalesced request waiting for the gap to pass
}

// NewTrack prepares the fan-out of remote, received by receiver on the
// publisher's PeerConnection pc. id and streamID become the msid that
// subscribers see.
func NewTrack(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver,
	id, streamID, source string, stats *Stats) (*Track, error) {
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, id, streamID)
	if err != nil {
		return nil, err
	}
	t := &Track{
		ID: id, Publisher: streamID, Source: source, Kind: remote.Kind(), Local: local,
		out: local, remote: remote, publisher: pc, stats: stats, done: make(chan struct{}),
	}
	if stats == nil {
		t.stats = &Stats{}
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		if ext.URI == sdp.AudioLevelURI {
			t.levelExtID = uint8(ext.ID)
		}
	}
	return t, nil
}

// Forward copies packets from the publisher to the subscribers until the
// publisher's track ends. onLevel, if not nil, receives the RFC 6464 audio
// level (0 = loudest, 127 = silence) of each audio packet that carries one.
// Forward is called once, on its own goroutine.
func (t *Track) Forward(onLevel func(level uint8, voice bool)) error {
	defer close(t.done)
	t.stats.TracksLive.Add(1)
	defer t.stats.TracksLive.Add(-1)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue // a malformed packet is dropped, not forwarded
		}
		t.stats.PacketsIn.Add(1)
		t.stats.BytesIn.Add(uint64(n))
		if onLevel != nil && t.levelExtID != 0 {
			// RFC 6464 §3: one byte, V flag in the top bit, level in -dBov below.
			if ext := pkt.Header.GetExtension(t.levelExtID); len(ext) >= 1 {
				onLevel(ext[0]&0x7f, ext[0]&0x80 != 0)
			}
		}
		// A failed write to one subscriber (the fan-out writes to all of
		// them and joins the errors) must not stop the others' media.
		if err := t.out.WriteRTP(&pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			t.stats.WriteErrors.Add(1)
		}
	}
}

// Done is closed when Forward has returned.
func (t *Track) Done() <-chan struct{} { return t.done }

// RequestKeyframe asks the publisher for a keyframe with a PLI (RFC 4585
// §6.3.1). At most one PLI per keyframeGap is sent; a request inside the
// gap is sent when the gap ends, together with any others that arrive
// meanwhile. Audio tracks ignore it.
func (t *Track) RequestKeyframe() {
	if t.Kind != webrtc.RTPCodecTypeVideo {
		return
	}
	t.pliMu.Lock()
	defer t.pliMu.Unlock()
	if t.pliTimer != nil {
		return // already coming
	}
	wait := time.Until(t.lastPLI.Add(keyframeGap))
	if wait <= 0 {
		t.sendPLILocked()
		return
	}
	t.pliTimer = time.AfterFunc(wait, func() {
		t.pliMu.Lock()
		defer t.pliMu.Unlock()
		t.pliTimer = nil
		select {
		case <-t.done:
		default:
			t.sendPLILocked()
		}
	})
}

func (t *Track) sendPLILocked() {
	t.lastPLI = time.Now()
	t.stats.Keyframes.Add(1)
	_ = t.publisher.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// RelayFeedback reads the RTCP a subscriber sends for this track through
// sender and turns its PLI and FIR into keyframe requests to the publisher.
// It returns when the sender is stopped.
func (t *Track) RelayFeedback(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.RequestKeyframe()
			}
		}
	}
}
