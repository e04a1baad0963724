package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/internal/icewatch"
	"github.com/confab/confab/signaling/wire"
)

const (
	clientReadLimit = 1 << 20 // offers for a full room can be large
	writeWait       = 10 * time.Second
	gatherWait      = 5 * time.Second
)

// conn is one connection attempt: a websocket and a PeerConnection. A
// reconnect makes a new one. readLoop alone reads the socket (and handles
// offers, in order); writeLoop alone writes it.
type conn struct {
	id   uint64 // numbers connections, for the stats
	s    *Session
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	send chan []byte
	done chan struct{}

	closeOnce sync.Once
	errMu     sync.Mutex
	err       error

	pcMu  sync.Mutex // serializes changes to the PeerConnection
	slots map[string]*webrtc.RTPTransceiver
	// offered maps each publish m-line that receives simulcast to its
	// RIDs, lowest first, from the latest offer; sim holds the encodings
	// of a source sent in simulcast (layers.go). Guarded by pcMu.
	offered map[string][]string
	sim     map[string][]*layerSlot

	// routes maps the mid of each m-line the server sends on to whose
	// track it carries, from the latest offer (PROTOCOL.md §5.2 "tracks").
	routesMu sync.Mutex
	routes   map[string]wire.TrackRef

	ice *icewatch.Watch // asks for ICE restarts while media is down

	wg       sync.WaitGroup
	tracksMu sync.Mutex
	closing  bool
}

// connect dials the server, opens the sources that are on, sends join and
// waits for the answer.
func (s *Session) connect(ctx context.Context) (*conn, wire.Joined, error) {
	var joined wire.Joined
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, s.wsURL, nil)
	if err != nil {
		if resp != nil {
			return nil, joined, fmt.Errorf("%w: %s", ErrUnreachable, resp.Status)
		}
		return nil, joined, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	ws.SetReadLimit(clientReadLimit)
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		ws.Close()
		return nil, joined, err
	}
	c := &conn{id: connIDs.Add(1), s: s, ws: ws, pc: pc, send: make(chan []byte, 256), done: make(chan struct{}), slots: map[string]*webrtc.RTPTransceiver{},
		sim: map[string][]*layerSlot{}}
	pc.OnTrack(c.onTrack)
	c.watchICE()
	s.openEnabled()

	s.mu.Lock()
	join := wire.Join{Token: s.token, Room: s.cfg.Room, AfterSeq: s.lastSeq,
		Mic: s.local[wire.SourceMicrophone] != nil, Camera: s.local[wire.SourceCamera] != nil, StandbyLayers: true}
	s.mu.Unlock()
	fail := func(err error) (*conn, wire.Joined, error) {
		pc.Close()
		ws.Close()
		return nil, joined, err
	}
	b, _ := wire.Encode(wire.TypeJoin, join)
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetWriteDeadline(dl)
		_ = ws.SetReadDeadline(dl)
	} else {
		_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	}
	if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
	}
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return fail(fmt.Errorf("%w: no answer to join: %w", ErrUnreachable, err))
	}
	env, err := wire.DecodeEnvelope(msg)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	switch env.Type {
	case wire.TypeJoined:
		if err := wire.DecodeData(env, &joined); err != nil {
			return fail(fmt.Errorf("%w: %w", ErrProtocol, err))
		}
		if err := c.useICEServers(joined.ICEServers); err != nil {
			s.log.Warn("the server's relay cannot be used", "err", err)
		}
	case wire.TypeError:
		var we wire.Error
		if err := wire.DecodeData(env, &we); err != nil {
			return fail(fmt.Errorf("%w: %w", ErrProtocol, err))
		}
		return fail(fmt.Errorf("join refused: %w", &we))
	default:
		return fail(fmt.Errorf("%w: expected joined, got %s", ErrProtocol, env.Type))
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	ws.SetPingHandler(func(data string) error {
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
	})
	c.wg.Add(3)
	go c.readLoop()
	go c.writeLoop()
	go c.watchStats()
	return c, joined, nil
}

// useICEServers adds the server's TURN relay (from joined) to the
// PeerConnection before the first offer makes it gather candidates.
func (c *conn) useICEServers(servers []wire.ICEServer) error {
	if len(servers) == 0 {
		return nil
	}
	cfg := c.pc.GetConfiguration()
	for _, sv := range servers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	return c.pc.SetConfiguration(cfg)
}

func (c *conn) fail(err error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
	c.closeOnce.Do(func() { close(c.done) })
}

func (c *conn) cause() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// shutdown closes the connection and waits for its goroutines, including
// the remote tracks' readers.
func (c *conn) shutdown() {
	c.ice.Stop()
	c.fail(errors.New("closed"))
	c.tracksMu.Lock()
	c.closing = true
	c.tracksMu.Unlock()
	_ = c.pc.Close()
	c.wg.Wait()
}

func (c *conn) sendMsg(t string, payload any) {
	b, err := wire.Encode(t, payload)
	if err != nil {
		return
	}
	select {
	case c.send <- b:
	case <-c.done:
	default:
		c.fail(errors.New("send queue full"))
	}
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	defer c.ws.Close()
	for {
		select {
		case b := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
				return
			}
		case <-c.done:
			for {
				select {
				case b := <-c.send:
					_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
					if c.ws.WriteMessage(websocket.TextMessage, b) != nil {
						return
					}
					continue
				default:
				}
				break
			}
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return
		}
	}
}

func (c *conn) readLoop() {
	defer c.wg.Done()
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
			return
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			c.s.log.Warn("bad message from server", "err", err)
			continue
		}
		if err := c.handle(env); err != nil {
			c.s.log.Warn("message not handled", "type", env.Type, "err", err)
		}
	}
}

func (c *conn) handle(env wire.Envelope) error {
	s := c.s
	switch env.Type {
	case wire.TypeOffer:
		var o wire.Offer
		if err := wire.DecodeData(env, &o); err != nil {
			return err
		}
		return c.handleOffer(o)
	case wire.TypeParticipantJoined, wire.TypeParticipantUpdated:
		var pe wire.ParticipantEvent
		if err := wire.DecodeData(env, &pe); err != nil {
			return err
		}
		s.mu.Lock()
		s.names[pe.Participant.ID] = pe.Participant.Name
		if pe.Participant.ID == s.self.ID {
			s.self = pe.Participant
		}
		s.mu.Unlock()
		if env.Type == wire.TypeParticipantJoined {
			s.events.push(ParticipantJoined{Participant: pe.Participant})
		} else {
			s.events.push(ParticipantUpdated{Participant: pe.Participant})
		}
	case wire.TypeParticipantLeft:
		var pl wire.ParticipantLeft
		if err := wire.DecodeData(env, &pl); err != nil {
			return err
		}
		s.events.push(ParticipantLeft{ID: pl.ID, Reason: pl.Reason})
	case wire.TypeSpeakers:
		var sp wire.Speakers
		if err := wire.DecodeData(env, &sp); err != nil {
			return err
		}
		s.events.push(SpeakersChanged{Speakers: sp.Speakers})
	case wire.TypeChat:
		var ce wire.ChatEvent
		if err := wire.DecodeData(env, &ce); err != nil {
			return err
		}
		s.chatArrived(ce.Message)
	case wire.TypeHistory:
		var h wire.History
		if err := wire.DecodeData(env, &h); err != nil {
			return err
		}
		s.historyArrived(h)
	case wire.TypeReaction:
		return s.reactionArrived(env)
	case wire.TypeLayer:
		return s.layerArrived(env)
	case wire.TypePublishLayers:
		return s.publishLayersArrived(env)
	case wire.TypeRecording:
		return s.recordingArrived(env)
	case wire.TypeError:
		var we wire.Error
		if err := wire.DecodeData(env, &we); err != nil {
			return err
		}
		if we.Fatal {
			c.fail(&we)
			return nil
		}
		if s.chatFailed(we.Ref, &we) {
			return nil
		}
		s.events.push(ErrorEvent{Err: &we})
	case wire.TypeJoined:
		return fmt.Errorf("%w: joined twice", ErrProtocol)
	}
	return nil
}

// handleOffer answers a server offer, sending local sources on the m-lines
// the offer names for them.
func (c *conn) handleOffer(o wire.Offer) error {
	c.pcMu.Lock()
	defer c.pcMu.Unlock()
	// Routes are set before the offer is applied: a track may start at once.
	// The server never moves an m-line from one track to another in one
	// offer, so a track still running keeps its route.
	c.routesMu.Lock()
	c.routes = o.Tracks
	c.routesMu.Unlock()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		return err
	}
	c.offered = offeredRIDs(o.SDP)
	for _, tr := range c.pc.GetTransceivers() {
		if src, ok := o.Publish[tr.Mid()]; ok && wire.ValidSource(src) {
			c.slots[src] = tr
		}
	}
	c.s.mu.Lock()
	for src, t := range c.s.local {
		if tr := c.slots[src]; tr != nil && tr.Sender() == nil {
			if err := c.attachLocal(tr, src, t); err != nil {
				c.s.log.Warn("attach", "source", src, "err", err)
			}
		}
	}
	c.s.mu.Unlock()
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := c.pc.SetLocalDescription(answer); err != nil {
		return err
	}
	select {
	case <-webrtc.GatheringCompletePromise(c.pc):
	case <-time.After(gatherWait):
	case <-c.done:
		return nil
	}
	c.sendMsg(wire.TypeAnswer, wire.Answer{SDP: cleanAnswer(c.pc.LocalDescription().SDP)})
	return nil
}

// attachPlain makes tr send t; c.pcMu must be held.
func (c *conn) attachPlain(tr *webrtc.RTPTransceiver, t webrtc.TrackLocal) error {
	_, err := c.newSender(tr, t)
	return err
}

// route tells whose track arrives on receiver, from the mid of its m-line
// and the latest offer's tracks map. A track on any other m-line (one of
// our publish m-lines, or one the offer does not name) is not routed.
func (c *conn) route(receiver *webrtc.RTPReceiver) (wire.TrackRef, string, bool) {
	mid := ""
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
			break
		}
	}
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	ref, ok := c.routes[mid]
	return ref, mid, ok && mid != ""
}

// onTrack receives one remote track until it ends: video is decoded into a
// frame slot the UI draws from, audio into PCM for the speaker. Whose track
// it is comes from the offer's tracks map, not from the msid.
func (c *conn) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	c.tracksMu.Lock()
	if c.closing {
		c.tracksMu.Unlock()
		return
	}
	c.wg.Add(1)
	c.tracksMu.Unlock()
	defer c.wg.Done()

	s := c.s
	ref, mid, ok := c.route(receiver)
	if !ok || !wire.ValidSource(ref.Source) {
		s.log.Warn("media on an m-line the offer does not name in tracks; ignored", "mid", mid, "msid", remote.StreamID()+" "+remote.ID())
		drain(remote)
		return
	}
	pid, source := ref.Participant, ref.Source
	counters := s.counters(pid)
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		c.receiveVideo(remote, pid, source, counters)
	} else {
		c.receiveAudio(remote, pid, counters)
	}
}

func (c *conn) receiveVideo(remote *webrtc.TrackRemote, pid, source string, counters *remoteCounters) {
	s := c.s
	if s.cfg.Decoders == nil {
		drain(remote)
		return
	}
	ssrc := uint32(remote.SSRC())
	dec, err := s.cfg.Decoders.NewVideoDecoder(func() {
		_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	})
	if err != nil {
		s.events.push(ErrorEvent{Err: fmt.Errorf("video decoder: %w", err)})
		drain(remote)
		return
	}
	defer dec.Close()
	s.events.push(VideoAdded{ParticipantID: pid, Source: source, Video: dec.Source()})
	defer s.events.push(VideoRemoved{ParticipantID: pid, Source: source})
	var seen uint64
	// Every packet is read into the same buffer and packet: the decoder
	// copies what it keeps (VideoDecoder.Push), so receiving allocates
	// nothing per packet.
	buf := make([]byte, receiveBufferSize)
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if counters.videoPackets.Add(1) == 1 {
			counters.firstVideoPacket.CompareAndSwap(0, time.Now().UnixNano())
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue // not RTP: dropped, as a decoder drops a bad packet
		}
		_ = dec.Push(&pkt) // a bad packet is dropped; the decoder asks for a keyframe
		if n := dec.FramesDecoded(); n != seen {
			if seen == 0 {
				counters.firstFrame.CompareAndSwap(0, time.Now().UnixNano())
			}
			counters.frames.Add(n - seen)
			seen = n
		}
	}
}

func (c *conn) receiveAudio(remote *webrtc.TrackRemote, pid string, counters *remoteCounters) {
	s := c.s
	var dec AudioDecoder
	if s.cfg.Decoders != nil {
		d, err := s.cfg.Decoders.NewAudioDecoder()
		if err != nil {
			s.events.push(ErrorEvent{Err: fmt.Errorf("audio decoder: %w", err)})
		} else {
			dec = d
			counters.audio.Store(&d)
			defer d.Close()
			if s.cfg.Audio != nil {
				s.cfg.Audio.Add(pid, d)
				defer s.cfg.Audio.Remove(pid)
			}
		}
	}
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		counters.audioPackets.Add(1)
		if dec != nil {
			dec.Push(pkt)
		}
	}
}

// receiveBufferSize holds any packet a track delivers: pion's receive MTU
// is 1460 bytes.
const receiveBufferSize = 1500

func drain(remote *webrtc.TrackRemote) {
	buf := make([]byte, receiveBufferSize)
	for {
		if _, _, err := remote.Read(buf); err != nil {
			return
		}
	}
}
