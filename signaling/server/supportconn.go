package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
	"github.com/confab/confab/signaling/wire"
)

// Support connection timing and sizes.
const (
	closeGoingAway    = websocket.CloseGoingAway
	supportSendQueue  = 256
	supportSilence    = 45 * time.Second
	supportFirstWait  = 10 * time.Second
	supportMsgRate    = 10
	supportMsgBurst   = 20
	supportResumePage = store.MaxChatPage
)

// supportConn is one customer's or agent's websocket: one reader and one
// writer goroutine, a bounded send queue; a client that cannot keep up is
// dropped. agent is set for an agent, conv for a customer, by the reader
// before the connection is registered.
type supportConn struct {
	jsonSocket
	h    *supportHub
	addr string
	lim  *rate.Limiter

	agent store.Agent
	conv  string
	// timedOut says the last read ended at its deadline (reader only).
	timedOut bool
}

// serveWS upgrades a customer's (/api/support/ws) or an agent's
// (/api/agent/ws) websocket. An address with no wrong keys left is
// refused with 429 before the upgrade.
func (h *supportHub) serveWS(w http.ResponseWriter, r *http.Request, agent bool) {
	if h.miss.exhausted(r.RemoteAddr, time.Now()) {
		h.s.metrics.rateLimited.Add(1)
		w.Header().Set("Retry-After", "30")
		writeJSONError(w, http.StatusTooManyRequests, wire.CodeRateLimited, "too many wrong keys from your address; try again shortly")
		return
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := h.s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(support.MaxFrameBytes)
	c := &supportConn{jsonSocket: newJSONSocket(ws, supportSendQueue), h: h, addr: r.RemoteAddr,
		lim: rate.NewLimiter(supportMsgRate, supportMsgBurst)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ws.Close()
		return
	}
	h.wg.Add(2)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		c.writePump()
	}()
	go c.readPump(agent)
}

func (c *supportConn) sendError(code, msg, ref string) {
	c.sendMsg(support.TypeError, support.Error{Code: code, Message: msg, Ref: ref})
}

// fail sends a fatal error and closes with 1008.
func (c *supportConn) fail(code, msg string) {
	c.sendError(code, msg, "")
	c.shut(websocket.ClosePolicyViolation, code)
}

// readPump reads the first message (auth or resume), registers the
// connection, then handles messages until the socket ends.
func (c *supportConn) readPump(agent bool) {
	defer c.h.wg.Done()
	defer c.unregister()
	defer c.shut(websocket.CloseNormalClosure, "")
	c.ws.SetReadDeadline(time.Now().Add(supportFirstWait))
	c.ws.SetPongHandler(func(string) error { c.ws.SetReadDeadline(time.Now().Add(supportSilence)); return nil })
	env, ok := c.next()
	if !ok {
		if c.timedOut {
			c.fail(support.CodeNotAuthenticated, "the first message did not arrive within 10 s")
		}
		return
	}
	if agent {
		if !c.auth(env) {
			return
		}
	} else if !c.resume(env) {
		return
	}
	for {
		c.ws.SetReadDeadline(time.Now().Add(supportSilence))
		env, ok := c.next()
		if !ok {
			if c.timedOut {
				c.shut(websocket.CloseGoingAway, "silent too long")
			}
			return
		}
		if !c.lim.Allow() {
			c.h.s.metrics.rateLimited.Add(1)
			c.sendError(wire.CodeRateLimited, "too many messages; slow down", "")
			continue
		}
		if agent {
			c.handleAgent(env)
		} else {
			c.handleCustomer(env)
		}
	}
}

// next reads one envelope; a frame that is not one gets bad_message and
// is skipped. ok is false when the socket ended.
func (c *supportConn) next() (wire.Envelope, bool) {
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.shut(websocket.CloseMessageTooBig, "frame too large")
			}
			var ne interface{ Timeout() bool }
			c.timedOut = errors.As(err, &ne) && ne.Timeout()
			return wire.Envelope{}, false
		}
		var env wire.Envelope
		if typ != websocket.TextMessage || json.Unmarshal(b, &env) != nil || env.Type == "" {
			c.sendError(wire.CodeBadMessage, "send one JSON envelope per text frame", "")
			continue
		}
		if env.V != wire.ProtocolVersion {
			c.sendError(wire.CodeUnsupportedProtocol, "v must be 1", "")
			continue
		}
		return env, true
	}
}

// decode reads env's data into v, answering bad_message if it cannot.
func (c *supportConn) decode(env wire.Envelope, v any) bool {
	if len(env.Data) == 0 || json.Unmarshal(env.Data, v) != nil {
		c.sendError(wire.CodeBadMessage, env.Type+": data missing or of the wrong shape", "")
		return false
	}
	return true
}

// auth signs an agent in with the first message.
func (c *supportConn) auth(env wire.Envelope) bool {
	var a support.Auth
	if env.Type != support.TypeAuth || !c.decode(env, &a) {
		c.fail(support.CodeNotAuthenticated, "the first message must be auth")
		return false
	}
	ctx, cancel := c.h.ctx()
	defer cancel()
	agent, ok := c.h.checkAgentKey(ctx, a.Key)
	if !ok {
		c.h.miss.allow(c.addr, time.Now())
		c.h.log.Warn("agent sign-in refused", "addr", c.addr)
		c.fail(support.CodeAgentKeyInvalid, "this key does not sign anyone in here")
		return false
	}
	convs, err := c.h.st.OpenConversations(ctx)
	if err != nil {
		c.fail(wire.CodeInternal, "the conversations could not be read")
		return false
	}
	ready := support.Ready{Agent: support.AgentInfo{ID: agent.ID, Name: agent.Name}, Conversations: make([]support.Summary, len(convs))}
	for i, s := range convs {
		ready.Conversations[i] = wireSummary(s)
	}
	c.agent = agent
	h := c.h
	h.mu.Lock()
	n := 0
	for o := range h.agents {
		if o.agent.ID == agent.ID {
			n++
		}
	}
	if n >= maxSupportConns || h.closed {
		h.mu.Unlock()
		c.fail(wire.CodeRateLimited, "too many connections for this agent")
		return false
	}
	if call := h.busy[agent.ID]; call != nil {
		ready.Video = call.video()
	}
	h.agents[c] = true
	c.sendMsg(support.TypeReady, ready) // under h.mu: nothing broadcast comes before it
	h.mu.Unlock()
	h.log.Info("agent signed in", "agent", agent.ID, "addr", c.addr)
	return true
}

// resume lets a customer back into their conversation.
func (c *supportConn) resume(env wire.Envelope) bool {
	var r support.Resume
	if env.Type != support.TypeResume || !c.decode(env, &r) {
		c.fail(support.CodeNotAuthenticated, "the first message must be resume")
		return false
	}
	ctx, cancel := c.h.ctx()
	defer cancel()
	conv, ok := c.h.checkCustomerKey(ctx, r.Conversation, r.Key)
	if !ok {
		c.h.miss.allow(c.addr, time.Now())
		c.fail(support.CodeSupportKeyInvalid, "this conversation and key do not match")
		return false
	}
	c.conv = conv.ID
	h := c.h
	h.mu.Lock()
	m := h.customers[conv.ID]
	if m == nil {
		m = map[*supportConn]bool{}
		h.customers[conv.ID] = m
	}
	if len(m) >= maxSupportConns || h.closed {
		h.mu.Unlock()
		c.fail(wire.CodeRateLimited, "too many connections to this conversation")
		return false
	}
	m[c] = true // live messages from now on; the pages below may repeat some
	h.mu.Unlock()
	// after 0: the newest page (older messages are not sent); else every
	// message after it, the first page in the answer, the rest after it.
	var msgs []store.SupportMessage
	var more bool
	var err error
	if r.After > 0 {
		msgs, more, err = h.st.SupportMessages(ctx, conv.ID, r.After, 0, supportResumePage)
	} else {
		msgs, _, err = h.st.SupportMessages(ctx, conv.ID, 0, 0, supportResumePage)
	}
	if err != nil {
		c.fail(wire.CodeInternal, "the conversation could not be read")
		return false
	}
	st := support.ConversationState{ID: conv.ID, Name: conv.Name, Email: conv.Email, Status: support.StatusOpen,
		Messages: wireMessages(msgs), More: more}
	if !conv.Closed.IsZero() {
		st.Status, st.ClosedBy = support.StatusClosed, conv.ClosedBy
	}
	c.sendMsg(support.TypeConversation, st)
	for more {
		last := msgs[len(msgs)-1].Seq
		if msgs, more, err = h.st.SupportMessages(ctx, conv.ID, last, 0, supportResumePage); err != nil {
			c.fail(wire.CodeInternal, "the conversation could not be read")
			return false
		}
		for _, m := range msgs {
			c.sendMsg(support.TypeMessage, wireMessage(m))
		}
	}
	return true
}

// unregister takes the connection out of the hub.
func (c *supportConn) unregister() {
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.agents, c)
	if m := h.customers[c.conv]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(h.customers, c.conv)
		}
	}
}

// handleCustomer handles a customer's message after resume.
func (c *supportConn) handleCustomer(env wire.Envelope) {
	if env.Type != support.TypeSend {
		c.sendError(wire.CodeBadMessage, "unknown type "+truncateString(env.Type, 32), "")
		return
	}
	var s support.Send
	if !c.decode(env, &s) {
		return
	}
	c.post(c.conv, store.SenderCustomer, "", s)
}

// post validates and stores a message from the customer (from
// SenderCustomer) or an agent (from: their id).
func (c *supportConn) post(conv, from, name string, s support.Send) {
	if err := support.ValidateID(s.ID); err != nil {
		c.sendError(wire.CodeBadMessage, strings.TrimPrefix(err.Error(), "support: invalid: "), "")
		return
	}
	if err := support.ValidateText(s.Text); err != nil {
		code := wire.CodeBadMessage
		if errors.Is(err, wire.ErrTextTooLarge) {
			code = wire.CodeTooLarge
		}
		c.sendError(code, strings.TrimPrefix(err.Error(), "support: invalid: "), s.ID)
		return
	}
	if name == "" {
		ctx, cancel := c.h.ctx()
		conv, err := c.h.st.Conversation(ctx, conv)
		cancel()
		if err != nil {
			c.sendError(wire.CodeInternal, "the message could not be stored", s.ID)
			return
		}
		name = conv.Name
	}
	stored, dup, err := c.h.post(store.SupportMessage{Conversation: conv, ID: s.ID, From: from, Name: name, Text: s.Text, At: c.h.s.cfg.Now()})
	switch {
	case errors.Is(err, store.ErrClosed):
		c.sendError(support.CodeConversationClosed, "the conversation is closed", s.ID)
	case errors.Is(err, store.ErrNotFound):
		c.sendError(support.CodeNotFound, "no such conversation", s.ID)
	case err != nil:
		c.h.log.Error("support message", "err", err)
		c.sendError(wire.CodeInternal, "the message could not be stored; send it again", s.ID)
	case dup:
		wm := wireMessage(stored)
		if c.agent.ID != "" {
			wm.Conversation = conv
		}
		c.sendMsg(support.TypeMessage, wm) // to the sender alone: the others have it
	}
}

// handleAgent handles a signed-in agent's message.
func (c *supportConn) handleAgent(env wire.Envelope) {
	h := c.h
	switch env.Type {
	case support.TypeSend:
		var s support.Send
		if c.decode(env, &s) {
			c.post(s.Conversation, c.agent.ID, c.agent.Name, s)
		}
	case support.TypeOpen:
		var o support.Open
		if !c.decode(env, &o) {
			return
		}
		limit := o.Limit
		if limit <= 0 || limit > store.MaxChatPage {
			limit = store.MaxChatPage
		}
		ctx, cancel := h.ctx()
		defer cancel()
		if _, err := h.st.Conversation(ctx, o.Conversation); err != nil {
			c.sendError(support.CodeNotFound, "no such conversation", o.Conversation)
			return
		}
		msgs, more, err := h.st.SupportMessages(ctx, o.Conversation, 0, o.Before, limit)
		if err != nil {
			c.sendError(wire.CodeInternal, "the conversation could not be read", o.Conversation)
			return
		}
		hist := support.History{Conversation: o.Conversation, Messages: wireMessages(msgs), More: more}
		for i := range hist.Messages {
			hist.Messages[i].Conversation = o.Conversation
		}
		c.sendMsg(support.TypeHistory, hist)
	case support.TypeRead:
		var rd support.Read
		if !c.decode(env, &rd) {
			return
		}
		ctx, cancel := h.ctx()
		defer cancel()
		if err := h.st.MarkRead(ctx, rd.Conversation, rd.Seq); err != nil {
			c.sendError(wire.CodeInternal, "could not mark it read", rd.Conversation)
			return
		}
		h.announce(rd.Conversation, false)
	case support.TypeStartVideo:
		var ref support.ConversationRef
		if !c.decode(env, &ref) {
			return
		}
		call, code, msg := h.startVideo(c.agent, ref.Conversation)
		if call == nil {
			c.sendError(code, msg, ref.Conversation)
			return
		}
		h.toAgent(c.agent.ID, support.TypeVideo, call.video())
	case support.TypeEndVideo:
		h.endVideo(c.agent.ID, "ended")
	case support.TypeClose:
		var ref support.ConversationRef
		if !c.decode(env, &ref) {
			return
		}
		if code, msg := h.closeConversation(c.agent, ref.Conversation); code != "" {
			c.sendError(code, msg, ref.Conversation)
		}
	default:
		c.sendError(wire.CodeBadMessage, "unknown type "+truncateString(env.Type, 32), "")
	}
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
