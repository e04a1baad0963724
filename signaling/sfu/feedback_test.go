package sfu

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// serverPair connects a PeerConnection built as the Engine builds them
// (no per-packet interceptors on what it sends) that sends local, to a
// client with pion's default interceptors, over loopback. It returns the
// server's sender and the client's PeerConnection; the client's remote
// track arrives on tracks once packets flow.
func serverPair(t *testing.T, local webrtc.TrackLocal) (*webrtc.RTPSender, *webrtc.PeerConnection, chan *webrtc.TrackRemote, chan *webrtc.RTPReceiver) {
	t.Helper()
	se := webrtc.SettingEngine{}
	ConfigureCandidates(&se, true, nil)
	me, ir, err := newServerMediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	if err := AddCongestionControl(ir, InitialEstimate, nil, func(cc.BandwidthEstimator) {}); err != nil {
		t.Fatal(err)
	}
	server, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	cme, cir, err := NewMediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	client, err := webrtc.NewAPI(webrtc.WithMediaEngine(cme), webrtc.WithInterceptorRegistry(cir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	tr, err := server.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	tracks := make(chan *webrtc.TrackRemote, 1)
	receivers := make(chan *webrtc.RTPReceiver, 1)
	client.OnTrack(func(r *webrtc.TrackRemote, rc *webrtc.RTPReceiver) { tracks <- r; receivers <- rc })
	offer, err := server.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(server)
	if err := server.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := client.SetRemoteDescription(*server.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := client.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(client)
	if err := client.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := server.SetRemoteDescription(*client.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	return tr.Sender(), client, tracks, receivers
}

// TestNackAnsweredFromCacheAndSenderReports: a packet lost on the way to
// a subscriber is sent again when its NACK comes, from the track's one
// cache (pion's NACK responder is no longer on the send path), and the
// subscriber gets sender reports that count what it was sent.
func TestNackAnsweredFromCacheAndSenderReports(t *testing.T) {
	stats := &Stats{}
	tr := &Track{ID: "camera:p", Publisher: "p", Kind: webrtc.RTPCodecTypeVideo, stats: stats, done: make(chan struct{}), clockRate: 90000}
	tr.Local = NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, tr.ID, tr.Publisher)
	tr.out = tr.Local
	sender, client, tracks, receivers := serverPair(t, tr.Local)

	var relays sync.WaitGroup
	relays.Add(1)
	go func() { defer relays.Done(); tr.RelayFeedback(sender) }()
	const lost = 1020
	stop := make(chan struct{})
	var fwd sync.WaitGroup
	fwd.Add(1)
	go func() { // the publisher's packets, as Forward handles them
		defer fwd.Done()
		var pkt rtp.Packet
		for seq := uint16(1000); ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 77, SequenceNumber: seq, Timestamp: uint32(seq) * 3000},
				Payload: []byte{0x10, 0, 0, byte(seq)}}).Marshal()
			if seq == lost {
				tr.cache.put(seq, raw) // received, but lost on the way out
				continue
			}
			tr.handle(raw, &pkt, nil)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		fwd.Wait()
		_ = sender.Stop()
		relays.Wait()
	})

	var remote *webrtc.TrackRemote
	var receiver *webrtc.RTPReceiver
	select {
	case remote = <-tracks:
		receiver = <-receivers
	case <-time.After(30 * time.Second):
		t.Fatal("no track arrived")
	}
	var reports atomic.Int64
	go func() {
		for {
			pkts, _, err := receiver.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == uint32(remote.SSRC()) && sr.PacketCount > 0 && sr.NTPTime != 0 {
					reports.Add(1)
				}
			}
		}
	}()

	seen := map[uint16]int{}
	asked := false
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("lost packet %d not sent again (NACKed: %v); %d sender reports", lost, asked, reports.Load())
		}
		_ = remote.SetReadDeadline(time.Now().Add(time.Second))
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			continue
		}
		seen[pkt.SequenceNumber]++
		// The client's NACK generator asks too; this one makes sure.
		if !asked && seqDiff(pkt.SequenceNumber, lost) > 3 {
			asked = true
			if err := client.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
				MediaSSRC: uint32(remote.SSRC()), Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{lost}),
			}}); err != nil {
				t.Fatal(err)
			}
		}
		if seen[lost] > 0 && reports.Load() > 0 {
			break
		}
	}
	if stats.Retransmits.Load() == 0 {
		t.Error("Retransmits not counted")
	}
}

// sentLog records what a binding wrote.
type sentLog struct {
	mu   sync.Mutex
	pkts []rtp.Packet
}

func (s *sentLog) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pkts = append(s.pkts, rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}
func (s *sentLog) Write(b []byte) (int, error) { return len(b), nil }

// TestDownTrackResendsRewritten: a NACK for a sequence number of a
// DownTrack's stream, after a layer switch, is answered from that layer's
// cache with the packet as it was first sent (same sequence number,
// timestamp and PictureID); numbers from before the switch are not.
func TestDownTrackResendsRewritten(t *testing.T) {
	tr := testSimTrack()
	d, _ := tr.NewDownTrack(nil)
	log := &sentLog{}
	if _, err := d.Local.Bind(fakeContext{id: "sub", ssrc: 555, w: log}); err != nil {
		t.Fatal(err)
	}
	b := d.Local.bindingFor(555)
	now := time.Now()
	send := func(layer int, seq uint16, key bool, pid uint16) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000},
			Payload: vp8Packet(true, key, pid, uint8(pid), 320, 240)}
		raw, _ := p.Marshal()
		tr.sim.layers[layer].cache.put(seq, raw)
		vi, _ := parseVP8(p.Payload)
		d.write(layer, &p, &vi, now)
	}
	d.SetTarget(0)
	send(0, 100, true, 7)
	send(0, 101, false, 8)
	d.SetTarget(1) // switch at layer 1's keyframe: new offsets
	send(1, 5000, true, 300)
	send(1, 5001, false, 301)
	send(1, 5002, false, 302)
	log.mu.Lock()
	sent := append([]rtp.Packet(nil), log.pkts...)
	log.mu.Unlock()
	if len(sent) != 5 {
		t.Fatalf("%d packets sent, want 5", len(sent))
	}
	orig := sent[3] // layer 1, 5001
	d.resend(b, orig.SequenceNumber)
	d.resend(b, sent[1].SequenceNumber) // layer 0, before the switch
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.pkts) != 6 {
		t.Fatalf("%d packets after two NACKs, want 6 (one answered)", len(log.pkts))
	}
	again := log.pkts[5]
	vo, _ := parseVP8(orig.Payload)
	va, _ := parseVP8(again.Payload)
	if again.SequenceNumber != orig.SequenceNumber || again.Timestamp != orig.Timestamp || again.SSRC != 555 ||
		va.pictureID(again.Payload) != vo.pictureID(orig.Payload) {
		t.Fatalf("resent seq %d ts %d ssrc %d pid %d, first sent seq %d ts %d pid %d", again.SequenceNumber, again.Timestamp, again.SSRC,
			va.pictureID(again.Payload), orig.SequenceNumber, orig.Timestamp, vo.pictureID(orig.Payload))
	}
	if tr.stats.Retransmits.Load() != 1 {
		t.Errorf("Retransmits = %d, want 1", tr.stats.Retransmits.Load())
	}
}

// TestGateResendsSpliced: after a pause and resume, a gated subscriber's
// stream is renumbered; its NACK is mapped back to the track's packet,
// which goes out again with the number it first had, and a NACK from
// before the resume is not answered.
func TestGateResendsSpliced(t *testing.T) {
	tr := &Track{ID: "camera:p", Publisher: "p", Kind: webrtc.RTPCodecTypeVideo, stats: &Stats{}, done: make(chan struct{}), clockRate: 90000}
	tr.Local = NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, tr.ID, tr.Publisher)
	tr.out = tr.Local
	g := NewGate(tr)
	log := &sentLog{}
	if _, err := g.Bind(fakeContext{id: "sub", ssrc: 555, w: log}); err != nil {
		t.Fatal(err)
	}
	b := tr.Local.bindingFor(555)
	var pkt rtp.Packet
	send := func(seq uint16, key bool) {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000},
			Payload: vp8Packet(true, key, seq, uint8(seq), 320, 240)}).Marshal()
		tr.handle(raw, &pkt, nil)
	}
	send(10, true)
	send(11, false)
	g.SetPaused(true)
	send(12, false)
	g.SetPaused(false)
	send(13, false) // not a keyframe: the gate waits
	send(20, true)
	send(21, false)
	log.mu.Lock()
	sent := append([]rtp.Packet(nil), log.pkts...)
	log.mu.Unlock()
	if len(sent) != 4 {
		t.Fatalf("%d packets sent, want 4 (10, 11, then 20, 21 spliced)", len(sent))
	}
	if sent[2].SequenceNumber != sent[1].SequenceNumber+1 {
		t.Fatalf("not spliced: %d after %d", sent[2].SequenceNumber, sent[1].SequenceNumber)
	}
	tr.resend(b, sent[3].SequenceNumber) // 21, renumbered
	tr.resend(b, sent[0].SequenceNumber) // from before the resume
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.pkts) != 5 {
		t.Fatalf("%d packets after two NACKs, want 5 (one answered)", len(log.pkts))
	}
	again, orig := log.pkts[4], sent[3]
	if again.SequenceNumber != orig.SequenceNumber || again.Timestamp != orig.Timestamp || string(again.Payload) != string(orig.Payload) {
		t.Fatalf("resent seq %d ts %d, first sent seq %d ts %d", again.SequenceNumber, again.Timestamp, orig.SequenceNumber, orig.Timestamp)
	}
}
