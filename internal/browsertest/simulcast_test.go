package browsertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// outbound is one entry of confabTest.outbound(): what the page's camera
// sends on one simulcast layer.
type outbound struct {
	RID        string `json:"rid"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Frames     int    `json:"frames"`
	Bytes      int    `json:"bytes"`
	Active     bool   `json:"active"`
	Limitation string `json:"limitation"`
}

// TestGuestPublishesSimulcast: the guest page answers the server's offer
// with its camera in layers (a=simulcast:send q;h;f; Chromium encodes two
// layers of its 640x480 fake camera, so q is 320x240, h 640x480 and f is
// off); a Go subscriber that asks for the small layer receives 320x240,
// and 640x480 when it asks for a large tile, switched on one unbroken
// stream; meanwhile the page stops encoding the layer nobody receives.
func TestGuestPublishesSimulcast(t *testing.T) {
	b := Start(t, Options{})
	srv := servertest.Start(t)
	room := fmt.Sprintf("simulcast-%d", rand.IntN(1e6))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g, err := b.OpenGuest(ctx, srv.URL+"/r/"+room)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Join(ctx, "Chromium", room); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the page is in the call", `window.confabTest.state().phase === "call" && window.confabTest.state().you`, StateJS)
	st, err := g.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	track := wire.TrackID(st.You, wire.SourceCamera)

	probe := servertest.NewProbe(t, srv.URL, room, "probe", servertest.ProbeOptions{Loopback: true})
	probe.SetLayer(wire.SetLayer{Track: track, Layer: wire.LayerQ})

	g.MustWait(t, 60*time.Second, "the page has answered", `window.confabTest.localSDP().includes("a=mid:1")`, "window.confabTest.localSDP()")
	var sdp string
	if err := g.Eval(ctx, "window.confabTest.localSDP()", &sdp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sdp, "a=simulcast:send q;h;") { // f is paused ("~f") at 640x480
		t.Fatalf("the page's answer does not send simulcast:\n%s", sdp)
	}
	const wait = 90 * time.Second
	small := probe.WaitVideo(track, "the small layer", wait, func(v servertest.VideoStats) bool {
		return v.Width == 320 && v.Height == 240 && v.Frames >= 30
	})
	t.Logf("small: %s", small.Summary())
	// Nobody receives h (the probe takes q): the server leaves it out of
	// publish_layers and the page stops encoding it (§5.3 standby layers);
	// asked for below, it comes back.
	g.MustWait(t, wait, "the page rests h, which nobody receives",
		`(async () => { const h = (await window.confabTest.outbound()).find((o) => o.rid === "h"); return !!h && !h.active; })()`,
		"window.confabTest.outbound()")
	probe.SetLayer(wire.SetLayer{Track: track, Width: 1280, Height: 720})
	large := probe.WaitVideo(track, "the large layer", wait, func(v servertest.VideoStats) bool {
		return v.Width == 640 && v.Height == 480 && v.Frames >= small.Frames+30
	})
	t.Logf("large: %s", large.Summary())
	if large.SeqBreaks+large.TSBackwards+large.PictureIDBreaks > 0 {
		t.Errorf("the stream broke across the switch: %s", large.Summary())
	}
	var out []outbound
	if err := g.Eval(ctx, "window.confabTest.outbound()", &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("the page sends: %+v", out)
	sizes := map[string]int{}
	for _, o := range out {
		sizes[o.RID] = o.Width
	}
	if sizes["q"] != 320 || sizes["h"] != 640 || sizes["f"] != 0 {
		t.Errorf("layer widths sent %v, want q 320, h 640, f none", sizes)
	}
	var layers []wire.LayerChanged
	for _, lc := range probe.LayerMessages() {
		if lc.Track == track {
			layers = append(layers, lc)
		}
	}
	t.Logf("layer messages: %+v", layers)
	if n := len(layers); n < 2 || layers[n-1].Layer != "h" || layers[n-1].Width != 640 {
		t.Errorf("layer messages %+v, want h 640x480 last", layers)
	}

	// A publisher joins: the page answers an offer that repeats its RIDs
	// (a=simulcast:recv q;h;~f) and keeps sending its layers.
	pub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "Go", Camera: true, Mic: true,
		Media: &servertest.SynthMedia{StreamID: "go"}, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Leave()
	g.MustWait(t, wait, "the page answers the new offer and receives the Go camera", fmt.Sprintf(
		`(async () => { const s = (await window.confabTest.stats())[%q]; return !!s && s.videoFrames > 0 &&
			window.confabTest.localSDP().includes("a=simulcast:send q;h;"); })()`, pub.Self().ID), StateJS)
	after := probe.WaitVideo(track, "the page's layers after the new offer", wait, func(v servertest.VideoStats) bool {
		return v.Frames >= large.Frames+30
	})
	if after.SeqBreaks+after.TSBackwards+after.PictureIDBreaks > 0 {
		t.Errorf("the stream broke after the new offer: %s", after.Summary())
	}
	if st, err := g.State(ctx); err != nil || len(st.ProtocolViolations) > 0 {
		t.Errorf("page state: %v, violations %v", err, st.ProtocolViolations)
	}
}

// TestGuestAsksLayerByTileSize: the guest page receives a Go client's
// simulcast camera (160x120, 320x240, 640x480) and asks for it by the
// size of its tile: pinned large it gets the top layer, as a thumbnail
// next to a pinned tile the small one, and nothing while the page is
// hidden; each as the server's layer messages and the tile's data-layer
// tell.
func TestGuestAsksLayerByTileSize(t *testing.T) {
	b := Start(t, Options{})
	srv := servertest.Start(t)
	room := fmt.Sprintf("tiles-%d", rand.IntN(1e6))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pub, err := client.Join(ctx, client.Config{Server: srv.URL, Room: room, Name: "Go", Camera: true, Mic: true,
		Media: &servertest.SynthMedia{StreamID: "go", Layers: []servertest.SynthLayer{
			{Width: 160, Height: 120, Bitrate: 60_000}, {Width: 320, Height: 240, Bitrate: 150_000}, {Width: 640, Height: 480, Bitrate: 350_000}}},
		LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Leave()
	g, err := b.OpenGuest(ctx, srv.URL+"/r/"+room)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Join(ctx, "Chromium", room); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the page is in the call", `window.confabTest.state().phase === "call"`, StateJS)
	tile := fmt.Sprintf(`document.querySelector('#tiles .tile[data-key="cam:%s"]')`, pub.Self().ID)
	layerIs := func(what, want string) {
		t.Helper()
		g.MustWait(t, 60*time.Second, what, fmt.Sprintf(`(() => { const t = %s; return !!t && t.dataset.layer === %q; })()`, tile, want),
			fmt.Sprintf(`({layers: window.confabTest.layers(), tile: %s && %s.getBoundingClientRect().toJSON()})`, tile, tile))
	}
	// Pinned, the remote tile is large: the top layer.
	if err := g.Click(ctx, fmt.Sprintf(`#tiles .tile[data-key="cam:%s"]`, pub.Self().ID)); err != nil {
		t.Fatal(err)
	}
	layerIs("the pinned tile gets f", "f")
	// The own tile pinned instead: the remote one is a thumbnail.
	if err := g.Click(ctx, `#tiles .tile[data-key="self"]`); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "the thumbnail (176x112) gets q",
		fmt.Sprintf(`(() => { const t = %s; return !!t && t.dataset.layer === "q"; })()`, tile),
		fmt.Sprintf(`({layers: window.confabTest.layers(), tile: %s && %s.getBoundingClientRect().toJSON()})`, tile, tile))
	var size struct{ W, H float64 }
	if err := g.Eval(ctx, fmt.Sprintf(`(() => { const r = %s.querySelector("video").getBoundingClientRect(); return {W: r.width, H: r.height}; })()`, tile), &size); err != nil {
		t.Fatal(err)
	}
	var shown string
	_ = g.Eval(ctx, tile+".dataset.layer + ' ' + "+tile+".dataset.layerSize", &shown)
	t.Logf("thumbnail %.0fx%.0f CSS px gets %s", size.W, size.H, shown)
	// Hidden page: nothing.
	if err := g.Eval(ctx, `(() => { Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
		document.dispatchEvent(new Event("visibilitychange")); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	layerIs("a hidden page gets nothing", "")
	if err := g.Eval(ctx, `(() => { delete document.hidden; document.dispatchEvent(new Event("visibilitychange")); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	g.MustWait(t, 60*time.Second, "shown again, video comes back",
		fmt.Sprintf(`(() => { const t = %s; return !!t && t.dataset.layer !== ""; })()`, tile), `window.confabTest.layers()`)
	if st, err := g.State(ctx); err != nil || len(st.ProtocolViolations) > 0 {
		t.Errorf("page state: %v, violations %v", err, st.ProtocolViolations)
	}
}
