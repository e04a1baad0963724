package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// Simulcast in a room (PROTOCOL.md §5.3): the layers a participant
// publishes arrive one by one (receiveLayer), and what each subscriber
// gets of them is decided by its allocator (allocate) from its set_layer
// requests (handleSetLayer) and its bandwidth estimate. The SDP side is in
// simulcastsdp.go.

// layerName is the RID of layer index i, "" for none.
func layerName(i int) string {
	if i < 0 || i >= sfu.MaxLayers {
		return ""
	}
	return sfu.LayerRIDs[i]
}

// preference turns a set_layer request into what the allocator uses.
func preference(sl wire.SetLayer) sfu.Preference {
	pref := sfu.Preference{MaxLayer: -1, Width: sl.Width, Height: sl.Height, Paused: sl.Paused}
	if sl.Layer != "" {
		pref.MaxLayer = sfu.LayerIndex(sl.Layer)
	}
	return pref
}

// estimate is the bandwidth estimate from the server to p, in bits per
// second.
func (p *peer) estimate() int {
	if p.bwe == nil {
		return sfu.InitialEstimate
	}
	return p.bwe.GetTargetBitrate()
}

// allocate re-decides the layers p receives every allocTick, and tells p
// what its video may take every second, until p's connection ends;
// relays counts it.
func (p *peer) allocate() {
	defer p.relays.Done()
	t := time.NewTicker(allocTick)
	defer t.Stop()
	var told map[string]toldLayers
	if p.standbyLayers {
		told = map[string]toldLayers{}
	}
	for n := 0; ; n++ {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			p.alloc.Tick(now)
			if told != nil {
				p.tellLayers(told, now)
			}
			if n%2 == 1 {
				p.sendREMB() // once a second (remb.go)
			}
		}
	}
}

// receiveLayer forwards one simulcast layer that arrived on a publish
// m-line: the first layer of a track starts the track (and publishes
// it), the others join it; the track ends with its last layer.
func (p *peer) receiveLayer(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, source string) {
	var (
		t       *sfu.Track
		l       *sfu.Layer
		created bool
	)
	for {
		p.negMu.Lock()
		t = p.simTracks[receiver]
		if t == nil {
			t = sfu.NewSimulcastTrack(p.pc, remote.Kind(), receiver, wire.TrackID(p.id, source), p.id, source, &p.s.metrics.sfu, sfu.WithBatcher(p.s.engine))
			p.simTracks[receiver] = t
			created = true
		}
		var err error
		l, err = t.AddLayer(remote)
		if errors.Is(err, sfu.ErrTrackEnded) {
			delete(p.simTracks, receiver) // a new track starts
			p.negMu.Unlock()
			continue
		}
		p.negMu.Unlock()
		if err != nil {
			p.log.Warn("simulcast layer refused", "rid", remote.RID(), "err", err)
			drain(remote)
			return
		}
		break
	}
	p.log.Debug("simulcast layer", "track", t.ID, "rid", remote.RID(), "ssrc", uint32(remote.SSRC()))
	if created {
		p.room.publish(p, t)
	}
	last, err := t.ForwardLayer(l)
	if err != nil {
		p.log.Debug("forwarding ended", "track", t.ID, "rid", remote.RID(), "err", err)
	}
	if last {
		p.negMu.Lock()
		if p.simTracks[receiver] == t {
			delete(p.simTracks, receiver)
		}
		p.negMu.Unlock()
		p.room.unpublish(p, t)
	}
}

// sendLayer sends a layer message (PROTOCOL.md §5.2), or, before joined
// was sent, keeps it to send right after: joined is the first message a
// client gets. It runs on forwarding goroutines and does not block.
func (p *peer) sendLayer(lc wire.LayerChanged) {
	p.layerMu.Lock()
	defer p.layerMu.Unlock()
	if !p.welcomed {
		if p.heldLayers == nil {
			p.heldLayers = map[string]wire.LayerChanged{}
		}
		p.heldLayers[lc.Track] = lc
		return
	}
	p.sendMsg(wire.TypeLayer, lc)
}

// welcome is called once joined has been queued: the layer messages held
// meanwhile follow it.
func (p *peer) welcome() {
	p.layerMu.Lock()
	defer p.layerMu.Unlock()
	p.welcomed = true
	for _, lc := range p.heldLayers {
		p.sendMsg(wire.TypeLayer, lc)
	}
	p.heldLayers = nil
}

// drain reads remote until it ends.
func drain(remote *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := remote.Read(buf); err != nil {
			return
		}
	}
}

// handleSetLayer records what p wants of one video track (wire.SetLayer)
// and applies it to the track's down track (simulcast) or gate (not
// simulcast: paused or not), if p receives the track now.
// The preference is kept for the track id, also while the track is not
// there, until p sends the default for it (a set_layer with only track).
func (p *peer) handleSetLayer(sl wire.SetLayer) {
	pref := preference(sl)
	p.negMu.Lock()
	if _, had := p.prefs[sl.Track]; !had && pref != sfu.DefaultPreference && len(p.prefs) >= wire.MaxLayerPrefs {
		p.negMu.Unlock()
		p.sendError(wire.CodeBadMessage, fmt.Sprintf(
			"bad message: set_layer: layer preferences are kept for at most %d tracks; send set_layer with only the track to drop one", wire.MaxLayerPrefs), "")
		return
	}
	if pref == sfu.DefaultPreference {
		delete(p.prefs, sl.Track)
	} else {
		p.prefs[sl.Track] = pref
	}
	var down *sfu.DownTrack
	var gate *sfu.Gate
	var track *sfu.Track
	if sub := p.subs[sl.Track]; sub != nil {
		down, gate, track = sub.down, sub.gate, sub.track
	}
	p.negMu.Unlock()
	switch {
	case down != nil:
		p.alloc.SetPreference(down, pref)
	case gate != nil:
		// A track that is not simulcast comes whole; only paused
		// applies. Paused, it takes nothing off the estimate.
		gate.SetPaused(pref.Paused)
		if pref.Paused {
			p.alloc.Remove(nil, track)
		} else {
			p.alloc.AddFixed(track)
		}
	}
}
