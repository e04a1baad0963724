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

// subscribe adds t to p's PeerConnection. The caller holds the room lock
// and calls p.negotiate after releasing it.
func (p *peer) subscribe(t *sfu.Track) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if _, ok := p.subs[t.ID]; ok || p.pc == nil {
		return
	}
	sender, err := p.pc.AddTrack(t.Local)
	if err != nil {
		p.log.Warn("subscribe", "track", t.ID, "err", err)
		return
	}
	p.subs[t.ID] = &subscription{track: t, sender: sender}
	p.fresh = append(p.fresh, t)
	go t.RelayFeedback(sender)
}

// unsubscribe removes a forwarded track; it reports whether p had it.
func (p *peer) unsubscribe(trackID string) bool {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	sub, ok := p.subs[trackID]
	if !ok {
		return false
	}
	delete(p.subs, trackID)
	if err := p.pc.RemoveTrack(sub.sender); err != nil {
		p.log.Debug("unsubscribe", "track", trackID, "err", err)
	}
	return true
}

// negotiate sends a new offer when none is outstanding, or remembers that
// one is needed once the outstanding offer is answered. The server is the
// only offerer, so offers never cross (no glare).
func (p *peer) negotiate() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if !p.ready || p.pc == nil || p.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		return
	}
	if p.awaiting {
		p.pending = true
		return
	}
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.log.Error("offer", "err", err)
		go p.fail(wire.CodeInternal, "the media connection could not be negotiated")
		return
	}
	select {
	case <-webrtc.GatheringCompletePromise(p.pc):
	case <-time.After(gatherWait):
		p.log.Warn("ICE gathering did not complete; sending the candidates found so far")
	case <-p.done:
		return
	}
	msg := wire.Offer{SDP: p.pc.LocalDescription().SDP, Publish: map[string]string{}, Tracks: map[string]wire.TrackRef{}}
	for src, tr := range p.publishTr {
		if mid := tr.Mid(); mid != "" {
			msg.Publish[mid] = src
		}
	}
	for _, tr := range p.pc.GetTransceivers() {
		s := tr.Sender()
		if s == nil || s.Track() == nil || tr.Mid() == "" {
			continue
		}
		if sub := p.subs[s.Track().ID()]; sub != nil {
			msg.Tracks[tr.Mid()] = wire.TrackRef{Participant: sub.track.Publisher, Source: sub.track.Source}
		}
	}
	p.awaiting = true
	p.sendMsg(wire.TypeOffer, msg)
}

// handleAnswer applies the client's answer, asks for keyframes for the
// tracks it just started receiving, and sends the next offer if one waits.
func (p *peer) handleAnswer(a wire.Answer) {
	p.negMu.Lock()
	if !p.awaiting {
		p.negMu.Unlock()
		p.sendError(wire.CodeBadMessage, "no offer is waiting for an answer", "")
		return
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP}); err != nil {
		// The offer stays open: a client that sent a broken answer may
		// still send a good one.
		p.negMu.Unlock()
		p.log.Warn("answer refused", "err", err)
		p.sendError(wire.CodeBadMessage, "the answer was not accepted: "+err.Error(), "")
		return
	}
	p.awaiting = false
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
