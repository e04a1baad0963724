package server

import (
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/wire"
)

// sourceEvents names the meeting events for turning a source on and off.
var sourceEvents = map[string][2]string{
	wire.SourceMicrophone: {"mic_mute", "mic_unmute"},
	wire.SourceCamera:     {"camera_off", "camera_on"},
	wire.SourceScreen:     {"screen_stop", "screen_start"},
}

// handleSetSource records a mic, camera or screen change and tells the
// room. The first screen share adds an m-line for it and renegotiates.
func (p *peer) handleSetSource(ss wire.SetSource) {
	if ss.Enabled && !p.grants.Publish {
		p.sendError(wire.CodePermissionDenied, "the token does not allow publishing", ss.Source)
		return
	}
	r := p.room
	r.mu.Lock()
	field := map[string]*bool{wire.SourceMicrophone: &p.mic, wire.SourceCamera: &p.camera, wire.SourceScreen: &p.screen}[ss.Source]
	changed := *field != ss.Enabled
	*field = ss.Enabled
	r.broadcastLocked(nil, wire.TypeParticipantUpdated, wire.ParticipantEvent{Participant: p.stateLocked()})
	r.mu.Unlock()
	if changed {
		kind := sourceEvents[ss.Source][0]
		if ss.Enabled {
			kind = sourceEvents[ss.Source][1]
		}
		r.event(p.id, kind, "")
	}
	if ss.Source == wire.SourceCamera && ss.Enabled {
		p.standbyReset.Store(true) // a new camera sends every layer: say again which
	}
	if ss.Source != wire.SourceScreen || !ss.Enabled {
		return
	}
	p.negMu.Lock()
	added := false
	if p.publishTr[wire.SourceScreen] == nil {
		tr, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			p.negMu.Unlock()
			p.sendError(wire.CodeInternal, "screen sharing could not be set up", ss.Source)
			return
		}
		p.publishTr[wire.SourceScreen] = tr
		added = true
	}
	p.negMu.Unlock()
	if added {
		p.negotiate()
	}
}

// handleChat queues a message for the store writer, which stores it and
// sends it to the room (a resend of an id the sender used before is stored
// once and answered to the sender alone). A message the writer cannot take
// now is refused with overloaded rather than queued without bound.
func (p *peer) handleChat(c wire.ChatSend) {
	if !p.grants.Chat {
		p.sendError(wire.CodePermissionDenied, "the token does not allow chat", c.ID)
		return
	}
	if !p.limits.chat.Allow() {
		p.s.metrics.rateLimited.Add(1)
		p.sendError(wire.CodeRateLimited, "too many chat messages; slow down", c.ID)
		return
	}
	m := store.ChatMessage{Room: p.room.name, ID: c.ID, From: p.id, Name: p.name, Text: c.Text, At: p.s.cfg.Now()}
	p.room.inflight.Add(1)
	if !p.s.writer.chat(p.room, p, m) {
		p.room.inflight.Add(-1)
		p.s.metrics.overloaded.Add(1)
		p.sendError(wire.CodeOverloaded, "the server is busy and did not store the message; send it again shortly", c.ID)
	}
}

// handleHistory answers a request for a page of stored chat: after h.After
// (paging forward) or before h.Before (paging back). It reads through the
// store's read connections and takes no lock.
func (p *peer) handleHistory(h wire.HistoryRequest) {
	limit := h.Limit
	if limit == 0 {
		limit = wire.HistoryPage
	}
	ctx, cancel := p.s.ctx()
	defer cancel()
	var (
		msgs []store.ChatMessage
		more bool
		err  error
	)
	if h.After > 0 {
		msgs, more, err = p.s.cfg.Store.ChatAfter(ctx, p.room.name, h.After, limit)
	} else {
		msgs, more, err = p.s.cfg.Store.ChatHistory(ctx, p.room.name, h.Before, limit)
	}
	if err != nil {
		p.log.Error("chat history", "err", err)
		p.sendError(wire.CodeInternal, "history could not be read", h.Req)
		return
	}
	p.sendMsg(wire.TypeHistory, wire.History{Req: h.Req, Messages: toWire(msgs), More: more})
}
