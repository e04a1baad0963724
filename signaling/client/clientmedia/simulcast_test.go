package clientmedia_test

import (
	"context"
	"fmt"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// TestCameraSimulcast: the app's camera (the test camera at 640x480
// through clientmedia and the session, as the app and the bot open it)
// goes up in three layers, and a subscriber asking the server for each
// layer in turn (set_layer) decodes frames of that layer's size.
//
// The camera runs at 5 fps: the test pattern's noise patch costs libvpx
// about 90 kbit per full-size frame whatever the target (1.3 Mbit/s at
// 15 fps), and the server gives the full layer only when its measured
// rate fits in the estimate towards the subscriber, which grows slowly
// on a loaded machine.
func TestCameraSimulcast(t *testing.T) {
	srv := servertest.Start(t)
	const room = "simulcast-camera"
	pm, err := clientmedia.New(clientmedia.Options{Fake: true, NoSpeaker: true,
		Capture: []capture.Option{capture.WithVideoSize(640, 480), capture.WithFrameRate(5)}})
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "Pub", Media: pm, Camera: true,
		Decoders: pm, Audio: pm, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Leave()
	pub.OnSendEstimate(pm.SetSendBudget) // as the app and the bot do
	go func() {
		for range pub.Events() {
		}
	}()

	sm, err := clientmedia.New(clientmedia.Options{NoSpeaker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	sub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "Sub", Decoders: sm, Audio: sm, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Leave()
	pubID := pub.Self().ID
	var mu sync.Mutex
	var video client.VideoSource
	var layers []client.VideoLayerChanged
	go func() {
		for ev := range sub.Events() {
			mu.Lock()
			switch e := ev.(type) {
			case client.VideoAdded:
				if e.ParticipantID == pubID && e.Source == wire.SourceCamera {
					video = e.Video
				}
			case client.VideoLayerChanged:
				if e.ParticipantID == pubID {
					layers = append(layers, e)
				}
			}
			mu.Unlock()
		}
	}()
	size := func() (image.Point, uint64) {
		mu.Lock()
		v := video
		mu.Unlock()
		if v == nil {
			return image.Point{}, 0
		}
		_, sz, seq := v.Render(nil, 0, 0, false)
		return sz, seq
	}
	// Lowest first: the estimate towards the subscriber grows meanwhile,
	// and a higher layer asked for is taken at once when it fits (§5.3).
	for _, c := range []struct {
		layer string
		want  image.Point
	}{{wire.LayerQ, image.Pt(160, 120)}, {wire.LayerH, image.Pt(320, 240)}, {wire.LayerF, image.Pt(640, 480)}, {wire.LayerQ, image.Pt(160, 120)}} {
		if err := sub.RequestVideo(pubID, wire.SourceCamera, client.VideoRequest{Layer: c.layer}); err != nil {
			t.Fatal(err)
		}
		var seq0 uint64
		eventually(t, 45*time.Second, fmt.Sprintf("frames of layer %s at %v", c.layer, c.want), func() (bool, string) {
			sz, seq := size()
			if sz != c.want {
				seq0 = seq
				return false, fmt.Sprintf("decoding %v (%d frames); camera layers %+v", sz, seq, cameraLayers(pm))
			}
			return seq >= seq0+5, fmt.Sprintf("%d frames at %v", seq-seq0, sz)
		})
	}
	mu.Lock()
	t.Logf("layer messages: %+v", layers)
	mu.Unlock()
	t.Logf("camera layers: %+v", cameraLayers(pm))
}

func cameraLayers(m *clientmedia.Media) []capture.LayerStats {
	if c := m.Camera(); c != nil {
		return c.LayerStats()
	}
	return nil
}
