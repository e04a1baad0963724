package server_test

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// lightLayers are layers whose bitrates fit a new subscriber's estimate
// with room to spare, so that what a test asks for decides the layer.
var lightLayers = []servertest.SynthLayer{
	{Width: 160, Height: 120, Bitrate: 60_000},
	{Width: 320, Height: 240, Bitrate: 150_000},
	{Width: 640, Height: 480, Bitrate: 350_000},
}

// joinSimulcast joins room with the Go client publishing a SynthCamera
// (160x120, 320x240 and 640x480) and a silent microphone.
func joinSimulcast(t *testing.T, srv *servertest.Server, room, name string) (*client.Session, *servertest.SynthMedia) {
	t.Helper()
	m := &servertest.SynthMedia{StreamID: name, Layers: lightLayers}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: name, Mic: true, Camera: true, Media: m, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Leave() })
	return s, m
}

// noBreaks fails t if the stream v had a break (PROTOCOL.md §5.3: one
// stream across layer switches).
func noBreaks(t *testing.T, who string, v servertest.VideoStats) {
	t.Helper()
	if v.SeqBreaks+v.TSBackwards+v.TSRepeats+v.PictureIDBreaks+v.SwitchesOffKeyframe > 0 {
		t.Errorf("%s: the stream broke: %s", who, v.Summary())
	}
}

// TestSimulcastLayerPerSubscriber: a Go client publishes its camera in
// three layers; one subscriber that shows it as a thumbnail gets the
// 160x120 layer, one that shows it large gets 640x480; a subscriber that
// asks for a larger size later is switched, at a keyframe of the new
// layer, on one unbroken stream (sequence numbers, timestamps and VP8
// picture ids go on); a paused one gets nothing until it asks again.
func TestSimulcastLayerPerSubscriber(t *testing.T) {
	srv := servertest.Start(t)
	const room = "simulcast"
	pub, _ := joinSimulcast(t, srv, room, "pub")
	track := wire.TrackID(pub.Self().ID, wire.SourceCamera)

	// The probes send no congestion feedback: what they ask for decides
	// their layers, not the bandwidth estimate (the allocator's tests in
	// signaling/sfu and cmd/confab-server's netem test cover that).
	small := servertest.NewProbe(t, srv.URL, room, "small", servertest.ProbeOptions{Loopback: true, NoFeedback: true})
	small.SetLayer(wire.SetLayer{Track: track, Width: 160, Height: 90})
	large := servertest.NewProbe(t, srv.URL, room, "large", servertest.ProbeOptions{Loopback: true, NoFeedback: true})
	large.SetLayer(wire.SetLayer{Track: track, Width: 1280, Height: 720})

	const wait = 45 * time.Second
	small.WaitVideo(track, "thumbnail gets 160x120", wait, func(v servertest.VideoStats) bool {
		return v.Width == 160 && v.Mark == 'q' && v.Frames >= 30
	})
	large.WaitVideo(track, "large tile gets 640x480", wait, func(v servertest.VideoStats) bool {
		return v.Width == 640 && v.Mark == 'f' && v.Frames >= 30
	})
	// Layer by name, down and up: h then f.
	large.SetLayer(wire.SetLayer{Track: track, Layer: wire.LayerH})
	large.WaitVideo(track, "layer h on request", wait, func(v servertest.VideoStats) bool { return v.Width == 320 && v.Mark == 'h' })
	small.SetLayer(wire.SetLayer{Track: track, Width: 640, Height: 480})
	got := small.WaitVideo(track, "the thumbnail, made large, gets 640x480", wait, func(v servertest.VideoStats) bool {
		return v.Width == 640 && v.Mark == 'f' && v.Frames >= 60
	})
	t.Logf("small: %s", got.Summary())
	noBreaks(t, "small", got)
	// (The first layer may be chosen before set_layer arrives.)
	if got.MarkChanges < 1 || !slices.Contains(got.Sizes, "160x120") {
		t.Errorf("small: sizes %v, %d layer changes; want 160x120, then 640x480", got.Sizes, got.MarkChanges)
	}
	var layers []string
	for _, lc := range small.LayerMessages() {
		if lc.Track == track {
			layers = append(layers, lc.Layer)
		}
	}
	if n := len(layers); n < 2 || !slices.Contains(layers, "q") || layers[n-1] != "f" {
		t.Errorf("small: layer messages %v, want q, and f last", layers)
	}

	// Paused: nothing comes; asking again brings video back, on the
	// same stream.
	large.SetLayer(wire.SetLayer{Track: track, Paused: true})
	large.WaitVideo(track, "paused", wait, func(v servertest.VideoStats) bool {
		ls := large.LayerMessages()
		return len(ls) > 0 && ls[len(ls)-1].Layer == "" && time.Since(v.Last) > time.Second
	})
	before := large.Video(track).Packets
	time.Sleep(1500 * time.Millisecond)
	if after := large.Video(track).Packets; after != before {
		t.Fatalf("paused: %d packets arrived", after-before)
	}
	large.SetLayer(wire.SetLayer{Track: track})
	v := large.WaitVideo(track, "unpaused", wait, func(v servertest.VideoStats) bool {
		return v.Packets > before+50 && v.Mark == 'f'
	})
	noBreaks(t, "large", v)
	t.Logf("large: %s", v.Summary())
	if errs := append(small.Errors(), large.Errors()...); len(errs) > 0 {
		t.Errorf("errors from the server: %+v", errs)
	}

	// Another publisher arrives: the first one answers an offer that
	// repeats its RIDs, and its layers go on.
	pubEvents := make(chan client.Event, 1024)
	go func() {
		for ev := range pub.Events() {
			pubEvents <- ev
		}
	}()
	joinSimulcast(t, srv, room, "second")
	before = large.Video(track).Packets
	large.WaitVideo(track, "layers go on after a new offer", wait, func(v servertest.VideoStats) bool { return v.Packets > before+100 })
	for {
		select {
		case ev := <-pubEvents:
			if e, ok := ev.(client.ErrorEvent); ok {
				t.Errorf("the publisher got an error after the new offer: %v", e.Err)
			}
			continue
		default:
		}
		break
	}
}

// TestSimulcastGoClientSubscriber: the Go client asks for a size with
// RequestVideo and reports the layer it gets.
func TestSimulcastGoClientSubscriber(t *testing.T) {
	srv := servertest.Start(t)
	const room = "simulcast-go"
	pub, _ := joinSimulcast(t, srv, room, "pub")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "sub", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Leave()
	if err := sub.RequestVideo(pub.Self().ID, wire.SourceCamera, client.VideoRequest{Width: 320, Height: 240}); err != nil {
		t.Fatal(err)
	}
	if err := sub.RequestVideo(pub.Self().ID, wire.SourceMicrophone, client.VideoRequest{Layer: "q"}); err == nil {
		t.Error("RequestVideo for a microphone was accepted")
	}
	deadline := time.After(45 * time.Second)
	for {
		select {
		case ev := <-sub.Events():
			if lc, ok := ev.(client.VideoLayerChanged); ok {
				if lc.ParticipantID != pub.Self().ID || lc.Source != wire.SourceCamera {
					t.Fatalf("layer event %+v is not for the publisher's camera", lc)
				}
				t.Logf("layer %q %dx%d", lc.Layer, lc.Width, lc.Height)
				if lc.Layer != "h" {
					continue // the first layer may come before the request is applied
				}
				if lc.Width != 320 || lc.Height != 240 {
					t.Fatalf("layer event %+v, want h 320x240", lc)
				}
				if est := pub.SendEstimate(); est <= 0 {
					t.Errorf("publisher's send estimate %d", est)
				}
				return
			}
		case <-deadline:
			t.Fatal("no VideoLayerChanged event")
		}
	}
}

// TestSetLayerRefusals: every refusal of set_layer in PROTOCOL.md §5.1,
// with its message; the connection stays open.
func TestSetLayerRefusals(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "layers", "ada")
	for _, c := range []struct {
		data string
		msg  string
	}{
		{`{"layer":"q"}`, "bad message: set_layer: track: empty"},
		{`{"track":"cam:bob"}`, `bad message: set_layer: track "cam:bob": bad layer request: not "<source>:<participant id>"`},
		{`{"track":"microphone:bob"}`, `bad message: set_layer: track "microphone:bob": bad layer request: only video tracks have layers`},
		{`{"track":"camera:bob","layer":"x"}`, `bad message: set_layer: layer "x": bad layer request: not q, h or f`},
		{`{"track":"camera:bob","width":-2}`, "bad message: set_layer: bad layer request: width and height must be 0..16384"},
		{`{"track":"camera:bob","layer":"q","paused":true}`, "bad message: set_layer: bad layer request: give only one of layer, width/height and paused"},
		{`{"track":"camera:bob","paused":"yes"}`, "bad message: set_layer: json: cannot unmarshal string into Go struct field SetLayer.paused of type bool"},
	} {
		if err := ws.WriteMessage(1, []byte(`{"v":1,"type":"set_layer","data":`+c.data+`}`)); err != nil {
			t.Fatal(err)
		}
		var e wire.Error
		expect(t, ws, wire.TypeError, &e)
		if e.Code != wire.CodeBadMessage || e.Message != c.msg || e.Fatal {
			t.Errorf("%s: got %+v, want bad_message %q", c.data, e, c.msg)
		}
	}
	// Preferences are kept for at most MaxLayerPrefs tracks.
	for i := range wire.MaxLayerPrefs {
		send(t, ws, wire.TypeSetLayer, wire.SetLayer{Track: wire.TrackID("p"+itoa(int64(i)), wire.SourceCamera), Paused: true})
		if i%25 == 0 {
			time.Sleep(time.Second) // under the rate limit
		}
	}
	send(t, ws, wire.TypeSetLayer, wire.SetLayer{Track: "camera:one-more", Layer: "q"})
	var e wire.Error
	expect(t, ws, wire.TypeError, &e)
	if !strings.Contains(e.Message, "at most 256 tracks") {
		t.Errorf("the 257th preference: %+v", e)
	}
	// Dropping one makes room.
	send(t, ws, wire.TypeSetLayer, wire.SetLayer{Track: wire.TrackID("p0", wire.SourceCamera)})
	send(t, ws, wire.TypeSetLayer, wire.SetLayer{Track: "camera:one-more", Layer: "q"})
	send(t, ws, wire.TypeHistory, wire.HistoryRequest{Req: "after"})
	var h wire.History
	expect(t, ws, wire.TypeHistory, &h) // no error came before it
}

// TestLiteralPionSimulcastPublisher publishes three layers with plain
// pion exactly as PROTOCOL.md §5.3 says (AddTrack on the camera's
// transceiver, AddEncoding for the others, the mid and RID header
// extensions set by hand with the offer's extmap ids, pion's answer sent
// as it is): a subscriber gets the layer it asks for.
func TestLiteralPionSimulcastPublisher(t *testing.T) {
	srv := servertest.Start(t)
	const room = "literal-simulcast"
	api := loopbackAPI(t)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var layers []*webrtc.TrackLocalStaticRTP
	for _, rid := range []string{"q", "h", "f"} {
		l, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "lit", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	ws, joined := rawJoin(t, srv, room, "lit")
	var offer wire.Offer
	expect(t, ws, wire.TypeOffer, &offer)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	camMid := ""
	for mid, src := range offer.Publish {
		if src == wire.SourceCamera {
			camMid = mid
		}
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer.SDP); err != nil {
		t.Fatal(err)
	}
	var midID, ridID uint8
	for _, m := range sd.MediaDescriptions {
		if mid, _ := m.Attribute("mid"); mid != camMid {
			continue
		}
		if v, _ := m.Attribute("simulcast"); v != "recv q;h;f" {
			t.Fatalf("the camera m-line offers simulcast %q", v)
		}
		for _, a := range m.Attributes {
			if a.Key != "extmap" {
				continue
			}
			id, uri, _ := strings.Cut(a.Value, " ")
			n, _ := strconv.Atoi(id)
			switch uri {
			case sdp.SDESMidURI:
				midID = uint8(n)
			case sdp.SDESRTPStreamIDURI:
				ridID = uint8(n)
			}
		}
	}
	if midID == 0 || ridID == 0 {
		t.Fatalf("no mid or RID extmap on the camera m-line:\n%s", offer.SDP)
	}
	sender, err := pc.AddTrack(layers[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Mid() == camMid && tr.Sender() != sender {
			t.Fatal("AddTrack did not take the camera's m-line")
		}
	}
	for _, l := range layers[1:] {
		if err := sender.AddEncoding(l); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	ans, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(ans)
	}
	if err != nil {
		t.Fatal(err)
	}
	<-webrtc.GatheringCompletePromise(pc)
	send(t, ws, wire.TypeAnswer, wire.Answer{SDP: pc.LocalDescription().SDP})
	stop := make(chan struct{})
	done := make(chan struct{})
	defer func() { close(stop); <-done }()
	go func() { // one packet a frame, 15 frames a second, a keyframe each second
		defer close(done)
		sizes := [][2]int{{160, 120}, {320, 240}, {640, 480}}
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for i, l := range layers {
				p := []byte{0x10, 0x11, 0x02, 0x00}
				if n%15 == 0 {
					w, h := sizes[i][0], sizes[i][1]
					p = []byte{0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)}
				}
				p = append(p, bytes.Repeat([]byte{"qhf"[i]}, 200)...)
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(n), Timestamp: uint32(n) * 6000, Marker: true}, Payload: p}
				_ = pkt.Header.SetExtension(midID, []byte(camMid))
				_ = pkt.Header.SetExtension(ridID, []byte(l.RID()))
				_ = l.WriteRTP(pkt)
			}
		}
	}()
	track := wire.TrackID(joined.You.ID, wire.SourceCamera)
	probe := servertest.NewProbe(t, srv.URL, room, "probe", servertest.ProbeOptions{Loopback: true, NoFeedback: true})
	probe.SetLayer(wire.SetLayer{Track: track, Layer: wire.LayerQ})
	probe.WaitVideo(track, "layer q", 45*time.Second, func(v servertest.VideoStats) bool { return v.Width == 160 && v.Mark == 'q' })
	probe.SetLayer(wire.SetLayer{Track: track, Layer: wire.LayerF})
	v := probe.WaitVideo(track, "layer f", 45*time.Second, func(v servertest.VideoStats) bool { return v.Width == 640 && v.Mark == 'f' })
	noBreaks(t, "probe", v)
}
