package client

import (
	"fmt"
	"strings"
	"sync"

	"github.com/confab/confab/signaling/wire"
)

// Receiving simulcast (PROTOCOL.md §5.1 set_layer, §5.2 layer): each
// remote video is received in the layer its tile needs. Publishing:
// simulcast.go.

// VideoRequest is what a tile asks of one remote video (the set_layer
// message, PROTOCOL.md §5.1): at most one of the fields is set; none asks
// for the server's default, the highest layer the bandwidth allows.
type VideoRequest struct {
	// Width and Height are the size in pixels the video is shown at:
	// the server sends the smallest layer at least this wide or tall.
	Width, Height int
	// Layer caps the layer: "q", "h" or "f" (wire.LayerQ...).
	Layer string
	// Paused asks for nothing: the tile is hidden.
	Paused bool
}

// layerPrefs are the requests made of remote videos, kept to send again
// after a rejoin (the server forgets them with the connection).
type layerPrefs struct {
	mu   sync.Mutex
	reqs map[string]wire.SetLayer // by track id
}

// RequestVideo tells the server what participant's source video is
// wanted for: the size of its tile, a layer, or nothing (hidden). Tracks
// that are not simulcast (a screen share) come whole, or not at all while
// paused. The request holds for the track id until changed, also
// across the participant leaving and coming back and across rejoins.
func (s *Session) RequestVideo(participantID, source string, r VideoRequest) error {
	sl := wire.SetLayer{Track: wire.TrackID(participantID, source), Layer: r.Layer, Width: r.Width, Height: r.Height, Paused: r.Paused}
	if err := sl.Validate(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	s.layers.mu.Lock()
	if s.layers.reqs == nil {
		s.layers.reqs = map[string]wire.SetLayer{}
	}
	def := sl == wire.SetLayer{Track: sl.Track}
	old, had := s.layers.reqs[sl.Track]
	switch {
	case had && old == sl, !had && def:
		s.layers.mu.Unlock()
		return nil // nothing changes
	case def:
		delete(s.layers.reqs, sl.Track)
	case !had && len(s.layers.reqs) >= wire.MaxLayerPrefs:
		s.layers.mu.Unlock()
		return fmt.Errorf("client: %w: requests are kept for at most %d videos", wire.ErrBadLayer, wire.MaxLayerPrefs)
	default:
		s.layers.reqs[sl.Track] = sl
	}
	s.layers.mu.Unlock()
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.sendMsg(wire.TypeSetLayer, sl)
	}
	return nil
}

// resendLayers sends the video requests again on a new connection.
func (s *Session) resendLayers(c *conn) {
	s.layers.mu.Lock()
	reqs := make([]wire.SetLayer, 0, len(s.layers.reqs))
	for _, r := range s.layers.reqs {
		reqs = append(reqs, r)
	}
	s.layers.mu.Unlock()
	for _, r := range reqs {
		c.sendMsg(wire.TypeSetLayer, r)
	}
}

// VideoLayerChanged reports which layer of a remote simulcast video now
// arrives (Layer "" when none: paused, or none arrives from its sender),
// with its size when the server knows it.
type VideoLayerChanged struct {
	ParticipantID string
	Source        string
	Layer         string
	Width, Height int
}

func (VideoLayerChanged) event() {}

// layerArrived reports a layer message.
func (s *Session) layerArrived(env wire.Envelope) error {
	var lc wire.LayerChanged
	if err := wire.DecodeData(env, &lc); err != nil {
		return err
	}
	source, pid, ok := strings.Cut(lc.Track, ":")
	if !ok {
		return fmt.Errorf("%w: layer for track %q", ErrProtocol, lc.Track)
	}
	s.events.push(VideoLayerChanged{ParticipantID: pid, Source: source, Layer: lc.Layer, Width: lc.Width, Height: lc.Height})
	return nil
}
