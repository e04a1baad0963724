package capture_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v4/test"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/decode"
	"github.com/confab/confab/media/internal/mediatest"
)

// newAPI builds a pion API on loopback only, with the capture codecs and
// pion's default interceptors, as the client does.
func newAPI(t testing.TB, c *capture.Capture) *webrtc.API {
	t.Helper()
	me, err := c.MediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// connect runs offer/answer between two PeerConnections.
func connect(t testing.TB, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gather := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gather
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gather = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gather
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// received collects what the answerer gets on one track.
type received struct {
	mu        sync.Mutex
	packets   int
	keyFrames int
	last      time.Time
	levels    []rtp.AudioLevelExtension
	markers   int
	maxSeq    uint16 // highest sequence number (the test never wraps)
	extID     uint8
	noExt     int
}

func (r *received) snapshot() received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return received{packets: r.packets, keyFrames: r.keyFrames, last: r.last, markers: r.markers, maxSeq: r.maxSeq,
		levels: append([]rtp.AudioLevelExtension(nil), r.levels...), noExt: r.noExt}
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLoopbackPeerConnections publishes camera and microphone through two
// real pion PeerConnections on 127.0.0.1 and checks what arrives: VP8 that
// decodes, keyframes on PLI, Opus with the RFC 6464 extension under the
// negotiated id, mute, and ReplaceTrack(nil) followed by a re-bind of the
// same track.
func TestLoopbackPeerConnections(t *testing.T) {
	// A long keyframe interval, so keyframes seen come from PLIs.
	c, err := capture.New(capture.WithKeyFrameInterval(3000))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPI(t, c)
	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	cam, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	mic, err := c.OpenMicrophone("")
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	camSender, err := pub.AddTrack(cam)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.AddTrack(mic); err != nil {
		t.Fatal(err)
	}

	var video, audio received
	var videoSSRC atomic.Uint32
	slot := media.NewFrameSlot()
	dec, err := decode.NewVideoDecoder(slot)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	// Decoding runs apart from reading so that a slow decoder (under -race
	// on a loaded machine) cannot delay what the reader counts.
	decCh := make(chan *rtp.Packet, 4096)
	decDone := make(chan struct{})
	go func() {
		defer close(decDone)
		for p := range decCh {
			_ = dec.Push(p)
		}
	}()
	var wg sync.WaitGroup
	sub.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		wg.Add(1)
		defer wg.Done()
		r := &audio
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			r = &video
			videoSSRC.Store(uint32(tr.SSRC()))
		} else {
			for _, e := range rcv.GetParameters().HeaderExtensions {
				if e.URI == media.AudioLevelURI {
					r.mu.Lock()
					r.extID = uint8(e.ID)
					r.mu.Unlock()
				}
			}
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.packets++
			r.last = time.Now()
			r.maxSeq = max(r.maxSeq, p.SequenceNumber)
			if p.Marker {
				r.markers++
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				if mediatest.IsVP8KeyFrameStart(p) {
					r.keyFrames++
				}
				r.mu.Unlock()
				select {
				case decCh <- p:
				default:
				}
				continue
			}
			if raw := p.GetExtension(r.extID); r.extID != 0 && raw != nil {
				var l rtp.AudioLevelExtension
				if err := l.Unmarshal(raw); err == nil {
					r.levels = append(r.levels, l)
				}
			} else {
				r.noExt++
			}
			r.mu.Unlock()
		}
	})

	connect(t, pub, sub)

	// Video flows and decodes; audio carries the level extension.
	waitFor(t, 10*time.Second, "10 decoded frames", func() bool { return dec.FramesDecoded() >= 10 })
	waitFor(t, 5*time.Second, "25 audio packets", func() bool { return audio.snapshot().packets >= 25 })
	a := audio.snapshot()
	if audio.extID == 0 || a.noExt != 0 || len(a.levels) == 0 {
		t.Fatalf("audio level extension: negotiated id %d, %d packets without it, %d with", audio.extID, a.noExt, len(a.levels))
	}
	for _, l := range a.levels[1:] {
		if l.Level < 13 || l.Level > 17 || !l.Voice {
			t.Fatalf("audio level %+v, want about 15 dBov with voice", l)
		}
	}
	t.Logf("negotiated audio-level id %d; levels %v...", audio.extID, a.levels[:3])
	img, _ := slot.Latest()
	if img.Bounds().Dx() != 640 || img.Bounds().Dy() != 480 {
		t.Fatalf("decoded size %v", img.Bounds())
	}

	// PLI: the publisher's track reads it and sends a keyframe.
	keys := video.snapshot().keyFrames
	if err := sub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: videoSSRC.Load()}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a keyframe after PLI", func() bool { return video.snapshot().keyFrames > keys })

	// Mute: no new audio packets (retransmissions aside, hence sequence
	// numbers), then a resumed stream opening with a marker.
	mic.SetMuted(true)
	time.Sleep(100 * time.Millisecond) // a packet being encoded may still go
	sentMuted := mic.PacketsSent()
	before := audio.snapshot()
	time.Sleep(300 * time.Millisecond)
	if got := mic.PacketsSent(); got != sentMuted {
		t.Fatalf("%d audio packets sent while muted", got-sentMuted)
	}
	if got := audio.snapshot().maxSeq; got > before.maxSeq+2 {
		t.Fatalf("audio sequence went on from %d to %d while muted", before.maxSeq, got)
	}
	mic.SetMuted(false)
	waitFor(t, 2*time.Second, "audio after unmute", func() bool { return audio.snapshot().packets > before.packets+5 })
	if audio.snapshot().markers <= before.markers {
		t.Error("no marker bit on the first packet after unmute")
	}

	// ReplaceTrack(nil) stops video; binding the same track again resumes
	// it, starting with a keyframe from the new encoder.
	if err := camSender.ReplaceTrack(nil); err != nil {
		t.Fatal(err)
	}
	sentUnbound := cam.FramesSent()
	time.Sleep(300 * time.Millisecond)
	if got := cam.FramesSent(); got != sentUnbound {
		t.Fatalf("%d frames sent after ReplaceTrack(nil) returned", got-sentUnbound)
	}
	// The receiver goes quiet (NACKed retransmissions aside).
	waitFor(t, 5*time.Second, "video to stop arriving", func() bool {
		return time.Since(video.snapshot().last) > 300*time.Millisecond
	})
	stopped := video.snapshot()
	frames := dec.FramesDecoded()
	if err := camSender.ReplaceTrack(cam); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "decoded video after re-binding", func() bool { return dec.FramesDecoded() > frames+10 })
	if video.snapshot().keyFrames <= stopped.keyFrames {
		t.Error("re-bound track did not start with a keyframe")
	}
	t.Logf("video %+v, decoder %+v, sent %d frames; audio sent %d packets", video.snapshot().packets,
		dec.Stats(), cam.FramesSent(), mic.PacketsSent())

	// Closing the tracks under a live sender must not hang, and pion's
	// later Unbind (on Close) must be harmless.
	if err := cam.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mic.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(decCh)
	<-decDone
}

// TestClosePeerConnectionWhileSending closes the PeerConnections under
// bound, sending tracks (pion then unbinds them itself), closes the tracks
// and checks that no goroutine is left behind.
func TestClosePeerConnectionWhileSending(t *testing.T) {
	defer test.CheckRoutines(t)()
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	api := newAPI(t, c)
	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	cam, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	mic, err := c.OpenMicrophone("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{cam, mic} {
		if _, err := pub.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	sub.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		wg.Add(1)
		defer wg.Done()
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			got.Add(1)
		}
	})
	connect(t, pub, sub)
	waitFor(t, 10*time.Second, "media to flow", func() bool { return got.Load() > 50 })

	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	sent := cam.FramesSent()
	time.Sleep(100 * time.Millisecond)
	if cam.FramesSent() != sent {
		t.Fatal("camera still sending after its PeerConnection closed")
	}
	if err := cam.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mic.Close(); err != nil {
		t.Fatal(err)
	}
}
