// Package mediatest provides test doubles for media's tests: a
// webrtc.TrackLocalContext that records what a track writes, so a track can
// be bound and its RTP read without a PeerConnection.
package mediatest

import (
	"io"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// Context is a webrtc.TrackLocalContext whose WriteStream delivers copies
// of the written packets on Packets and whose RTCPReader returns what
// SendRTCP queues.
type Context struct {
	id     string
	codecs []webrtc.RTPCodecParameters
	exts   []webrtc.RTPHeaderExtensionParameter
	ssrc   webrtc.SSRC

	// Packets receives every packet written; when it is full, writes are
	// dropped and counted in Dropped.
	Packets chan *rtp.Packet

	mu      sync.Mutex
	dropped int

	rtcpIn    chan []byte
	closeOnce sync.Once
	closed    chan struct{}
}

// NewContext returns a context offering codec with the given header
// extensions, SSRC 1234 and room for buffer packets.
func NewContext(id string, codec webrtc.RTPCodecParameters, exts []webrtc.RTPHeaderExtensionParameter, buffer int) *Context {
	return &Context{
		id: id, codecs: []webrtc.RTPCodecParameters{codec}, exts: exts, ssrc: 1234,
		Packets: make(chan *rtp.Packet, buffer),
		rtcpIn:  make(chan []byte, 16),
		closed:  make(chan struct{}),
	}
}

// CodecParameters implements webrtc.TrackLocalContext.
func (c *Context) CodecParameters() []webrtc.RTPCodecParameters { return c.codecs }

// HeaderExtensions implements webrtc.TrackLocalContext.
func (c *Context) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return c.exts }

// SSRC implements webrtc.TrackLocalContext.
func (c *Context) SSRC() webrtc.SSRC { return c.ssrc }

// SSRCRetransmission implements webrtc.TrackLocalContext.
func (c *Context) SSRCRetransmission() webrtc.SSRC { return 0 }

// SSRCForwardErrorCorrection implements webrtc.TrackLocalContext.
func (c *Context) SSRCForwardErrorCorrection() webrtc.SSRC { return 0 }

// ID implements webrtc.TrackLocalContext.
func (c *Context) ID() string { return c.id }

// WriteStream implements webrtc.TrackLocalContext.
func (c *Context) WriteStream() webrtc.TrackLocalWriter { return writer{c} }

// RTCPReader implements webrtc.TrackLocalContext.
func (c *Context) RTCPReader() interceptor.RTCPReader { return rtcpReader{c} }

// SendRTCP queues RTCP packets for the track to read.
func (c *Context) SendRTCP(pkts ...rtcp.Packet) error {
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		return err
	}
	c.rtcpIn <- b
	return nil
}

// Close makes writes and RTCP reads fail with io.ErrClosedPipe, as a
// stopped RTPSender does.
func (c *Context) Close() { c.closeOnce.Do(func() { close(c.closed) }) }

type writer struct{ c *Context }

func (w writer) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	p := &rtp.Packet{Header: h.Clone(), Payload: append([]byte(nil), payload...)}
	select {
	case <-w.c.closed:
		return 0, io.ErrClosedPipe
	default:
	}
	select {
	case w.c.Packets <- p:
	default:
		w.c.mu.Lock()
		w.c.dropped++
		w.c.mu.Unlock()
	}
	return len(payload), nil
}

// Dropped returns how many packets did not fit into Packets.
func (c *Context) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

func (w writer) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.WriteRTP(&p.Header, p.Payload)
}

type rtcpReader struct{ c *Context }

func (r rtcpReader) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	select {
	case <-r.c.closed:
		return 0, a, io.ErrClosedPipe
	case in := <-r.c.rtcpIn:
		return copy(b, in), a, nil
	}
}

// IsVP8KeyFrameStart reports whether p carries the start of a VP8
// keyframe: the first packet of partition 0 (RFC 7741, 4.2) whose frame
// tag says key frame (RFC 6386, 9.1).
func IsVP8KeyFrameStart(p *rtp.Packet) bool {
	var vp8 codecs.VP8Packet
	body, err := vp8.Unmarshal(p.Payload)
	return err == nil && vp8.S == 1 && vp8.PID == 0 && len(body) > 0 && body[0]&1 == 0
}
