package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// Presence connection timing and limits (PROTOCOL.md, "Presence and calls").
const (
	onlineSendQueue = 256
	onlineSilence   = 45 * time.Second
	onlineHelloWait = 10 * time.Second
	onlineMsgRate   = 10
	onlineMsgBurst  = 20
	// maxOnline bounds the identities online at once.
	maxOnline = 10000
	// inviteEvery and inviteBurst bound each identity's invitations: one
	// invitee more every inviteEvery, up to inviteBurst at once.
	inviteEvery = 2 * time.Second
	inviteBurst = 10
	// defaultRingTimeout is how long an invitation rings.
	defaultRingTimeout = 30 * time.Second
)

// onlineHub knows who is online (their presence connections) and the calls
// between them (calls.go). Its maps are guarded by mu; nothing is written
// to a socket under it (frames go to the connections' send queues).
type onlineHub struct {
	s    *Server
	ring time.Duration
	wg   sync.WaitGroup // connection pumps and the ring loop
	stop chan struct{}

	mu     sync.Mutex
	closed bool
	people map[string]*onlinePerson // by identity
	calls  map[string]*personCall   // by call id
	rooms  map[string]*personCall   // by room name
}

// onlinePerson is one identity online: its connections, busy flag and
// invitation allowance.
type onlinePerson struct {
	id, name string
	conns    map[*onlineConn]bool
	selfBusy bool // said with set_busy
	shown    bool // the busy flag others were last told
	invites  *rate.Limiter
}

func newOnlineHub(s *Server) *onlineHub {
	ring := s.cfg.RingTimeout
	if ring == 0 {
		ring = defaultRingTimeout
	}
	h := &onlineHub{s: s, ring: ring, stop: make(chan struct{}),
		people: map[string]*onlinePerson{}, calls: map[string]*personCall{}, rooms: map[string]*personCall{}}
	h.wg.Add(1)
	go h.ringLoop()
	return h
}

// onlineRoutes adds the presence websocket to mux.
func (s *Server) onlineRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+calls.Path, s.online.serveWS)
}

// close disconnects everyone and waits for the pumps and the ring loop.
func (h *onlineHub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.stop)
	var conns []*onlineConn
	for _, p := range h.people {
		for c := range p.conns {
			conns = append(conns, c)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.shut(websocket.CloseGoingAway, "server shutting down")
	}
	h.wg.Wait()
}

// onlineConn is one presence websocket: one reader, one writer, a bounded
// send queue; a client that cannot keep up is dropped. person is set by
// the reader at hello, before the connection is registered.
type onlineConn struct {
	jsonSocket
	h   *onlineHub
	lim *rate.Limiter

	person *onlinePerson
}

func (h *onlineHub) serveWS(w http.ResponseWriter, r *http.Request) {
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
	ws.SetReadLimit(calls.MaxFrameBytes)
	c := &onlineConn{jsonSocket: newJSONSocket(ws, onlineSendQueue), h: h,
		lim: rate.NewLimiter(onlineMsgRate, onlineMsgBurst)}
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
	go c.readPump()
}

func (c *onlineConn) sendError(code, msg, ref string) {
	c.sendMsg(calls.TypeError, calls.Error{Code: code, Message: msg, Ref: ref})
}

// fail sends a fatal error and closes with 1008.
func (c *onlineConn) fail(code, msg string) {
	c.sendMsg(calls.TypeError, calls.Error{Code: code, Message: msg, Fatal: true})
	c.shut(websocket.ClosePolicyViolation, code)
}

// readPump reads hello, registers the connection, then handles requests
// in order until the socket ends.
func (c *onlineConn) readPump() {
	defer c.h.wg.Done()
	defer c.h.unregister(c)
	defer c.shut(websocket.CloseNormalClosure, "")
	_ = c.ws.SetReadDeadline(time.Now().Add(onlineHelloWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(onlineSilence)) })
	env, ok := c.next(true)
	if !ok {
		return
	}
	if env.Type != calls.TypeHello {
		c.fail(calls.CodeNotAuthenticated, "the first message must be hello")
		return
	}
	if !c.hello(env) {
		return
	}
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(onlineSilence))
		env, ok := c.next(false)
		if !ok {
			return
		}
		if !c.lim.Allow() {
			c.h.s.metrics.rateLimited.Add(1)
			var r struct {
				Ref string `json:"ref"`
			}
			_ = json.Unmarshal(env.Data, &r) // name the request refused, so its sender knows
			if len(r.Ref) > calls.MaxRefBytes {
				r.Ref = ""
			}
			c.sendError(wire.CodeRateLimited, "too many messages; slow down", r.Ref)
			continue
		}
		c.handle(env)
	}
}

// next reads one envelope; false ends the connection (after a fatal
// error for a bad first frame).
func (c *onlineConn) next(first bool) (wire.Envelope, bool) {
	mt, b, err := c.ws.ReadMessage()
	if err != nil {
		var ne interface{ Timeout() bool }
		switch {
		case first && errors.As(err, &ne) && ne.Timeout():
			c.fail(calls.CodeNotAuthenticated, "no hello within 10 s")
		case errors.Is(err, websocket.ErrReadLimit):
			c.shut(websocket.CloseMessageTooBig, wire.CodeTooLarge)
		}
		return wire.Envelope{}, false
	}
	if mt != websocket.TextMessage {
		c.fail(wire.CodeBadMessage, "send JSON in text frames")
		return wire.Envelope{}, false
	}
	var env wire.Envelope
	if err := json.Unmarshal(b, &env); err != nil || env.Type == "" {
		if first {
			c.fail(wire.CodeBadMessage, "not a protocol envelope")
			return wire.Envelope{}, false
		}
		c.sendError(wire.CodeBadMessage, "not a protocol envelope", "")
		return wire.Envelope{}, true
	}
	if env.V != wire.ProtocolVersion {
		c.fail(wire.CodeUnsupportedProtocol, "this server speaks protocol version 1")
		return wire.Envelope{}, false
	}
	return env, true
}

// hello authenticates the connection and registers it; false ends it.
func (c *onlineConn) hello(env wire.Envelope) bool {
	var hello calls.Hello
	if err := json.Unmarshal(env.Data, &hello); err != nil {
		c.fail(calls.CodeNotAuthenticated, "hello: "+err.Error())
		return false
	}
	if err := hello.Validate(); err != nil {
		c.fail(wire.CodeBadMessage, err.Error())
		return false
	}
	var id, name string
	if hello.Token != "" {
		claims, err := token.Verify(c.h.s.cfg.Secret, hello.Token, c.h.s.cfg.Now())
		if err != nil {
			code, msg := joinRefusal(err)
			c.fail(code, msg)
			return false
		}
		if wire.ValidateName("identity", claims.Identity) != nil || wire.ValidateName("name", claims.Name) != nil {
			c.fail(wire.CodeTokenInvalid, "the token's identity or name is not valid")
			return false
		}
		id, name = claims.Identity, claims.Name
	} else {
		if !c.h.s.cfg.Open {
			c.fail(wire.CodePermissionDenied, "this server needs a token; a key is accepted in open mode only")
			return false
		}
		id, name = calls.KeyIdentity(hello.Key), hello.Name
	}
	if code, msg := c.h.register(c, id, name); code != "" {
		c.fail(code, msg)
		return false
	}
	return true
}

// register adds c as id's connection, queues its ready and tells the
// others when id comes online (or changes name). ready is queued under
// h.mu, so it is c's first frame: nothing broadcast or sent to id can get
// ahead of it. A refusal is a code and a message.
func (h *onlineHub) register(c *onlineConn, id, name string) (string, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return wire.CodeInternal, "the server is shutting down"
	}
	p := h.people[id]
	if p == nil {
		if len(h.people) >= maxOnline {
			return wire.CodeOverloaded, "too many people are online on this server"
		}
		p = &onlinePerson{id: id, name: name, conns: map[*onlineConn]bool{}, invites: rate.NewLimiter(rate.Every(inviteEvery), inviteBurst)}
		h.people[id] = p
	} else if len(p.conns) >= calls.MaxConnections {
		return calls.CodeTooManyConnections, "this identity has too many connections open"
	}
	first := len(p.conns) == 0
	renamed := p.name != name
	p.name = name
	p.conns[c] = true
	c.person = p
	ready := calls.Ready{You: h.personLocked(p), People: []calls.Person{}, RingTimeoutMS: h.ring.Milliseconds()}
	for _, q := range h.people {
		if q != p {
			ready.People = append(ready.People, h.personLocked(q))
		}
	}
	sort.Slice(ready.People, func(i, j int) bool { return ready.People[i].Name < ready.People[j].Name })
	c.sendMsg(calls.TypeReady, ready)
	switch {
	case first:
		st := h.personLocked(p)
		p.shown = st.Busy
		h.broadcastLocked(p, calls.TypePersonOnline, st)
	case renamed:
		h.broadcastLocked(p, calls.TypePersonUpdated, h.personLocked(p))
	}
	// A second connection (another window, a reconnect) hears of the
	// calls ringing for this identity.
	for _, lc := range h.calls {
		if m := lc.members[id]; m != nil && calls.Active(m.state) {
			c.sendMsg(calls.TypeCall, calls.CallMsg{Call: lc.snapshot()})
		}
	}
	return "", ""
}

// unregister forgets c; the identity goes offline with its last
// connection, and its invitations still ringing fail.
func (h *onlineHub) unregister(c *onlineConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := c.person
	if p == nil || !p.conns[c] {
		return
	}
	delete(p.conns, c)
	if len(p.conns) > 0 {
		return
	}
	delete(h.people, p.id)
	h.broadcastLocked(p, calls.TypePersonOffline, calls.PersonOffline{ID: p.id})
	h.wentOfflineLocked(p.id)
}

// personLocked is p as others see it; h.mu must be held.
func (h *onlineHub) personLocked(p *onlinePerson) calls.Person {
	return calls.Person{ID: p.id, Name: p.name, Busy: p.selfBusy || h.inCallLocked(p.id) != nil}
}

// broadcastLocked sends to everyone online but except; h.mu must be held.
func (h *onlineHub) broadcastLocked(except *onlinePerson, typ string, data any) {
	b, err := encodeFrame(typ, data)
	if err != nil {
		return
	}
	for _, q := range h.people {
		if q == except {
			continue
		}
		for c := range q.conns {
			c.enqueue(b)
		}
	}
}

// toPersonLocked sends to every connection of id; h.mu must be held.
func (h *onlineHub) toPersonLocked(id, typ string, data any) {
	p := h.people[id]
	if p == nil {
		return
	}
	b, err := encodeFrame(typ, data)
	if err != nil {
		return
	}
	for c := range p.conns {
		c.enqueue(b)
	}
}

// busyChangedLocked tells everyone of each of ids whose busy flag
// changed since they were last told.
func (h *onlineHub) busyChangedLocked(ids ...string) {
	for _, id := range ids {
		p := h.people[id]
		if p == nil {
			continue
		}
		if st := h.personLocked(p); st.Busy != p.shown {
			p.shown = st.Busy
			h.broadcastLocked(p, calls.TypePersonUpdated, st)
		}
	}
}

// handle dispatches one request of a signed-in connection.
func (c *onlineConn) handle(env wire.Envelope) {
	switch env.Type {
	case calls.TypeInvite:
		var in calls.Invite
		if err := json.Unmarshal(env.Data, &in); err != nil {
			c.sendError(wire.CodeBadMessage, "invite: "+err.Error(), "")
			return
		}
		if err := in.Validate(); err != nil {
			c.sendError(wire.CodeBadMessage, err.Error(), in.Ref)
			return
		}
		c.h.invite(c, in)
	case calls.TypeAccept, calls.TypeDecline, calls.TypeCancel, calls.TypeHangup:
		var a calls.Answer
		if err := json.Unmarshal(env.Data, &a); err != nil {
			c.sendError(wire.CodeBadMessage, env.Type+": "+err.Error(), "")
			return
		}
		if err := a.Validate(); err != nil {
			c.sendError(wire.CodeBadMessage, env.Type+": "+err.Error(), a.Ref)
			return
		}
		c.h.answer(c, env.Type, a)
	case calls.TypeSetBusy:
		var sb calls.SetBusy
		if err := json.Unmarshal(env.Data, &sb); err != nil {
			c.sendError(wire.CodeBadMessage, "set_busy: "+err.Error(), "")
			return
		}
		h := c.h
		h.mu.Lock()
		if c.person.selfBusy != sb.Busy {
			c.person.selfBusy = sb.Busy
			h.busyChangedLocked(c.person.id)
		}
		h.mu.Unlock()
	case calls.TypeHello:
		c.sendError(wire.CodeBadMessage, "already signed in", "")
	default:
		c.sendError(wire.CodeBadMessage, "a client does not send "+env.Type, "")
	}
}
