package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// TestSimulcastCameraOffAndOn: a SimulcastTrack camera goes up in three
// layers; turned off, nothing arrives; turned on again (a new camera
// track), its layers go up on the same encodings (pion cannot replace the
// tracks of a simulcast sender); the subscriber's stream goes on unbroken.
// The publisher's send estimate moves from its initial value as the
// server's transport-wide feedback arrives, and OnSendEstimate reports it.
func TestSimulcastCameraOffAndOn(t *testing.T) {
	srv := servertest.Start(t)
	const room = "sim-client"
	m := &servertest.SynthMedia{StreamID: "pub", Layers: []servertest.SynthLayer{
		{Width: 160, Height: 120, Bitrate: 60_000}, {Width: 320, Height: 240, Bitrate: 150_000}, {Width: 640, Height: 480, Bitrate: 350_000}}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "pub", Camera: true, Mic: true, Media: m, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Leave()
	var estMu sync.Mutex
	var estimates []int
	pub.OnSendEstimate(func(bps int) {
		estMu.Lock()
		estimates = append(estimates, bps)
		estMu.Unlock()
	})
	go func() {
		for range pub.Events() {
		}
	}()
	track := wire.TrackID(pub.Self().ID, wire.SourceCamera)
	probe := servertest.NewProbe(t, srv.URL, room, "probe", servertest.ProbeOptions{Loopback: true})
	probe.SetLayer(wire.SetLayer{Track: track, Layer: wire.LayerH})
	const wait = 45 * time.Second
	probe.WaitVideo(track, "layer h", wait, func(v servertest.VideoStats) bool { return v.Width == 320 && v.Frames >= 20 })

	if err := pub.SetCameraOn(false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	off := probe.Video(track).Packets
	time.Sleep(2 * time.Second)
	if n := probe.Video(track).Packets - off; n > 0 {
		t.Fatalf("%d packets arrived with the camera off", n)
	}
	if err := pub.SetCameraOn(true); err != nil {
		t.Fatal(err)
	}
	// Which layer comes back depends on the estimate, which pion's GCC may
	// have cut while only audio flowed: any layer will do.
	v := probe.WaitVideo(track, "video from the camera turned on again", wait, func(v servertest.VideoStats) bool {
		return v.Packets > off+50
	})
	if v.TSBackwards+v.PictureIDBreaks+v.SwitchesOffKeyframe > 0 {
		t.Errorf("the stream broke: %s", v.Summary())
	}
	t.Logf("probe: %s", v.Summary())

	deadline := time.Now().Add(wait)
	for pub.SendEstimate() == client.InitialSendEstimate {
		if time.Now().After(deadline) {
			t.Fatal("the send estimate never moved: no transport-wide feedback from the server?")
		}
		time.Sleep(100 * time.Millisecond)
	}
	estMu.Lock()
	got := append([]int(nil), estimates...)
	estMu.Unlock()
	if len(got) == 0 || got[0] <= 0 {
		t.Errorf("OnSendEstimate reported %v", got)
	}
	t.Logf("send estimate %d bit/s; reported %v", pub.SendEstimate(), got)
}

// TestRequestVideoAfterRejoin: a video request is sent again on a new
// connection: after the server restarts, the subscriber still gets the
// layer it asked for.
func TestRequestVideoAfterRejoin(t *testing.T) {
	srv := servertest.Start(t)
	const room = "sim-rejoin"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "sub", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Leave()
	ev := record(sub)
	const pubID = "pub-fixed"
	tok := srv.Token(token.Claims{Identity: pubID, Name: pubID, Room: room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	if err := sub.RequestVideo(pubID, wire.SourceCamera, client.VideoRequest{Width: 160, Height: 120}); err != nil {
		t.Fatal(err)
	}
	pub, err := client.Join(ctx, client.Config{Server: srv.URL, Token: tok, Room: room, Camera: true,
		Media: &servertest.SynthMedia{StreamID: pubID}, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Leave()
	layerQ := func(from int) func([]client.Event, []time.Time) bool {
		return func(all []client.Event, _ []time.Time) bool {
			for _, e := range all[min(from, len(all)):] {
				if lc, ok := e.(client.VideoLayerChanged); ok && lc.ParticipantID == pubID && lc.Layer == "q" && lc.Width == 160 {
					return true
				}
			}
			return false
		}
	}
	ev.waitFor(t, 45*time.Second, "layer q", layerQ(0))
	ev.mu.Lock()
	mark := len(ev.all)
	ev.mu.Unlock()
	srv.Restart()
	ev.waitFor(t, 90*time.Second, "layer q after the restart", layerQ(mark))
}
