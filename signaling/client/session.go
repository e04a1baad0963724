// Package client is the Confab client session: one websocket to the
// server and one PeerConnection to its SFU, publishing the local
// microphone, camera and screen and receiving everyone else's. Join
// returns a Session whose events arrive, in order, on one channel.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/internal/serverurl"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// DefaultReconnectFor is how long a lost session keeps trying to rejoin
// when Config.ReconnectFor is zero: long enough for a laptop lid, a Wi-Fi
// change or a server restart, as Meet and Zoom keep trying for minutes.
const DefaultReconnectFor = 15 * time.Minute

// MaxReconnectWait is the longest wait between two rejoin attempts.
const MaxReconnectWait = 15 * time.Second

// Sentinel errors.
var (
	ErrClosed      = errors.New("client: session has ended")
	ErrUnreachable = errors.New("client: server unreachable")
	ErrNoMedia     = errors.New("client: no local media configured")
	ErrChatTimeout = errors.New("client: the server did not confirm the message")
	ErrProtocol    = errors.New("client: protocol error")
)

// Config says where and how to join.
type Config struct {
	// Server is the server's base URL: http://host:port (or ws://, https://, wss://).
	Server string
	// Token admits to the room. Empty asks the server's /api/token for one
	// (servers in open mode hand them out).
	Token string
	// Room and Name are the room to join and, without a Token, the display name.
	Room, Name string
	// Mic and Camera are the sources to start with.
	Mic, Camera bool
	// Media opens local devices; nil joins receive-only.
	Media LocalMedia
	// Decoders decodes remote media; nil receives without decoding.
	Decoders Decoders
	// Audio plays decoded remote audio; nil discards it.
	Audio AudioSink
	// LoopbackOnly keeps media on 127.0.0.1 (tests, the embedded server).
	LoopbackOnly bool
	// ReconnectFor is how long a lost session keeps trying to rejoin
	// (default DefaultReconnectFor; negative: never). Between attempts it
	// waits longer and longer, up to MaxReconnectWait.
	ReconnectFor time.Duration
	// ChatTimeout is how long a sent message waits for the server (default 10s).
	ChatTimeout time.Duration
	// Logger receives the session's logs (default: discard).
	Logger *slog.Logger
	// HTTPClient fetches tokens (default: a client with a 10s timeout).
	HTTPClient *http.Client
}

// RemoteStats counts what was received from one remote participant.
type RemoteStats struct {
	ID           string
	Name         string
	Frames       uint64
	VideoPackets uint64
	AudioPackets uint64
	// AudioDecoded counts audio packets decoded (pulled by the AudioSink).
	AudioDecoded uint64
	// FirstVideoPacket is when their first video RTP packet arrived, and
	// FirstFrame when the first video frame from them was decoded.
	FirstVideoPacket time.Time
	FirstFrame       time.Time
	// PacketsLost and PacketsReceived total the RTP packets of their audio
	// and video lost and received on the current connection (RFC 3550
	// cumulative loss, from pion's stats interceptor); Connection numbers
	// that connection, so a reader knows when the totals start again.
	PacketsLost     int64
	PacketsReceived uint64
	Connection      uint64
	// RTT is the round-trip time to the server, from the ICE candidate
	// pair in use; zero until measured.
	RTT time.Duration
}

type remoteCounters struct {
	frames, videoPackets, audioPackets atomic.Uint64
	firstFrame, firstVideoPacket       atomic.Int64
	audio                              atomic.Pointer[AudioDecoder]
	net                                netCounters // guarded by Session.mu
}

// Session is a joined room. Its methods are safe for concurrent use.
type Session struct {
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	token  string
	wsURL  string
	events *eventQueue
	stop   chan struct{}
	ended  chan struct{}
	leave  sync.Once
	retry  chan struct{} // ReconnectNow: try at once

	mu      sync.Mutex
	state   State
	self    Participant
	room    string
	names   map[string]string
	lastSeq int64   // every chat message up to it was delivered
	gap     gapFill // fetching what a rejoin's joined message left out
	pending map[string]*pendingChat
	local   map[string]LocalTrack
	enabled map[string]bool
	// sendLayers are the camera layers the server said to send last
	// (standby.go); nil: every layer.
	sendLayers []string
	conn       *conn
	stats      map[string]*remoteCounters
	rtt        time.Duration // to the server, from the latest stats reading
	leaving    bool
	finished   bool
	started    time.Time

	handUp bool // the user wants the hand raised (presence.go)

	bwe    *sendEstimate // the send bandwidth estimate (bwe.go)
	layers layerPrefs    // what was asked of remote videos (layers.go)
}

// Join connects to the server, enters the room and starts media. It
// returns when the server has admitted the session (or refused it: the
// error then wraps a *wire.Error whose Code says why) and leaves media to
// connect in the background.
func Join(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.ReconnectFor == 0 {
		cfg.ReconnectFor = DefaultReconnectFor
	}
	if cfg.ChatTimeout == 0 {
		cfg.ChatTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if err := wire.ValidateName("room", cfg.Room); err != nil {
		return nil, err
	}
	base, wsURL, err := serverURLs(cfg.Server)
	if err != nil {
		return nil, err
	}
	bwe := &sendEstimate{}
	api, err := newAPI(cfg, bwe)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg: cfg, log: cfg.Logger, api: api, token: cfg.Token, wsURL: wsURL, bwe: bwe,
		events: newEventQueue(), stop: make(chan struct{}), ended: make(chan struct{}), retry: make(chan struct{}, 1),
		names: map[string]string{}, pending: map[string]*pendingChat{}, local: map[string]LocalTrack{},
		enabled: map[string]bool{wire.SourceMicrophone: cfg.Mic, wire.SourceCamera: cfg.Camera},
		stats:   map[string]*remoteCounters{}, started: time.Now(),
	}
	if s.token == "" {
		if err := wire.ValidateName("name", cfg.Name); err != nil {
			return nil, err
		}
		if s.token, err = fetchToken(ctx, cfg.HTTPClient, base, cfg.Room, cfg.Name); err != nil {
			s.events.close()
			return nil, err
		}
	}
	s.events.push(StateChanged{State: StateConnecting})
	c, joined, err := s.connect(ctx)
	if err != nil {
		s.closeLocal()
		s.events.close()
		return nil, err
	}
	s.welcome(c, joined, false)
	go s.supervise(c)
	return s, nil
}

func newAPI(cfg Config, bwe *sendEstimate) (*webrtc.API, error) {
	logf := sfu.NewLoggerFactory(cfg.Logger)
	se := webrtc.SettingEngine{LoggerFactory: logf}
	// TCP4 lets the client reach a server's ICE-TCP candidates (it dials
	// out as an active candidate) when UDP is blocked.
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	sfu.ConfigureCandidates(&se, cfg.LoopbackOnly, nil)
	me, ir, err := sfu.NewMediaEngine()
	if err != nil {
		return nil, err
	}
	if err := sfu.AddCongestionControl(ir, InitialSendEstimate, logf, bwe.attach); err != nil {
		return nil, err
	}
	ir.Add(&rembWatch{e: bwe})
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir)), nil
}

// serverURLs derives the HTTP base and the websocket URL from a server URL
// (a URL that already ends in /ws is taken as the server's).
func serverURLs(server string) (base, ws string, err error) {
	u, err := serverurl.Parse(server)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/ws")
	return u.String(), serverurl.WS(u, "/ws"), nil
}

// TokenResponse is what a server's /api/token answers.
type TokenResponse struct {
	Token    string `json:"token"`
	Identity string `json:"identity"`
}

func fetchToken(ctx context.Context, hc *http.Client, base, room, name string) (string, error) {
	q := url.Values{"room": {room}, "name": {name}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/token?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if resp.StatusCode != http.StatusOK {
		var we wire.Error
		if json.Unmarshal(body, &we) == nil && we.Code != "" {
			return "", fmt.Errorf("token: %w", &we)
		}
		return "", fmt.Errorf("%w: token request: %s", ErrUnreachable, resp.Status)
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.Token == "" {
		return "", fmt.Errorf("%w: token response unreadable", ErrProtocol)
	}
	return tr.Token, nil
}

// Events delivers the session's events in order. The channel is closed
// after the final StateChanged{State: StateLeft}.
func (s *Session) Events() <-chan Event { return s.events.out }

// Self returns the local participant as the server last described it.
func (s *Session) Self() Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.self
}

// Room returns the room's name.
func (s *Session) Room() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.room
}

// State returns where the session is.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Started is when Join was called.
func (s *Session) Started() time.Time { return s.started }

// Stats returns per-participant reception counts.
func (s *Session) Stats() []RemoteStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RemoteStats, 0, len(s.stats))
	for id, c := range s.stats {
		rs := RemoteStats{ID: id, Name: s.names[id], Frames: c.frames.Load(), VideoPackets: c.videoPackets.Load(), AudioPackets: c.audioPackets.Load(),
			PacketsLost: c.net.lost, PacketsReceived: c.net.received, Connection: c.net.conn, RTT: s.rtt}
		if d := c.audio.Load(); d != nil {
			rs.AudioDecoded = (*d).Decoded()
		}
		if ns := c.firstFrame.Load(); ns != 0 {
			rs.FirstFrame = time.Unix(0, ns)
		}
		if ns := c.firstVideoPacket.Load(); ns != 0 {
			rs.FirstVideoPacket = time.Unix(0, ns)
		}
		out = append(out, rs)
	}
	return out
}

func (s *Session) counters(id string) *remoteCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats[id]
	if c == nil {
		c = &remoteCounters{}
		s.stats[id] = c
	}
	return c
}

func (s *Session) setState(st State, err error) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
	s.events.push(StateChanged{State: st, Err: err})
}

// welcome applies a joined message and announces it.
func (s *Session) welcome(c *conn, j wire.Joined, rejoined bool) {
	s.mu.Lock()
	s.self, s.room, s.conn = j.You, j.Room, c
	s.names[j.You.ID] = j.You.Name
	for _, p := range j.Participants {
		s.names[p.ID] = p.Name
	}
	for _, m := range j.Chat {
		s.lastSeq = max(s.lastSeq, m.Seq)
	}
	gapReq := s.startGapFillLocked(j)
	s.mu.Unlock()
	s.events.push(Welcome{Room: j.Room, You: j.You, Participants: j.Participants, Chat: j.Chat, ChatMore: j.ChatMore, Rejoined: rejoined,
		Recording: j.Recording, CanRecord: j.CanRecord})
	s.setState(StateConnected, nil)
	s.restoreHand(c, j.You)
	s.sendEveryLayer()
	s.announceLocalVideo()
	s.resendLayers(c)
	s.resendPending()
	s.sendGapRequest(gapReq) // the rest arrives as ChatReceived
}

// Leave ends the session: it tells the server, closes the PeerConnection
// and the socket, releases the camera, microphone and screen, and waits
// for every goroutine it started but the event queue's, which ends once
// the events are read (or after a few seconds unread). It is safe to call
// more than once.
func (s *Session) Leave() error {
	s.leave.Do(func() {
		s.mu.Lock()
		s.leaving = true
		c := s.conn
		s.mu.Unlock()
		if c != nil {
			c.sendMsg(wire.TypeLeave, struct{}{})
		}
		close(s.stop)
	})
	<-s.ended
	return nil
}

// Done is closed when the session has ended and released everything.
func (s *Session) Done() <-chan struct{} { return s.ended }

// supervise watches the connection; when it drops, it rejoins with the
// same token and fetches the chat messages missed, for up to ReconnectFor.
func (s *Session) supervise(c *conn) {
	var endErr error
	defer func() { s.finish(endErr) }()
	for {
		select {
		case <-c.done:
		case <-s.stop:
			c.shutdown()
			return
		}
		c.shutdown()
		cause := c.cause()
		if s.isLeaving() {
			return
		}
		if fatal(cause) || s.cfg.ReconnectFor < 0 {
			endErr = cause
			return
		}
		s.log.Info("connection lost; reconnecting", "err", cause)
		s.closeLocal()
		s.setState(StateReconnecting, cause)
		next, err := s.reconnect(cause)
		if next == nil {
			endErr = err
			return
		}
		c = next
	}
}

// Reconnecting reports, before each wait of a lost session, when the
// next rejoin attempt is due and until when the session keeps trying.
// Attempt counts the attempts made so far; Err is why the last one failed.
type Reconnecting struct {
	Attempt int
	Next    time.Time
	Until   time.Time
	Err     error
}

func (Reconnecting) event() {}

// ReconnectNow makes a session that lost its connection try to rejoin at
// once instead of waiting out its backoff (the "Rejoin now" button). It
// does nothing while connected.
func (s *Session) ReconnectNow() {
	select {
	case s.retry <- struct{}{}:
	default:
	}
}

// reconnectWait is how long to wait before rejoin attempt n (0-based):
// 250 ms doubling up to MaxReconnectWait, with up to 20% of jitter so
// the clients of a restarted server do not all come back at once.
func reconnectWait(n int, jitter float64) time.Duration {
	d := 250 * time.Millisecond
	for i := 0; i < n && d < MaxReconnectWait; i++ {
		d *= 2
	}
	d = min(d, MaxReconnectWait)
	return d - time.Duration(float64(d)*0.2*jitter)
}

// reconnect rejoins with the same token until it works, a refusal says
// it never will, the user leaves, or ReconnectFor has passed.
func (s *Session) reconnect(cause error) (*conn, error) {
	until := time.Now().Add(s.cfg.ReconnectFor)
	err := cause
	select { // a click from an earlier outage does not count
	case <-s.retry:
	default:
	}
	for attempt := 0; time.Now().Before(until); attempt++ {
		wait := reconnectWait(attempt, rand.Float64())
		s.events.push(Reconnecting{Attempt: attempt, Next: time.Now().Add(wait), Until: until, Err: err})
		t := time.NewTimer(wait)
		select {
		case <-s.stop:
			t.Stop()
			return nil, nil
		case <-s.retry:
			t.Stop()
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, joined, cerr := s.connect(ctx)
		cancel()
		if cerr == nil {
			s.welcome(c, joined, true)
			return c, nil
		}
		err = cerr
		if fatal(cerr) {
			return nil, cerr
		}
		s.log.Debug("rejoin failed", "attempt", attempt+1, "err", cerr)
	}
	return nil, err
}

// fatal reports errors that a retry cannot fix.
func fatal(err error) bool {
	var we *wire.Error
	if !errors.As(err, &we) {
		return false
	}
	switch we.Code {
	case wire.CodeRateLimited, wire.CodeInternal, "":
		return false
	}
	return true
}

func (s *Session) isLeaving() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaving
}

// finish releases local media and ends the event stream, once.
func (s *Session) finish(err error) {
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	s.finished = true
	s.mu.Unlock()
	s.closeLocal()
	s.setState(StateLeft, err)
	s.events.close()
	close(s.ended)
}
