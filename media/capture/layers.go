package capture

import (
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media/vp8enc"
)

// Simulcast (PROTOCOL.md §5.3): a camera track encodes its one capture in
// up to three layers, a quarter ("q"), half ("h") and the full size ("f")
// of the camera image in each dimension, each with its own VP8 encoder per
// sender it is bound to. The layers share the track's bit rate (SetBitRate)
// as a browser shares its send budget: q about 15 %, h about 30 %, f the
// rest; when the budget is too small to carry the top layer usefully it is
// not sent at all (the server then moves its subscribers to a lower one),
// and it comes back, with a keyframe, when the budget has room again.

// The smallest layer a camera is sent in: no layer is narrower or lower
// than this, so a 640x480 camera has three layers, 320x240 two and a
// smaller one only its own size.
const (
	minLayerWidth  = 160
	minLayerHeight = 90
)

// layerRIDs are the layers' names from the top (full size) down.
var layerRIDs = [...]string{"f", "h", "q"}

// layerShare is each layer's part of the budget, by RID; the parts of the
// layers being sent are scaled to add up to the whole.
var layerShare = map[string]float64{"q": 0.15, "h": 0.30, "f": 0.55}

// layerBitsPerPixel is the least bit rate per pixel and second a layer
// needs to be worth sending: 0.65, so 200 kbit/s for 640x480 and 50 kbit/s
// for 320x240 (Chromium's simulcast table asks 150 kbit/s of 640x360).
// Below it the top layer is dropped. A dropped layer is taken up again
// only at layerResume times that, so that an estimate wandering around the
// line does not switch it on and off.
const (
	layerBitsPerPixel = 0.65
	layerResume       = 1.25
)

// layerMaxBitsPerPixel is the most bit rate per pixel and second a layer
// is given: 8, so about 150 kbit/s for 160x120 and 600 kbit/s for
// 320x240 (Chromium caps those layers at 150 and 500). More buys nothing
// that shows at that size; with the upper layers in standby, the part
// they leave is not sent.
const layerMaxBitsPerPixel = 8

// layerCount returns how many layers a camera of w x h is sent in.
func layerCount(w, h int) int {
	n := 1
	for div := 2; n < len(layerRIDs) && w/div >= minLayerWidth && h/div >= minLayerHeight; div *= 2 {
		n++
	}
	return n
}

// videoLayer is one simulcast layer of a camera track, as a
// webrtc.TrackLocal: binding it starts an encoder of the camera's frames
// scaled down by div. Its RID is "": the sender's encoding names the
// layer (the client's simulcast slots do), and pion would take a RID on a
// track it sends alone for simulcast.
type videoLayer struct {
	t   *VideoTrack
	rid string // "q", "h" or "f"
	div int    // 4, 2 or 1

	on   atomic.Bool  // sent; false while the budget cannot carry it
	rate atomic.Int64 // its part of the budget, bit/s
	// standby: the server said nobody receives it (SendLayers): not
	// encoded, and no part of the budget, until it is named again.
	standby atomic.Bool
}

// ID implements webrtc.TrackLocal: the camera's.
func (l *videoLayer) ID() string { return l.t.ID() }

// RID implements webrtc.TrackLocal (see videoLayer).
func (l *videoLayer) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: the camera's.
func (l *videoLayer) StreamID() string { return l.t.StreamID() }

// Kind implements webrtc.TrackLocal.
func (l *videoLayer) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// Bind implements webrtc.TrackLocal: it starts an encoder of this layer for
// the sender of ctx.
func (l *videoLayer) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return l.t.bind(ctx, l)
}

// Unbind implements webrtc.TrackLocal.
func (l *videoLayer) Unbind(ctx webrtc.TrackLocalContext) error { return l.t.Unbind(ctx) }

// size is the layer's frame size for a camera frame of w x h.
func (l *videoLayer) size(w, h int) (int, int) { return max(1, w/l.div), max(1, h/l.div) }

// maxRate is the most bit rate the layer is given, for a camera of w x h.
func (l *videoLayer) maxRate(w, h int) int {
	lw, lh := l.size(w, h)
	return max(vp8enc.MinBitRate, layerMaxBitsPerPixel*lw*lh)
}

// minRate is the least bit rate the layer is worth sending at, for a
// camera of w x h.
func (l *videoLayer) minRate(w, h int) int {
	lw, lh := l.size(w, h)
	return max(vp8enc.MinBitRate, int(layerBitsPerPixel*float64(lw*lh)))
}

// splitRates shares total among the layers bound, lowest first, for a
// camera of w x h: the most layers from the bottom up whose every part
// reaches its layer's minimum (layerResume times it for a layer not being
// sent now), each part its layer's share of the total, at most its
// maxRate. It returns each layer's rate, 0 for one not to be sent. The
// lowest layer is always sent.
func splitRates(total int, bound []*videoLayer, w, h int) []int {
	rates := make([]int, len(bound))
	for n := len(bound); n >= 1; n-- {
		sum := 0.0
		for _, l := range bound[:n] {
			sum += layerShare[l.rid]
		}
		fits := true
		for i, l := range bound[:n] {
			rates[i] = max(vp8enc.MinBitRate, int(float64(total)*layerShare[l.rid]/sum))
			need := float64(l.minRate(w, h))
			if !l.on.Load() {
				need *= layerResume
			}
			if n > 1 && float64(rates[i]) < need {
				fits = false
			}
		}
		if fits {
			for i := range bound[:n] {
				rates[i] = min(rates[i], bound[i].maxRate(w, h))
			}
			for i := n; i < len(bound); i++ {
				rates[i] = 0
			}
			return rates
		}
	}
	return rates
}
