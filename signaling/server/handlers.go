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

// handleChat stores a message and sends it to the room. A resend of an id
// the sender used before is stored once and answered to the sender alone.
func (p *peer) handleChat(c wire.ChatSend) {
	if !p.grants.Chat {
		p.sendError(wire.CodePermissionDenied, "the token does not allow chat", c.ID)
		return
	}
	if !p.chat.Allow() {
		p.sendError(wire.CodeRateLimited, "too many chat messages; slow down", c.ID)
		return
	}
	r := p.room
	ctx, cancel := p.s.ctx()
	defer cancel()
	r.mu.Lock()
	stored, dup, err := p.s.cfg.Store.AppendChat(ctx, store.ChatMessage{
		Room: r.name, ID: c.ID, From: p.id, Name: p.name, Text: c.Text, At: p.s.cfg.Now(),
	})
	if err != nil {
		r.mu.Unlock()
		p.log.Error("chat store", "err", err)
		p.sendError(wire.CodeInternal, "the message could not be stored", c.ID)
		return
	}
	ev := wire.ChatEvent{Message: toWire([]store.ChatMessage{stored})[0]}
	if dup {
		p.sendMsg(wire.TypeChat, ev)
	} else {
		r.broadcastLocked(nil, wire.TypeChat, ev)
	}
	r.mu.Unlock()
	if !dup {
		p.s.metrics.chats.Add(1)
		r.event(p.id, "chat", c.ID)
	}
}

// handleHistory answers a request for older chat messages.
func (p *peer) handleHistory(h wire.HistoryRequest) {
	limit := h.Limit
	if limit == 0 {
		limit = wire.HistoryPage
	}
	ctx, cancel := p.s.ctx()
	defer cancel()
	msgs, more, err := p.s.cfg.Store.ChatHistory(ctx, p.room.name, h.Before, limit)
	if err != nil {
		p.log.Error("chat history", "err", err)
		p.sendError(wire.CodeInternal, "history could not be read", h.Req)
		return
	}
	p.sendMsg(wire.TypeHistory, wire.History{Req: h.Req, Messages: toWire(msgs), More: more})
}
