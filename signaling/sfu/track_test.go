package sfu

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// flakyWriter fails its first writes the way a broken subscriber binding
// does, then counts what reaches it.
type flakyWriter struct {
	failFirst int64
	calls     atomic.Int64
	written   atomic.Int64
}

func (w *flakyWriter) WriteRTP(*rtp.Packet) error {
	if w.calls.Add(1) <= w.failFirst {
		return errors.New("sendto: no buffer space available")
	}
	w.written.Add(1)
	return nil
}

// pcPair connects a publishing PeerConnection to a receiving one over
// loopback and returns the receiver's first remote track.
func pcPair(t *testing.T) (*webrtc.TrackLocalStaticRTP, *webrtc.PeerConnection, *webrtc.TrackRemote, *webrtc.RTPReceiver) {
	t.Helper()
	newPC := func() *webrtc.PeerConnection {
		me, ir, err := NewMediaEngine()
		if err != nil {
			t.Fatal(err)
		}
		se := webrtc.SettingEngine{}
		ConfigureCandidates(&se, true, nil)
		pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
			NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		return pc
	}
	pub, sub := newPC(), newPC()
	local, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera:p", "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.AddTrack(local); err != nil {
		t.Fatal(err)
	}
	type got struct {
		remote   *webrtc.TrackRemote
		receiver *webrtc.RTPReceiver
	}
	tracks := make(chan got, 1)
	sub.OnTrack(func(r *webrtc.TrackRemote, rc *webrtc.RTPReceiver) { tracks <- got{r, rc} })
	offer, err := pub.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	pubGathered := webrtc.GatheringCompletePromise(pub)
	if err := pub.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-pubGathered
	if err := sub.SetRemoteDescription(*pub.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := sub.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	subGathered := webrtc.GatheringCompletePromise(sub)
	if err := sub.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-subGathered
	if err := pub.SetRemoteDescription(*sub.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the publisher sends until the track arrives
		defer wg.Done()
		for seq := uint16(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			_ = local.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000}, Payload: []byte{0x10, 0, 0}})
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
	select {
	case g := <-tracks:
		return local, sub, g.remote, g.receiver
	case <-time.After(30 * time.Second):
		t.Fatal("no track arrived")
	}
	return nil, nil, nil, nil
}

// TestForwardSurvivesWriteErrors: a write error other than a closed pipe
// (one subscriber's send failing) used to end forwarding of the track for
// every subscriber; now it is counted and forwarding goes on.
func TestForwardSurvivesWriteErrors(t *testing.T) {
	_, sub, remote, receiver := pcPair(t)
	stats := &Stats{}
	tr, err := NewTrack(sub, remote, receiver, "camera:p", "p", "camera", stats)
	if err != nil {
		t.Fatal(err)
	}
	w := &flakyWriter{failFirst: 5}
	tr.out = w
	done := make(chan error, 1)
	go func() { done <- tr.Forward(nil) }()
	deadline := time.Now().Add(30 * time.Second)
	for w.written.Load() < 20 {
		select {
		case err := <-done:
			t.Fatalf("forwarding ended after %d failed writes: %v", stats.WriteErrors.Load(), err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d packets forwarded", w.written.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := stats.WriteErrors.Load(); got != 5 {
		t.Errorf("WriteErrors = %d, want 5", got)
	}
	sub.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Forward did not end when the PeerConnection closed")
	}
}
