package server

import (
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// gatherWait bounds the wait for ICE gathering before an offer is sent.
// Candidates are sent inside the SDP (no trickle); with the shared UDP port
// and no STUN, gathering is immediate.
const gatherWait = 5 * time.Second

// subscribe adds t to p's PeerConnection on a new sendonly transceiver of
// the server's own. It never uses a publish m-line, so the client receives
// every forwarded track on an m-line that is sendonly on the server's side
// and named in the offer's tracks map. An m-line whose track ended is not
// reused: pion, as the client, stops a transceiver that an offer makes
// inactive and, when the same mid came back with another track, did not
// always start receiving it (video was lost in about half the runs of
// TestLiteralClientGetsEveryParticipant). The caller holds the room lock
// and calls p.negotiate after releasing it.
func (p *peer) subscribe(t *sfu.Track) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if _, ok := p.subs[t.ID]; ok || p.pc == nil || p.closing {
		return
	}
	var local webrtc.TrackLocal = t.Local
	var down *sfu.DownTrack
	var gate *sfu.Gate
	pref, hasPref := p.prefs[t.ID]
	if !hasPref {
		pref = sfu.DefaultPreference
	}
	switch {
	case !t.Simulcast && t.Kind == webrtc.RTPCodecTypeVideo:
		// Whole, but pausable (set_layer paused).
		gate = sfu.NewGate(t)
		gate.SetPaused(pref.Paused)
		local = gate
	case t.Simulcast:
		id := t.ID
		var err error
		down, err = t.NewDownTrack(func(layer, w, h int) {
			p.log.Debug("layer", "track", id, "layer", layerName(layer), "width", w, "height", h, "estimate", p.estimate())
			p.sendLayer(wire.LayerChanged{Track: id, Layer: layerName(layer), Width: w, Height: h})
		})
		if err != nil {
			p.log.Warn("subscribe", "track", t.ID, "err", err)
			return
		}
		local = down.Local
	}
	tr, err := p.pc.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		if down != nil {
			down.Close()
		}
		p.log.Warn("subscribe", "track", t.ID, "err", err)
		return
	}
	sub := &subscription{track: t, down: down, gate: gate, tr: tr, sender: tr.Sender()}
	p.subs[t.ID] = sub
	p.fresh = append(p.fresh, t)
	switch {
	case down != nil:
		p.alloc.Add(down, pref)
	case !pref.Paused || gate == nil:
		p.alloc.AddFixed(t)
	}
	p.relays.Add(1)
	go func() {
		defer p.relays.Done()
		if down != nil {
			down.RelayFeedback(sub.sender)
			return
		}
		t.RelayFeedback(sub.sender)
	}()
}

// unsubscribe removes a forwarded track; it reports whether p had it. Its
// m-line stays in later offers, inactive.
func (p *peer) unsubscribe(trackID string) bool {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	sub, ok := p.subs[trackID]
	if !ok {
		return false
	}
	delete(p.subs, trackID)
	p.alloc.Remove(sub.down, sub.track)
	if sub.down != nil {
		sub.down.Close()
	}
	if err := p.pc.RemoveTrack(sub.sender); err != nil {
		p.log.Debug("unsubscribe", "track", trackID, "err", err)
	}
	return true
}

// negotiate sends a new offer when none is outstanding, or remembers that
// one is needed once the outstanding offer is answered. The server is the
// only offerer, so offers never cross (no glare). p.negMu is not held
// while ICE gathering completes.
func (p *peer) negotiate() {
	p.negMu.Lock()
	if !p.ready || p.pc == nil || p.closing || p.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		p.negMu.Unlock()
		return
	}
	if p.awaiting {
		p.pending = true
		p.negMu.Unlock()
		return
	}
	var opts *webrtc.OfferOptions
	if p.iceRestart {
		opts = &webrtc.OfferOptions{ICERestart: true}
		p.iceRestart = false
		p.s.metrics.iceRestarts.Add(1)
	}
	offer, err := p.pc.CreateOffer(opts)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.negMu.Unlock()
		p.log.Error("offer", "err", err)
		p.fail(wire.CodeInternal, "the media connection could not be negotiated")
		return
	}
	// Mids are assigned by CreateOffer: name them now, while the
	// transceivers are as this offer shows them.
	msg := wire.Offer{Publish: map[string]string{}, Tracks: map[string]wire.TrackRef{}}
	for src, tr := range p.publishTr {
		if mid := tr.Mid(); mid != "" {
			msg.Publish[mid] = src
		}
	}
	for _, sub := range p.subs {
		if mid := sub.tr.Mid(); mid != "" {
			msg.Tracks[mid] = wire.TrackRef{Participant: sub.track.Publisher, Source: sub.track.Source}
		}
	}
	p.awaiting = true
	gathered := webrtc.GatheringCompletePromise(p.pc)
	p.negMu.Unlock()

	select {
	case <-gathered:
	case <-time.After(gatherWait):
		p.log.Warn("ICE gathering did not complete; sending the candidates found so far")
	case <-p.done:
		return
	}
	p.negMu.Lock()
	msg.SDP = p.pc.LocalDescription().SDP
	if cam := p.publishTr[wire.SourceCamera]; cam != nil && p.camSimulcast && cam.Mid() != "" {
		msg.SDP = offerSimulcast(msg.SDP, cam.Mid())
	}
	p.offerSDP = msg.SDP
	p.negMu.Unlock()
	p.sendMsg(wire.TypeOffer, msg)
}

// handleAnswer checks the client's answer against the outstanding offer
// and applies it, asks for keyframes for the tracks it just started
// receiving, and sends the next offer if one waits. A broken answer leaves
// the offer open for a correct one.
func (p *peer) handleAnswer(a wire.Answer) {
	p.negMu.Lock()
	if !p.awaiting || p.offerSDP == "" {
		p.negMu.Unlock()
		p.sendError(wire.CodeBadMessage, "no offer is waiting for an answer", "")
		return
	}
	answerSDP, sends, err := checkSimulcast(p.offerSDP, a.SDP)
	if err == nil {
		err = checkAnswer(p.offerSDP, answerSDP)
	}
	if err != nil {
		p.negMu.Unlock()
		p.log.Info("answer refused", "err", err)
		p.sendError(wire.CodeBadMessage, "the answer was not accepted: "+err.Error(), "")
		return
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answerSDP}); err != nil {
		p.log.Warn("answer refused", "err", err)
		if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			// The offer is still open: a good answer may follow.
			p.negMu.Unlock()
			p.sendError(wire.CodeBadMessage, "the answer was not accepted: "+err.Error(), "")
			return
		}
		// pion has moved past the offer: start over with a new one.
		p.awaiting, p.offerSDP = false, ""
		p.negMu.Unlock()
		p.sendError(wire.CodeBadMessage, "the answer was not accepted ("+err.Error()+"); a new offer follows", "")
		p.negotiate()
		return
	}
	if cam := p.publishTr[wire.SourceCamera]; cam != nil && sends[cam.Mid()] == "sendonly" {
		// The camera is sent without simulcast: keep it that way (pion
		// cannot turn a running receiver into a simulcast one).
		p.camSimulcast = false
	}
	p.awaiting, p.offerSDP = false, ""
	fresh, pending := p.fresh, p.pending
	p.fresh, p.pending = nil, false
	p.negMu.Unlock()
	if p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		p.requestKeyframes(fresh)
	}
	if pending {
		p.negotiate()
	}
}
