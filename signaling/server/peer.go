package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/internal/icewatch"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

const (
	sendQueue    = 256              // messages queued to one client before it is dropped as too slow
	writeWait    = 10 * time.Second // longest write of one message
	pongWait     = 45 * time.Second // a client silent this long is gone
	pingPeriod   = 15 * time.Second
	joinWait     = 10 * time.Second // the join must arrive this soon
	maxViolation = 100              // rate-limit violations before the connection is closed
	allocTick    = 500 * time.Millisecond
)

// peer is one websocket connection and, once joined, one participant.
//
// Goroutines: readPump alone reads the socket and handles messages, in
// order; writePump alone writes it, from the send queue. Fields set during
// join are written by readPump before the peer is added to a room and are
// read-only after. State fields are guarded by room.mu; the PeerConnection's
// transceivers and negotiation by negMu. Lock order: Server.mu, room.mu,
// peer.negMu.
type peer struct {
	s    *Server
	conn *websocket.Conn
	log  *slog.Logger
	send chan []byte
	done chan struct{}
	// limits are the connection's own until join, then its identity's
	// in the room (shared with its other connections, kept after close).
	limits *limits
	joined bool // limits are the identity's; release them at the end
	closer sync.Once

	closeCode int
	closeText string

	// Set at join.
	room     *room
	id, name string
	grants   token.Grants
	joinedAt time.Time
	pc       *webrtc.PeerConnection
	// bwe estimates the bandwidth from the server to this participant
	// (GCC over its TWCC feedback); alloc chooses, from it and from prefs,
	// the layer of each simulcast track it receives (simulcast.go).
	bwe   cc.BandwidthEstimator
	alloc *sfu.Allocator
	// iceServers is the TURN relay and this participant's credentials,
	// sent in joined; nil without a relay.
	iceServers []wire.ICEServer

	// Guarded by room.mu.
	mic, camera, screen bool
	published           map[string]*sfu.Track // by source
	left                bool
	chatFloor           int64 // chat up to this seq was in the joined message
	handRaisedAt        int64 // Unix ms, 0 while the hand is down (presence.go)

	// Guarded by negMu.
	negMu      sync.Mutex
	ready      bool   // joined was sent: offers may follow
	closing    bool   // cleanup has begun: no new subscriptions or tracks
	awaiting   bool   // an offer is being made or is out, its answer not yet in
	offerSDP   string // the offer sent, once it is out
	pending    bool   // another offer is needed after the answer
	iceRestart bool   // the next offer restarts ICE
	publishTr  map[string]*webrtc.RTPTransceiver
	subs       map[string]*subscription // by track id
	fresh      []*sfu.Track             // subscribed since the last answer
	// prefs are the layer preferences set with set_layer, by track id;
	// they outlive the track (a participant who rejoins keeps its tile).
	prefs map[string]sfu.Preference
	// simTracks are the simulcast tracks being received, by receiver:
	// their layers arrive one by one.
	simTracks map[*webrtc.RTPReceiver]*sfu.Track
	// camSimulcast: offers put simulcast on the camera m-line, until an
	// answer sends the camera without it.
	camSimulcast bool
	// standbyLayers: p joined with standby_layers (wire.Join), so it is
	// told which layers of its camera to send (standby.go);
	// standbyReset asks allocate to tell it again (its camera came on).
	standbyLayers bool
	standbyReset  atomic.Bool

	ice *icewatch.Watch // restarts ICE while media is down

	// layerMu orders the layer messages (simulcast.go) after joined: the
	// tracks p subscribes to while joining may switch layer before joined
	// is sent; their messages wait in heldLayers, the latest per track.
	layerMu    sync.Mutex
	welcomed   bool // joined was queued
	heldLayers map[string]wire.LayerChanged

	// relays counts the goroutines reading subscribers' feedback and the
	// published tracks' forwarders; cleanup waits for them.
	relays sync.WaitGroup
}

// subscription is one forwarded track sent to this peer on a transceiver
// the server added for it (sendonly on the server's side). A simulcast
// track comes through this peer's own down track.
type subscription struct {
	track  *sfu.Track
	down   *sfu.DownTrack // nil unless the track is simulcast
	gate   *sfu.Gate      // video that is not simulcast: pausable
	tr     *webrtc.RTPTransceiver
	sender *webrtc.RTPSender
}

// paused reports whether sub is a track that is not simulcast and is
// paused (set_layer).
func (sub *subscription) paused() bool { return sub.gate != nil && sub.gate.Paused() }

// requestKeyframe asks for a keyframe of what sub sends.
func (sub *subscription) requestKeyframe() {
	if sub.down != nil {
		sub.down.RequestKeyframe()
		return
	}
	sub.track.RequestKeyframe()
}

func newPeer(s *Server, conn *websocket.Conn, remote string) *peer {
	return &peer{
		s: s, conn: conn, log: s.log.With("remote", remote),
		send:      make(chan []byte, sendQueue),
		done:      make(chan struct{}),
		limits:    s.newLimits(),
		published: make(map[string]*sfu.Track),
		publishTr: make(map[string]*webrtc.RTPTransceiver),
		subs:      make(map[string]*subscription),
		prefs:     make(map[string]sfu.Preference),
		simTracks: make(map[*webrtc.RTPReceiver]*sfu.Track),
	}
}

// sendMsg queues a message. A client whose queue is full is too slow to
// keep up and is disconnected rather than waited for.
func (p *peer) sendMsg(t string, payload any) {
	b, err := wire.Encode(t, payload)
	if err != nil {
		p.log.Error("encode", "type", t, "err", err)
		return
	}
	p.sendRaw(b)
}

func (p *peer) sendRaw(b []byte) {
	select {
	case <-p.done:
	case p.send <- b:
	default:
		p.log.Warn("client too slow, dropping it", "id", p.id)
		p.close(websocket.ClosePolicyViolation, "too slow")
	}
}

func (p *peer) sendError(code, msg, ref string) {
	p.sendMsg(wire.TypeError, wire.Error{Code: code, Message: msg, Ref: ref})
}

// fail sends a fatal error and closes the connection after it.
func (p *peer) fail(code, msg string) {
	p.sendMsg(wire.TypeError, wire.Error{Code: code, Message: msg, Fatal: true})
	closeCode := websocket.ClosePolicyViolation
	if code == wire.CodeInternal {
		closeCode = websocket.CloseInternalServerErr
	}
	p.close(closeCode, code)
}

// close ends the connection once: the write pump flushes what is queued,
// sends a close frame and closes the socket, which ends the read pump.
func (p *peer) close(code int, text string) {
	p.closer.Do(func() {
		p.closeCode, p.closeText = code, text
		close(p.done)
	})
}

func (p *peer) writePump() {
	defer p.s.wg.Done()
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	defer p.conn.Close()
	for {
		select {
		case b := <-p.send:
			if err := p.write(b); err != nil {
				p.close(websocket.CloseGoingAway, "write failed")
				return
			}
		case <-ping.C:
			if err := p.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				p.close(websocket.CloseGoingAway, "ping failed")
				return
			}
		case <-p.done:
			for {
				select {
				case b := <-p.send:
					if p.write(b) != nil {
						return
					}
					continue
				default:
				}
				break
			}
			_ = p.conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(p.closeCode, p.closeText), time.Now().Add(time.Second))
			return
		}
	}
}

func (p *peer) write(b []byte) error {
	_ = p.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return p.conn.WriteMessage(websocket.TextMessage, b)
}

func (p *peer) readPump() {
	defer p.s.wg.Done()
	defer p.cleanup()
	defer func() {
		if p.joined {
			p.s.releaseLimits(p.limits)
		}
	}()
	p.conn.SetReadLimit(wire.MaxMessageBytes)
	_ = p.conn.SetReadDeadline(time.Now().Add(p.s.cfg.JoinTimeout))
	p.conn.SetPongHandler(func(string) error {
		return p.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		mt, b, err := p.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case p.room == nil && errors.As(err, &ne) && ne.Timeout():
				p.fail(wire.CodeNotJoined, fmt.Sprintf("no join within %v", p.s.cfg.JoinTimeout))
			case errors.Is(err, websocket.ErrReadLimit):
				// gorilla has already sent close 1009 (message too big).
				p.close(websocket.CloseMessageTooBig, wire.CodeTooLarge)
			case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
				p.close(websocket.CloseNormalClosure, "")
			default:
				p.close(websocket.CloseGoingAway, "read failed")
			}
			return
		}
		p.s.metrics.wsMessages.Add(1)
		if !p.limits.msgs.Allow() {
			p.s.metrics.rateLimited.Add(1)
			if p.limits.violation(time.Now()) > maxViolation {
				p.fail(wire.CodeRateLimited, "too many messages; disconnected")
				return
			}
			ref := "" // name the chat message dropped, so its sender knows
			if env, err := wire.DecodeEnvelope(b); err == nil {
				ref = wire.Ref(env)
			}
			p.sendError(wire.CodeRateLimited, "too many messages; slow down", ref)
			continue
		}
		if mt != websocket.TextMessage {
			const msg = "binary frames are not accepted; send JSON in text frames"
			if p.room == nil {
				p.fail(wire.CodeBadMessage, msg)
				return
			}
			p.sendError(wire.CodeBadMessage, msg, "")
			continue
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			if p.room == nil {
				p.fail(wire.Code(err), err.Error())
				return
			}
			p.sendError(wire.Code(err), err.Error(), wire.Ref(env))
			continue
		}
		if p.room == nil {
			if env.Type != wire.TypeJoin {
				p.fail(wire.CodeNotJoined, "the first message must be join")
				return
			}
			if !p.handleJoin(env) {
				return
			}
			// From now on the identity's limits apply, which outlive
			// this connection.
			p.limits, p.joined = p.s.acquireLimits(p.room.name, p.id), true
			_ = p.conn.SetReadDeadline(time.Now().Add(pongWait))
			continue
		}
		if !p.handle(env) {
			return
		}
	}
}

// handle dispatches one message of a joined peer; false ends the connection.
func (p *peer) handle(env wire.Envelope) bool {
	switch env.Type {
	case wire.TypeAnswer:
		var a wire.Answer
		if err := wire.DecodeData(env, &a); err != nil {
			p.sendError(wire.CodeBadMessage, err.Error(), "")
			return true
		}
		p.handleAnswer(a)
	case wire.TypeSetSource:
		var ss wire.SetSource
		if err := wire.DecodeData(env, &ss); err != nil {
			p.sendError(wire.CodeBadMessage, err.Error(), "")
			return true
		}
		p.handleSetSource(ss)
	case wire.TypeChat:
		var c wire.ChatSend
		if err := wire.DecodeData(env, &c); err != nil {
			p.sendError(wire.Code(err), err.Error(), c.ID)
			return true
		}
		p.handleChat(c)
	case wire.TypeHistory:
		var h wire.HistoryRequest
		if err := wire.DecodeData(env, &h); err != nil {
			p.sendError(wire.CodeBadMessage, err.Error(), h.Req)
			return true
		}
		p.handleHistory(h)
	case wire.TypeSetHand:
		var h wire.SetHand
		if err := wire.DecodeData(env, &h); err != nil {
			p.sendError(wire.CodeBadMessage, err.Error(), "")
			return true
		}
		p.handleSetHand(h)
	case wire.TypeReact:
		var rc wire.React
		if err := wire.DecodeData(env, &rc); err != nil {
			p.sendError(wire.CodeBadMessage, err.Error(), "")
			return true
		}
		p.handleReact(rc)
	case wire.TypeSetLayer:
		var sl wire.SetLayer
		if err := wire.DecodeData(env, &sl); err != nil {
			p.sendError(wire.CodeBadMessage, err.Error(), "")
			return true
		}
		p.handleSetLayer(sl)
	case wire.TypeRenegotiate:
		var rn wire.Renegotiate
		if len(env.Data) > 0 && string(env.Data) != "null" {
			if err := wire.DecodeData(env, &rn); err != nil {
				p.sendError(wire.CodeBadMessage, err.Error(), "")
				return true
			}
		}
		if rn.ICERestart {
			p.restartICE("asked by the client")
			return true
		}
		p.negotiate()
	case wire.TypeStartRecording, wire.TypeStopRecording:
		p.handleRecording(env.Type == wire.TypeStartRecording)
	case wire.TypeLeave:
		p.close(websocket.CloseNormalClosure, "left")
		return false
	case wire.TypeJoin:
		p.sendError(wire.CodeBadMessage, "already joined", "")
	default:
		p.sendError(wire.CodeBadMessage, "a client does not send "+env.Type, "")
	}
	return true
}

// joinRefusal maps a token verification error to its wire code.
func joinRefusal(err error) (code, msg string) {
	switch {
	case errors.Is(err, token.ErrExpired):
		return wire.CodeTokenExpired, "the token has expired"
	case errors.Is(err, token.ErrNotYetValid):
		return wire.CodeTokenNotYetValid, "the token is not valid yet"
	default:
		return wire.CodeTokenInvalid, "the token is not valid"
	}
}

func (p *peer) refuse(code, msg string) bool {
	p.s.metrics.refused(code)
	p.log.Info("join refused", "code", code, "why", msg)
	p.fail(code, msg)
	return false
}

// handleJoin authenticates and places the peer in its room; false means
// the join was refused and the connection is closing.
func (p *peer) handleJoin(env wire.Envelope) bool {
	var j wire.Join
	if err := wire.DecodeData(env, &j); err != nil {
		return p.refuse(wire.CodeBadMessage, err.Error())
	}
	claims, err := token.Verify(p.s.cfg.Secret, j.Token, p.s.cfg.Now())
	if err != nil {
		code, msg := joinRefusal(err)
		return p.refuse(code, msg)
	}
	if claims.Room != j.Room {
		return p.refuse(wire.CodeRoomMismatch, "the token is for another room")
	}
	if wire.ValidateName("identity", claims.Identity) != nil || wire.ValidateName("name", claims.Name) != nil {
		return p.refuse(wire.CodeTokenInvalid, "the token's identity or name is not valid")
	}
	if code, msg := p.s.online.admit(claims.Room, claims.Identity); code != "" {
		return p.refuse(code, msg) // a call's room admits its members only
	}
	if (j.Mic || j.Camera) && !claims.Grants.Publish {
		return p.refuse(wire.CodePermissionDenied, "the token does not allow publishing")
	}
	pc, bwe, err := p.s.engine.NewPeer()
	if err != nil {
		p.log.Error("peer connection", "err", err)
		return p.refuse(wire.CodeInternal, "the media connection could not be set up")
	}
	p.bwe = bwe
	p.alloc = sfu.NewAllocator(p.estimate)
	p.camSimulcast = claims.Grants.Publish
	p.pc, p.id, p.name, p.grants, p.joinedAt = pc, claims.Identity, claims.Name, claims.Grants, p.s.cfg.Now()
	if p.s.relay != nil {
		var exp time.Time
		if claims.ExpiresAt != nil {
			exp = claims.ExpiresAt.Time
		}
		user, pass := p.s.relay.Credentials(p.id, exp, p.s.cfg.Now())
		p.iceServers = []wire.ICEServer{{URLs: p.s.relay.URLs(), Username: user, Credential: pass}}
	}
	p.log = p.log.With("id", p.id, "room", claims.Room)
	p.mic, p.camera = j.Mic, j.Camera
	p.standbyLayers = j.StandbyLayers && p.grants.Publish
	if p.grants.Publish {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
			tr, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
			if err != nil {
				return p.refuse(wire.CodeInternal, "the media connection could not be set up")
			}
			src := wire.SourceMicrophone
			if kind == webrtc.RTPCodecTypeVideo {
				src = wire.SourceCamera
			}
			p.publishTr[src] = tr
		}
	}
	p.watchPeerConnection()

	r, code, msg := p.s.enter(claims.Room, p, j.AfterSeq)
	if r == nil {
		pc.Close()
		p.pc = nil
		return p.refuse(code, msg)
	}
	p.s.metrics.joins.Add(1)
	p.log.Info("joined")
	p.relays.Add(1)
	go p.allocate()
	p.negMu.Lock()
	p.ready = true
	p.negMu.Unlock()
	p.negotiate()
	return true
}

// watchPeerConnection hooks the PeerConnection's callbacks: published
// tracks arriving, and keyframe requests once media flows.
func (p *peer) watchPeerConnection() {
	p.pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		source := ""
		p.negMu.Lock()
		for src, tr := range p.publishTr {
			if tr.Receiver() == receiver {
				source = src
			}
		}
		closing := p.closing
		if source != "" && !closing {
			p.relays.Add(1)
		}
		p.negMu.Unlock()
		if closing {
			return
		}
		if source == "" {
			p.log.Warn("track on an m-line the server did not offer for publishing")
			return
		}
		defer p.relays.Done()
		if remote.RID() != "" {
			p.receiveLayer(remote, receiver, source)
			return
		}
		t, err := sfu.NewTrack(p.pc, remote, receiver, wire.TrackID(p.id, source), p.id, source, &p.s.metrics.sfu, sfu.WithBatcher(p.s.engine))
		if err != nil {
			p.log.Error("track", "err", err)
			return
		}
		p.room.publish(p, t)
		var onLevel func(uint8, bool)
		if t.Kind == webrtc.RTPCodecTypeAudio {
			det, id := p.room.speakers, p.id
			onLevel = func(level uint8, _ bool) { det.Observe(id, level, time.Now()) }
		}
		if err := t.Forward(onLevel); err != nil {
			p.log.Debug("forwarding ended", "track", t.ID, "err", err)
		}
		p.room.unpublish(p, t)
	})
	p.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			p.requestKeyframes(nil)
		}
	})
	p.ice = p.newICEWatch()
	p.pc.OnICEConnectionStateChange(p.ice.State)
}

// requestKeyframes asks the publishers of tracks (all subscribed tracks if
// nil) for a keyframe, so this peer's decoders start at once.
func (p *peer) requestKeyframes(tracks []*sfu.Track) {
	var subs []*subscription
	p.negMu.Lock()
	if tracks == nil {
		for _, sub := range p.subs {
			subs = append(subs, sub)
		}
	} else {
		for _, t := range tracks {
			if sub := p.subs[t.ID]; sub != nil && sub.track == t {
				subs = append(subs, sub)
			}
		}
	}
	p.negMu.Unlock()
	for _, sub := range subs {
		sub.requestKeyframe()
	}
}

func (p *peer) cleanup() {
	if p.room != nil {
		reason := p.closeText
		if reason == "" {
			reason = "left"
		}
		p.room.remove(p, reason)
	}
	p.negMu.Lock()
	p.closing = true
	// This peer's own down tracks come off the tracks it received: their
	// publishers go on forwarding to the others.
	for _, sub := range p.subs {
		if sub.down != nil {
			sub.down.Close()
		}
	}
	p.negMu.Unlock()
	if p.ice != nil {
		p.ice.Stop()
	}
	if p.pc != nil {
		_ = p.pc.Close()
	}
	p.relays.Wait() // forwarders and feedback readers end with the PeerConnection
	p.s.forget(p)
}
