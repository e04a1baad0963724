package client

import (
	"fmt"
	"slices"
	"strings"

	"github.com/confab/confab/signaling/wire"
)

// Standby layers (PROTOCOL.md §5.3 publish_layers): the session joins
// with standby_layers, and the server tells it which layers of its camera
// someone receives. A camera that is a StandbyTrack stops encoding the
// others until they are named again.

// StandbyTrack is a SimulcastTrack that can stop and start its layers one
// by one.
type StandbyTrack interface {
	SimulcastTrack
	// SendLayers says which layers to send, by RID ("q", "h", "f"); the
	// others are neither encoded nor sent until a later call names them,
	// and then start again with a keyframe. It does not block.
	SendLayers(rids []string)
}

// publishLayersArrived applies a publish_layers message to the camera and
// keeps it for a camera opened later (the server says it again once the
// camera is on, set_source).
func (s *Session) publishLayersArrived(env wire.Envelope) error {
	var pl wire.PublishLayers
	if err := wire.DecodeData(env, &pl); err != nil {
		return err
	}
	source, pid, ok := strings.Cut(pl.Track, ":")
	if !ok || source != wire.SourceCamera {
		return fmt.Errorf("%w: publish_layers for track %q", ErrProtocol, pl.Track)
	}
	var rids []string
	for _, r := range pl.Layers {
		if slices.Contains(wire.Layers, r) && !slices.Contains(rids, r) {
			rids = append(rids, r)
		}
	}
	s.mu.Lock()
	if pid != s.self.ID {
		s.mu.Unlock()
		return fmt.Errorf("%w: publish_layers for another participant's track %q", ErrProtocol, pl.Track)
	}
	s.sendLayers = rids
	t := s.local[source]
	s.mu.Unlock()
	sendLayersTo(t, rids)
	s.log.Debug("publish layers", "layers", rids)
	return nil
}

// sendLayersTo tells t, when it is a StandbyTrack, which layers to send:
// rids, or every layer for nil (the server has said nothing).
func sendLayersTo(t LocalTrack, rids []string) {
	st, ok := t.(StandbyTrack)
	if !ok {
		return
	}
	if rids == nil {
		rids = wire.Layers
	}
	st.SendLayers(rids)
}

// sendEveryLayer has the camera send every layer again, for a new
// connection: its server has said nothing yet.
func (s *Session) sendEveryLayer() {
	s.mu.Lock()
	s.sendLayers = nil
	t := s.local[wire.SourceCamera]
	s.mu.Unlock()
	sendLayersTo(t, nil)
}
