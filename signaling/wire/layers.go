package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Simulcast layers (PROTOCOL.md §5.3). A publisher may send its camera in
// up to three layers on one m-line, each an RTP stream with its own RID
// (RFC 8851, RFC 8853); a subscriber gets one layer of each such track,
// chosen from what it asked for with SetLayer and from its bandwidth.

// The RIDs of the layers, lowest first: LayerQ is a quarter of the full
// size in each dimension, LayerH half, LayerF full.
const (
	LayerQ = "q"
	LayerH = "h"
	LayerF = "f"
)

// Layers lists the layer RIDs, lowest first.
var Layers = []string{LayerQ, LayerH, LayerF}

// Limits of SetLayer.
const (
	// MaxVideoSize bounds SetLayer's width and height, in pixels.
	MaxVideoSize = 16384
	// MaxLayerPrefs is the most tracks one connection may hold a
	// preference for at once (a SetLayer with only Track drops one).
	MaxLayerPrefs = 256
)

// ErrBadLayer reports a SetLayer the server cannot use.
var ErrBadLayer = errors.New("bad layer request")

// SetLayer says which layer of one video track the sender wants to
// receive. Give at most one of Layer, Width/Height and Paused; with none,
// the server goes back to its default: the highest layer the sender's
// bandwidth allows.
type SetLayer struct {
	// Track is the track's id, "<source>:<participant id>" (wire.TrackID).
	Track string `json:"track"`
	// Layer asks for at most this layer: "q", "h" or "f".
	Layer string `json:"layer,omitempty"`
	// Width and Height are the size, in device pixels, the video is shown
	// at: the server sends the smallest layer at least this wide or at
	// least this tall (0: no limit in that dimension).
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Paused asks for nothing at all on this track (a hidden tile).
	Paused bool `json:"paused,omitempty"`
}

// Validate checks a SetLayer.
func (s *SetLayer) Validate() error {
	if s.Track == "" {
		return fmt.Errorf("track: %w", ErrEmpty)
	}
	source, who, ok := strings.Cut(s.Track, ":")
	if !ok || !ValidSource(source) || ValidateName("track", who) != nil {
		return fmt.Errorf("track %+q: %w: not \"<source>:<participant id>\"", truncate(s.Track, 80), ErrBadLayer)
	}
	if source == SourceMicrophone {
		return fmt.Errorf("track %+q: %w: only video tracks have layers", truncate(s.Track, 80), ErrBadLayer)
	}
	if s.Layer != "" && s.Layer != LayerQ && s.Layer != LayerH && s.Layer != LayerF {
		return fmt.Errorf("layer %+q: %w: not q, h or f", truncate(s.Layer, 16), ErrBadLayer)
	}
	if s.Width < 0 || s.Height < 0 || s.Width > MaxVideoSize || s.Height > MaxVideoSize {
		return fmt.Errorf("%w: width and height must be 0..%d", ErrBadLayer, MaxVideoSize)
	}
	modes := 0
	if s.Layer != "" {
		modes++
	}
	if s.Width > 0 || s.Height > 0 {
		modes++
	}
	if s.Paused {
		modes++
	}
	if modes > 1 {
		return fmt.Errorf("%w: give only one of layer, width/height and paused", ErrBadLayer)
	}
	return nil
}

// LayerChanged tells a subscriber which layer of a simulcast track it now
// receives: after every switch (made at a keyframe of the new layer) and
// when sending stops because it paused the track.
type LayerChanged struct {
	Track string `json:"track"`
	// Layer is "q", "h" or "f"; "" when nothing is sent on the track
	// (the subscriber paused it).
	Layer string `json:"layer"`
	// Width and Height are the layer's size from its latest keyframe;
	// absent until the server has seen one.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
}

// PublishLayers tells a publisher that joined with StandbyLayers which
// layers of one of its simulcast tracks to send: someone receives them,
// or may at any moment. It may stop sending the others until a later
// PublishLayers names them again; then it sends them again, starting with
// a keyframe.
type PublishLayers struct {
	Track string `json:"track"`
	// Layers are RIDs, lowest first. A layer the publisher does not send
	// may be named: that means nothing.
	Layers []string `json:"layers"`
}
