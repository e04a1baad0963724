package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/confab/confab/assets"
	"github.com/confab/confab/signaling/invite"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// Support desk limits (PROTOCOL.md, "Support desk").
const (
	// newConversations per address, one more every newConversationEvery.
	newConversations     = 5
	newConversationEvery = 2 * time.Minute
	// keyMisses wrong keys per address, one more every keyMissEvery.
	keyMisses    = 10
	keyMissEvery = 30 * time.Second
	// supportCallTTL is how long a support call's invite link and the
	// agent's token for it are valid.
	supportCallTTL = time.Hour
	// maxSupportConns bounds the connections of one conversation's
	// customer, and of one agent.
	maxSupportConns = 8
	// maxConversationBody bounds the body of a new conversation: a name,
	// an e-mail address and a message of up to 4096 bytes, JSON-escaped.
	maxConversationBody = 32 << 10
)

// supportHub is the support desk: it knows the signed-in agents, the
// customers' connections and the video calls under way. Its maps are
// guarded by mu; store calls happen outside it.
type supportHub struct {
	s   *Server
	st  store.Support
	inv store.Invites
	log *slog.Logger

	newConv addrLimiter
	miss    addrLimiter
	wg      sync.WaitGroup // connection pumps and background writes

	mu        sync.Mutex
	closed    bool
	agents    map[*supportConn]bool
	customers map[string]map[*supportConn]bool // by conversation
	calls     map[string]*liveCall             // by room
	busy      map[string]*liveCall             // by agent id
}

// liveCall is a video call started from a conversation.
type liveCall struct {
	room, conv, agentID, agentName string
	code, token                    string
	expires                        time.Time
	agentIn, customerIn            bool
}

func (c *liveCall) video() *support.Video {
	return &support.Video{Conversation: c.conv, Room: c.room, Code: c.code, Link: invite.Path(c.code), Token: c.token,
		Expires: c.expires.UnixMilli(), CustomerIn: c.customerIn}
}

// newSupportHub returns the hub, or nil when the store keeps no support
// desk or no invites.
func newSupportHub(s *Server) *supportHub {
	st, ok := s.cfg.Store.(store.Support)
	inv, ok2 := s.cfg.Store.(store.Invites)
	if !ok || !ok2 {
		return nil
	}
	return &supportHub{s: s, st: st, inv: inv, log: s.log.With("component", "support"),
		newConv:   addrLimiter{every: newConversationEvery, burst: newConversations},
		miss:      addrLimiter{every: keyMissEvery, burst: keyMisses},
		agents:    map[*supportConn]bool{},
		customers: map[string]map[*supportConn]bool{},
		calls:     map[string]*liveCall{},
		busy:      map[string]*liveCall{},
	}
}

// supportRoutes adds the support desk's routes to mux.
func (s *Server) supportRoutes(mux *http.ServeMux) {
	h := s.support
	if h == nil {
		return
	}
	if files, err := loadWebFiles(assets.Web, "web"); err == nil && files["support.html"] != nil {
		page := files["support.html"]
		mux.HandleFunc("GET /support", func(w http.ResponseWriter, r *http.Request) { serveWebFile(w, r, page) })
	}
	mux.HandleFunc("POST /api/support/conversations", h.serveNewConversation)
	mux.HandleFunc("GET /api/support/ws", func(w http.ResponseWriter, r *http.Request) { h.serveWS(w, r, false) })
	mux.HandleFunc("GET /api/agent/ws", func(w http.ResponseWriter, r *http.Request) { h.serveWS(w, r, true) })
	mux.HandleFunc("GET /api/support/feedback", h.serveFeedbackInfo)
	mux.HandleFunc("POST /api/support/feedback", h.serveFeedback)
}

// close disconnects every support connection and waits for their pumps
// and the writes they started.
func (h *supportHub) close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.closed = true
	var conns []*supportConn
	for c := range h.agents {
		conns = append(conns, c)
	}
	for _, m := range h.customers {
		for c := range m {
			conns = append(conns, c)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.shut(closeGoingAway, "server shutting down")
	}
	h.wg.Wait()
}

// ctx is a short context for store calls.
func (h *supportHub) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// serveNewConversation opens a conversation: {"name","email","text"}.
func (h *supportHub) serveNewConversation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name  *string `json:"name"`
		Email string  `json:"email"`
		Text  *string `json:"text"`
	}
	if err := readJSONBodyN(w, r, &req, maxConversationBody); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, err.Error())
		return
	}
	if req.Name == nil || req.Text == nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "name and text are required")
		return
	}
	if err := support.ValidateName(*req.Name); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, strings.TrimPrefix(err.Error(), "support: invalid: "))
		return
	}
	if err := support.ValidateEmail(req.Email); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, strings.TrimPrefix(err.Error(), "support: invalid: "))
		return
	}
	if err := support.ValidateText(*req.Text); err != nil {
		code := wire.CodeBadMessage
		if errors.Is(err, wire.ErrTextTooLarge) {
			code = wire.CodeTooLarge
		}
		writeJSONError(w, http.StatusBadRequest, code, strings.TrimPrefix(err.Error(), "support: invalid: "))
		return
	}
	if !h.newConv.allow(r.RemoteAddr, time.Now()) {
		h.s.metrics.rateLimited.Add(1)
		w.Header().Set("Retry-After", "120")
		writeJSONError(w, http.StatusTooManyRequests, wire.CodeRateLimited, "too many new conversations from your address; try again in a few minutes")
		return
	}
	secret, hash, err := support.NewSecret()
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "could not start the conversation")
		return
	}
	now := h.s.cfg.Now()
	c := store.Conversation{ID: "c-" + randomHex(8), KeyHash: hash, Name: *req.Name, Email: req.Email, Created: now}
	ctx, cancel := h.ctx()
	defer cancel()
	if _, err := h.st.CreateConversation(ctx, c, store.SupportMessage{ID: "first", Name: c.Name, Text: *req.Text, At: now}); err != nil {
		h.log.Error("new conversation", "err", err)
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "could not start the conversation")
		return
	}
	h.log.Info("support conversation opened", "conversation", c.ID)
	writeJSON(w, http.StatusCreated, map[string]string{"conversation": c.ID, "key": secret})
	h.announce(c.ID, true)
}

// announce sends a conversation's summary to every agent (new: it was
// just opened).
func (h *supportHub) announce(conv string, isNew bool) {
	ctx, cancel := h.ctx()
	defer cancel()
	sum, err := h.st.ConversationSummary(ctx, conv)
	if err != nil {
		h.log.Error("conversation summary", "conversation", conv, "err", err)
		return
	}
	ws := wireSummary(sum)
	ws.New = isNew
	h.toAgents(support.TypeConversation, ws)
}

// toAgents sends a message to every signed-in agent connection.
func (h *supportHub) toAgents(typ string, data any) {
	b, err := encodeFrame(typ, data)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.agents {
		c.enqueue(b)
	}
}

// toAgent sends a message to one agent's connections.
func (h *supportHub) toAgent(agentID, typ string, data any) {
	b, err := encodeFrame(typ, data)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.agents {
		if c.agent.ID == agentID {
			c.enqueue(b)
		}
	}
}

// toCustomer sends a message to a conversation's customer connections.
func (h *supportHub) toCustomer(conv, typ string, data any) {
	b, err := encodeFrame(typ, data)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.customers[conv] {
		c.enqueue(b)
	}
}

// post stores a message and sends it to the customer and every agent,
// then the conversation's new summary to the agents. It returns the
// stored message.
func (h *supportHub) post(m store.SupportMessage) (store.SupportMessage, bool, error) {
	ctx, cancel := h.ctx()
	defer cancel()
	stored, dup, err := h.st.AppendSupportMessage(ctx, m)
	if err != nil {
		return stored, dup, err
	}
	if dup {
		return stored, true, nil
	}
	wm := wireMessage(stored)
	h.toCustomer(stored.Conversation, support.TypeMessage, wm)
	wm.Conversation = stored.Conversation
	h.toAgents(support.TypeMessage, wm)
	h.announce(stored.Conversation, false)
	return stored, false, nil
}

// system posts a system message to conv in the background (callers may
// hold room locks).
func (h *supportHub) system(conv, name, text string) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		m := store.SupportMessage{Conversation: conv, ID: "s-" + randomHex(8), From: store.SenderSystem, Name: name, Text: text, At: h.s.cfg.Now()}
		if _, _, err := h.post(m); err != nil {
			h.log.Error("system message", "conversation", conv, "err", err)
		}
	}()
}

// wireMessage is a stored message as the protocol shows it.
func wireMessage(m store.SupportMessage) support.Message {
	out := support.Message{Seq: m.Seq, ID: m.ID, From: m.From, Name: m.Name, Text: m.Text, Link: m.Link, At: m.At.UnixMilli()}
	if m.From != store.SenderCustomer && m.From != store.SenderSystem {
		out.From, out.Agent = support.FromAgent, m.From
	}
	return out
}

func wireMessages(ms []store.SupportMessage) []support.Message {
	out := make([]support.Message, len(ms))
	for i, m := range ms {
		out[i] = wireMessage(m)
	}
	return out
}

func wireSummary(s store.ConversationSummary) support.Summary {
	out := support.Summary{ID: s.ID, Name: s.Name, Email: s.Email, Status: support.StatusOpen, Created: s.Created.UnixMilli(),
		Last: wireMessage(s.Last), Unread: s.Unread}
	out.Last.Conversation = s.ID
	if !s.Closed.IsZero() {
		out.Status, out.ClosedBy = support.StatusClosed, s.ClosedBy
	}
	if !s.WaitingSince.IsZero() {
		out.WaitingSince = s.WaitingSince.UnixMilli()
	}
	return out
}

// checkAgentKey returns the agent whose key this is. The secret's hash is
// compared in constant time; an unknown id costs a compare too.
func (h *supportHub) checkAgentKey(ctx context.Context, key string) (store.Agent, bool) {
	id, secret, ok := support.SplitAgentKey(key)
	got := support.HashSecret(secret)
	if !ok {
		subtle.ConstantTimeCompare(got, got)
		return store.Agent{}, false
	}
	a, err := h.st.Agent(ctx, id)
	if err != nil || !a.Removed.IsZero() {
		subtle.ConstantTimeCompare(got, got)
		return store.Agent{}, false
	}
	return a, subtle.ConstantTimeCompare(got, a.KeyHash) == 1
}

// checkCustomerKey returns the conversation this key opens.
func (h *supportHub) checkCustomerKey(ctx context.Context, conv, key string) (store.Conversation, bool) {
	got := support.HashSecret(key)
	c, err := h.st.Conversation(ctx, conv)
	if err != nil {
		subtle.ConstantTimeCompare(got, got)
		return store.Conversation{}, false
	}
	return c, subtle.ConstantTimeCompare(got, c.KeyHash) == 1
}

// startVideo starts a video call for conv as agent a: a room, an invite
// link the customer gets in the chat, and a's token for the room.
func (h *supportHub) startVideo(a store.Agent, conv string) (*liveCall, string, string) {
	now := h.s.cfg.Now()
	h.mu.Lock()
	if c := h.busy[a.ID]; c != nil {
		if now.Before(c.expires) {
			h.mu.Unlock()
			return nil, support.CodeAgentBusy, "you are in a video call already; end it first"
		}
		h.endLocked(c) // its link has expired
		h.backgroundLocked(func() { h.finish(c, "expired", false) })
	}
	h.mu.Unlock()
	ctx, cancel := h.ctx()
	defer cancel()
	c, err := h.st.Conversation(ctx, conv)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, support.CodeNotFound, "no such conversation"
	case err != nil:
		return nil, wire.CodeInternal, "the conversation could not be read"
	case !c.Closed.IsZero():
		return nil, support.CodeConversationClosed, "the conversation is closed"
	}
	room := "support-" + randomHex(6)
	inv, err := invite.New(ctx, h.inv, invite.Options{Room: room, Creator: a.ID, TTL: supportCallTTL}, now)
	if err != nil {
		return nil, wire.CodeInternal, "the invite link could not be made"
	}
	if err := h.st.CreateCall(ctx, store.SupportCall{Room: room, Conversation: conv, Agent: a.ID, Created: now}); err != nil {
		return nil, wire.CodeInternal, "the call could not be stored"
	}
	tok, err := token.Issue(h.s.cfg.Secret, token.Claims{Identity: a.ID, Name: a.Name, Room: room, Grants: token.DefaultGrants()}, supportCallTTL, now)
	if err != nil {
		return nil, wire.CodeInternal, "could not issue a token"
	}
	call := &liveCall{room: room, conv: conv, agentID: a.ID, agentName: a.Name, code: inv.Code, token: tok, expires: inv.Expires}
	h.mu.Lock()
	if h.busy[a.ID] != nil { // another connection of a's won the race
		h.mu.Unlock()
		_, _ = h.inv.RevokeInvite(ctx, inv.Code, now)
		return nil, support.CodeAgentBusy, "you are in a video call already; end it first"
	}
	h.busy[a.ID], h.calls[room] = call, call
	h.mu.Unlock()
	if _, _, err := h.post(store.SupportMessage{Conversation: conv, ID: "v-" + room, From: a.ID, Name: a.Name,
		Text: "Let's continue on video: press the button to join the call.", Link: invite.Path(inv.Code), At: now}); err != nil {
		h.log.Error("video message", "err", err)
	}
	h.log.Info("support video started", "conversation", conv, "room", room, "agent", a.ID)
	return call, "", ""
}

// endLocked takes a video call out of the hub: the agent may start
// another. h.mu must be held. finish then does the rest.
func (h *supportHub) endLocked(c *liveCall) {
	if h.busy[c.agentID] == c {
		delete(h.busy, c.agentID)
	}
	delete(h.calls, c.room)
}

// finish ends a call taken out of the hub: its link is revoked, then the
// agent is told (and, with note, the chat). It does store I/O: no locks
// may be held.
func (h *supportHub) finish(c *liveCall, reason string, note bool) {
	ctx, cancel := h.ctx()
	defer cancel()
	if _, err := h.inv.RevokeInvite(ctx, c.code, h.s.cfg.Now()); err != nil {
		h.log.Error("revoke support invite", "err", err)
	}
	h.toAgent(c.agentID, support.TypeVideoEnded, support.VideoEnded{Conversation: c.conv, Room: c.room, Reason: reason})
	if note {
		h.system(c.conv, "", "The video call ended.")
	}
}

// background runs f in a goroutine the hub's close waits for, unless the
// hub is closed. h.mu must be held.
func (h *supportHub) backgroundLocked(f func()) {
	if h.closed {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
}

// endVideo ends agent's video call, if any, telling their connections.
func (h *supportHub) endVideo(agentID, reason string) {
	h.mu.Lock()
	c := h.busy[agentID]
	if c != nil {
		h.endLocked(c)
	}
	h.mu.Unlock()
	if c != nil {
		h.finish(c, reason, false)
	}
}

// roomEvent hears the meeting events of every room (room.event): the
// customer entering a support call's room brings the agent in; the agent
// leaving it after being in ends the call. It never blocks: callers hold
// room locks.
func (h *supportHub) roomEvent(room, identity, kind, name string) {
	if h == nil || (kind != store.KindJoin && kind != store.KindLeave) {
		return
	}
	h.mu.Lock()
	c := h.calls[room]
	if c == nil {
		h.mu.Unlock()
		return
	}
	var entered bool
	switch {
	case identity == c.agentID && kind == store.KindJoin:
		c.agentIn = true
	case identity == c.agentID && kind == store.KindLeave && c.agentIn:
		h.endLocked(c)
		h.backgroundLocked(func() { h.finish(c, "left", true) })
	case identity != c.agentID && kind == store.KindJoin && !c.customerIn:
		c.customerIn = true
		entered = true
	}
	h.mu.Unlock()
	if entered {
		h.toAgent(c.agentID, support.TypeCustomerEntered, support.CustomerEntered{Conversation: c.conv, Room: room, Name: name})
		h.system(c.conv, "", name+" joined the video call.")
	}
}

// closeConversation closes conv for agent a.
func (h *supportHub) closeConversation(a store.Agent, conv string) (string, string) {
	ctx, cancel := h.ctx()
	defer cancel()
	before, err := h.st.Conversation(ctx, conv)
	if errors.Is(err, store.ErrNotFound) {
		return support.CodeNotFound, "no such conversation"
	}
	if err != nil {
		return wire.CodeInternal, "the conversation could not be read"
	}
	c, err := h.st.CloseConversation(ctx, conv, a.Name, h.s.cfg.Now())
	if err != nil {
		return wire.CodeInternal, "the conversation could not be closed"
	}
	if !before.Closed.IsZero() {
		h.announce(conv, false)
		return "", ""
	}
	h.mu.Lock()
	var ends []*liveCall
	for _, lc := range h.calls {
		if lc.conv == conv {
			ends = append(ends, lc)
		}
	}
	h.mu.Unlock()
	for _, lc := range ends {
		h.endVideo(lc.agentID, "closed")
	}
	if _, _, err := h.post(store.SupportMessage{Conversation: conv, ID: "closed", From: store.SenderSystem, Name: a.Name,
		Text: a.Name + " closed the conversation.", At: c.Closed}); err != nil {
		h.log.Error("close message", "err", err)
	}
	h.toCustomer(conv, support.TypeClosed, support.Closed{Conversation: conv, By: c.ClosedBy, At: c.Closed.UnixMilli()})
	h.log.Info("support conversation closed", "conversation", conv, "agent", a.ID)
	return "", ""
}
