package server

import (
	"slices"
	"time"

	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// Standby layers (PROTOCOL.md §5.3 publish_layers): a publisher that
// joined with standby_layers is told which layers of its simulcast camera
// someone receives, and may stop encoding and sending the others.

// toldLayers is what a publisher was last told of one track.
type toldLayers struct {
	t    *sfu.Track
	bits uint32 // layers to send, bits by layer index
}

// allLayers has every layer's bit.
const allLayers = 1<<sfu.MaxLayers - 1

// tellLayers sends p a publish_layers message for each of its simulcast
// tracks whose needed layers changed since it was last told (every new
// track, and every track after p's camera came on, are told once
// whatever they need), and puts the layers it may stop in standby. told
// belongs to allocate, the only caller.
func (p *peer) tellLayers(told map[string]toldLayers, now time.Time) {
	if p.standbyReset.Swap(false) {
		clear(told)
	}
	p.negMu.Lock()
	tracks := make([]*sfu.Track, 0, len(p.simTracks))
	for _, t := range p.simTracks {
		tracks = append(tracks, t)
	}
	p.negMu.Unlock()
	for _, t := range tracks {
		need := t.NeededLayers(now)
		if was, ok := told[t.ID]; ok && was.t == t && was.bits == need {
			continue
		}
		told[t.ID] = toldLayers{t: t, bits: need}
		t.SetStandby(allLayers&^need, now)
		msg := wire.PublishLayers{Track: t.ID, Layers: []string{}}
		for i, rid := range sfu.LayerRIDs {
			if need&(1<<i) != 0 {
				msg.Layers = append(msg.Layers, rid)
			}
		}
		p.log.Debug("publish layers", "track", t.ID, "layers", msg.Layers)
		p.sendMsg(wire.TypePublishLayers, msg)
	}
	for id, was := range told {
		if !slices.Contains(tracks, was.t) {
			delete(told, id)
		}
	}
}
