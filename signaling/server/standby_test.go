package server_test

import (
	"slices"
	"testing"
	"time"

	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// waitSending waits until the publisher's camera sends exactly the layers
// want.
func waitSending(t *testing.T, m *servertest.SynthMedia, what string, d time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var got []string
		if c := m.Camera(); c != nil {
			got = c.Sending()
		}
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after %v the camera sends %v, want %v", what, d, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStandbyLayersFollowSubscribers: a Go client publishing a simulcast
// camera (it joins with standby_layers) is told to stop the layers nobody
// receives: alone, it sends only q; a thumbnail subscriber keeps it at q;
// when the subscriber shows the video large it gets f, which the publisher
// starts again, on one unbroken stream; h, which nobody takes, stops
// again; after the camera is turned off and on, the publisher is told
// again and the subscriber gets f again.
func TestStandbyLayersFollowSubscribers(t *testing.T) {
	srv := servertest.Start(t)
	const room = "standby"
	pub, m := joinSimulcast(t, srv, room, "pub")
	track := wire.TrackID(pub.Self().ID, wire.SourceCamera)
	const wait = 45 * time.Second
	waitSending(t, m, "alone", wait, "q")

	sub := servertest.NewProbe(t, srv.URL, room, "sub", servertest.ProbeOptions{Loopback: true, NoFeedback: true})
	sub.SetLayer(wire.SetLayer{Track: track, Width: 160, Height: 120})
	sub.WaitVideo(track, "the thumbnail gets q", wait, func(v servertest.VideoStats) bool {
		return v.Mark == 'q' && v.Frames >= 30
	})
	waitSending(t, m, "one thumbnail", wait, "q")

	sub.SetLayer(wire.SetLayer{Track: track, Width: 640, Height: 480})
	got := sub.WaitVideo(track, "shown large, it gets f", wait, func(v servertest.VideoStats) bool {
		return v.Mark == 'f' && v.Width == 640 && v.Frames >= 60
	})
	noBreaks(t, "sub", got)
	waitSending(t, m, "one large tile", wait, "q", "f")
	t.Logf("sub: %s", got.Summary())

	if err := pub.SetCameraOn(false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := pub.SetCameraOn(true); err != nil {
		t.Fatal(err)
	}
	waitSending(t, m, "the camera turned on again", wait, "q", "f")
	before := sub.Video(track).Frames
	sub.WaitVideo(track, "f after the camera came back", wait, func(v servertest.VideoStats) bool {
		return v.Mark == 'f' && v.Frames >= before+30
	})
	if errs := sub.Errors(); len(errs) > 0 {
		t.Errorf("errors from the server: %+v", errs)
	}
}

// TestRecordingWakesTheTopLayer: an admin starts recording while the
// publisher, alone, sends only q: the recording asks for the top layer,
// the publisher starts f again, and the camera is recorded from f at
// 640x480.
func TestRecordingWakesTheTopLayer(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.Start(t, recordIn(dir, "none"))
	const room = "standby-rec"
	pub, m := joinSimulcast(t, srv, room, "pub")
	const wait = 45 * time.Second
	waitSending(t, m, "alone", wait, "q")
	admin, _ := joinGrants(t, srv, room, "boss", adminGrants())
	send(t, admin, wire.TypeStartRecording, nil)
	var r wire.Recording
	expect(t, admin, wire.TypeRecording, &r)
	waitSending(t, m, "recorded", wait, "q", "f")
	time.Sleep(3 * time.Second) // some media
	send(t, admin, wire.TypeStopRecording, nil)
	deadline := time.Now().Add(wait)
	for {
		man, err := onlyManifest(dir)
		if err == nil && man.Status == recording.StatusComplete {
			found := false
			for _, f := range man.Files {
				t.Logf("%+v", f)
				if f.Source == wire.SourceCamera {
					found = true
					if f.Participant != pub.Self().ID || f.Layer != "f" || f.Width != 640 || f.Height != 480 || f.Frames < 10 {
						t.Errorf("camera recorded: %+v; want layer f at 640x480", f)
					}
				}
			}
			if !found {
				t.Errorf("no camera file: %+v", man)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished manifest: %v %+v", err, man)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
