package server

import (
	"testing"

	"github.com/confab/confab/signaling/wire"
)

// TestLayerMessagesWaitForJoined: a layer message made while the
// participant is joining (a track it subscribed to switched layer before
// joined went out) is sent after joined, the latest per track; once
// joined is out, layer messages go at once.
func TestLayerMessagesWaitForJoined(t *testing.T) {
	p := &peer{send: make(chan []byte, 16), done: make(chan struct{})}
	p.sendLayer(wire.LayerChanged{Track: "camera:a", Layer: "q", Width: 160, Height: 120})
	p.sendLayer(wire.LayerChanged{Track: "camera:a", Layer: "h", Width: 320, Height: 240})
	if n := len(p.send); n != 0 {
		t.Fatalf("%d messages went out before joined", n)
	}
	p.sendMsg(wire.TypeJoined, wire.Joined{Room: "r"})
	p.welcome()
	p.sendLayer(wire.LayerChanged{Track: "camera:a", Layer: "f", Width: 640, Height: 480})
	var got []string
	for len(p.send) > 0 {
		env, err := wire.DecodeEnvelope(<-p.send)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, env.Type)
		if env.Type == wire.TypeLayer {
			var lc wire.LayerChanged
			if err := wire.DecodeData(env, &lc); err != nil {
				t.Fatal(err)
			}
			got[len(got)-1] += ":" + lc.Layer
		}
	}
	want := []string{"joined", "layer:h", "layer:f"}
	if len(got) != len(want) {
		t.Fatalf("messages %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("messages %v, want %v", got, want)
		}
	}
}
