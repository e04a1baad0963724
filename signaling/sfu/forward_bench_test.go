package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// nullWriter stands for a subscriber's RTP stream: pion's SRTP writer.
type nullWriter struct{ n int }

func (w *nullWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.n += len(payload)
	return len(payload), nil
}
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }

// fakeContext binds a LocalTrack the way a PeerConnection does.
type fakeContext struct {
	id   string
	ssrc webrtc.SSRC
	w    webrtc.TrackLocalWriter
}

func (c fakeContext) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}}
}
func (fakeContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c fakeContext) SSRC() webrtc.SSRC                                    { return c.ssrc }
func (fakeContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (fakeContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c fakeContext) WriteStream() webrtc.TrackLocalWriter                 { return c.w }
func (c fakeContext) ID() string                                           { return c.id }
func (fakeContext) RTCPReader() interceptor.RTCPReader                     { return nil }

func bindN(b *testing.B, l *LocalTrack, n int) {
	for i := range n {
		if _, err := l.Bind(fakeContext{id: string(rune('a' + i)), ssrc: webrtc.SSRC(100 + i), w: &nullWriter{}}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPacket is a marshalled VP8 packet of about 1100 bytes with a mid
// (id 3) and a transport-cc (id 5) header extension.
func benchPacket(seq uint16, key bool) []byte {
	payload := append(vp8Packet(true, key, seq&0x7fff, uint8(seq), 640, 480), make([]byte, 1080)...)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 7, SequenceNumber: seq, Timestamp: uint32(seq) * 3000}, Payload: payload}
	_ = p.Header.SetExtension(3, []byte("0"))
	_ = p.Header.SetExtension(5, []byte{1, 2})
	raw, _ := p.Marshal()
	return raw
}

// BenchmarkForwardTrack is the forwarding path of a track that is not
// simulcast, from a received packet to eight subscribers' RTP writers:
// parse, cache, strip the publisher's mid, fan out. It must not allocate.
func BenchmarkForwardTrack(b *testing.B) {
	tr := benchVideoTrack()
	bindN(b, tr.Local, 8)
	forwardBench(b, tr, 8)
}

// benchVideoTrack is a VP8 camera track that is not simulcast, with no
// subscriber yet.
func benchVideoTrack() *Track {
	tr := &Track{ID: "camera:p", Publisher: "p", Kind: webrtc.RTPCodecTypeVideo, stats: &Stats{}, done: make(chan struct{}), clockRate: 90000,
		stripExt: []uint8{3}}
	tr.Local = NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, tr.ID, tr.Publisher)
	tr.out = tr.Local
	return tr
}

// forwardBench times tr handling received packets, fanned out to subs
// subscribers, and reports the time per forwarded packet.
func forwardBench(b *testing.B, tr *Track, subs int) {
	raws := make([][]byte, 64)
	for i := range raws {
		raws[i] = benchPacket(uint16(i), false)
	}
	var pkt rtp.Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.handle(raws[i%len(raws)], &pkt, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(subs*b.N), "ns/forwarded-pkt")
}

// BenchmarkForwardGate is BenchmarkForwardTrack with each subscriber
// behind its Gate (how the server binds a video track that is not
// simulcast), whose Splicer rewrites a header of its own per subscriber.
// It must not allocate.
func BenchmarkForwardGate(b *testing.B) {
	tr := benchVideoTrack()
	for i := range 8 {
		g := NewGate(tr)
		if _, err := g.Bind(fakeContext{id: string(rune('a' + i)), ssrc: webrtc.SSRC(100 + i), w: &nullWriter{}}); err != nil {
			b.Fatal(err)
		}
	}
	forwardBench(b, tr, 8)
}

type nullRTPWriter struct{}

func (nullRTPWriter) Write(_ *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	return len(payload), nil
}

// BenchmarkSendInterceptors is what the interceptors that the server
// keeps on what it sends (AddCongestionControl: the transport-cc sequence
// number and the lent attributes, sendInterceptor; pion's estimator's
// record of each packet sent; directPacer) cost per packet to one
// subscriber, as pion calls them (no attributes). pion's estimator
// allocates (its send history: 2 allocs/op); the rest must not.
func BenchmarkSendInterceptors(b *testing.B) {
	w := sendChain(b, nullRTPWriter{})
	var pkt rtp.Packet
	if err := pkt.Unmarshal(benchPacket(1, false)); err != nil {
		b.Fatal(err)
	}
	pkt.SSRC = sendChainSSRC
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pkt.SequenceNumber++
		if _, err := w.Write(&pkt.Header, pkt.Payload, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardSimulcast is the forwarding path of one simulcast layer
// to eight subscribers' DownTracks, each rewriting sequence numbers,
// timestamps and VP8 picture ids. It must not allocate.
func BenchmarkForwardSimulcast(b *testing.B) {
	tr := &Track{ID: "camera:p", Publisher: "p", Kind: webrtc.RTPCodecTypeVideo, Simulcast: true, stats: &Stats{}, done: make(chan struct{})}
	empty := []*DownTrack{}
	tr.sim.downs.Store(&empty)
	l := &Layer{index: 0, ssrc: 7}
	tr.sim.layers[0] = l
	for range 8 {
		d, err := tr.NewDownTrack(nil)
		if err != nil {
			b.Fatal(err)
		}
		bindN(b, d.Local, 1)
		d.SetTarget(0)
	}
	var pkt rtp.Packet
	now := time.Now()
	key := benchPacket(0, true)
	_ = pkt.Unmarshal(key)
	vi, _ := parseVP8(pkt.Payload)
	for _, d := range *tr.sim.downs.Load() {
		d.write(0, &pkt, &vi, now)
	}
	raws := make([][]byte, 64)
	for i := range raws {
		raws[i] = benchPacket(uint16(i+1), false)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw := raws[i%len(raws)]
		_ = pkt.Unmarshal(raw)
		l.cache.put(pkt.SequenceNumber, raw)
		vi, _ := parseVP8(pkt.Payload)
		for _, d := range *tr.sim.downs.Load() {
			d.write(0, &pkt, &vi, now)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(8*b.N), "ns/forwarded-pkt")
}
