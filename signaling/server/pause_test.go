package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// TestPausePlainVideo: a camera that is not simulcast comes whole, and a
// subscriber that pauses it (set_layer paused: a hidden tile) gets
// nothing until it asks again, while another subscriber's video goes on;
// resumed, it comes back from a keyframe on the same stream, without a
// gap in sequence numbers. No layer message comes for it.
func TestPausePlainVideo(t *testing.T) {
	srv := servertest.Start(t)
	const room = "pause-plain"
	m := &servertest.SynthMedia{StreamID: "pub", Plain: true, Layers: lightLayers}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "pub", Mic: true, Camera: true, Media: m, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Leave()
	go func() {
		for range pub.Events() {
		}
	}()
	track := wire.TrackID(pub.Self().ID, wire.SourceCamera)
	hidden := servertest.NewProbe(t, srv.URL, room, "hidden", servertest.ProbeOptions{Loopback: true})
	shown := servertest.NewProbe(t, srv.URL, room, "shown", servertest.ProbeOptions{Loopback: true})
	const wait = 45 * time.Second
	for _, p := range []*servertest.Probe{hidden, shown} {
		p.WaitVideo(track, "the whole camera", wait, func(v servertest.VideoStats) bool { return v.Width == 640 && v.Frames >= 20 })
	}

	hidden.SetLayer(wire.SetLayer{Track: track, Paused: true})
	hidden.WaitVideo(track, "nothing once paused", wait, func(v servertest.VideoStats) bool { return time.Since(v.Last) > time.Second })
	before, other := hidden.Video(track), shown.Video(track).Frames
	time.Sleep(1500 * time.Millisecond)
	if after := hidden.Video(track).Packets; after != before.Packets {
		t.Fatalf("paused: %d packets arrived", after-before.Packets)
	}
	if n := shown.Video(track).Frames - other; n < 10 {
		t.Errorf("the other subscriber got %d frames meanwhile", n)
	}

	hidden.SetLayer(wire.SetLayer{Track: track})
	v := hidden.WaitVideo(track, "video again", wait, func(v servertest.VideoStats) bool {
		return v.Keyframes > before.Keyframes && v.Frames >= before.Frames+20
	})
	noBreaks(t, "hidden", v)
	t.Logf("hidden: %s", v.Summary())
	if ls := hidden.LayerMessages(); len(ls) > 0 {
		t.Errorf("layer messages for a track that is not simulcast: %+v", ls)
	}
	if errs := append(hidden.Errors(), shown.Errors()...); len(errs) > 0 {
		t.Errorf("errors from the server: %+v", errs)
	}
}

// TestJoinedComesFirstInACrowdedRoom: joining a room of simulcast
// publishers, the first message is joined, even when a track subscribed
// to while joining switches layer at once (its layer message waits). The
// Go client refuses a join whose first answer is anything else; in a
// 9-party room of simulcast bots the app's join failed that way.
func TestJoinedComesFirstInACrowdedRoom(t *testing.T) {
	srv := servertest.Start(t)
	const room = "crowded"
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		joinSimulcast(t, srv, room, n)
	}
	probe := servertest.NewProbe(t, srv.URL, room, "probe", servertest.ProbeOptions{Loopback: true})
	_ = probe // its subscriptions make the publishers' layers flow
	for i := range 12 {
		name := "late" + itoa(int64(i))
		tok := srv.Token(token.Claims{Identity: name, Name: name, Room: room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
		if err != nil {
			t.Fatal(err)
		}
		send(t, ws, wire.TypeJoin, wire.Join{Token: tok, Room: room})
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if env, err := wire.DecodeEnvelope(b); err != nil || env.Type != wire.TypeJoined {
			t.Fatalf("join %d: first message %.200s, want joined", i, b)
		}
		ws.Close()
	}
}
