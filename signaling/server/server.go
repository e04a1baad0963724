// Package server is Confab's signaling server: it authenticates websocket
// clients with tokens, keeps the room registry, drives one SFU
// PeerConnection per participant, relays state changes and stores chat and
// meeting events. Layering points down: server -> sfu, store, token, wire.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/relay"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// ErrConfig reports an invalid server configuration.
var ErrConfig = errors.New("server: bad config")

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Store keeps chat and events. Required.
	Store store.Store
	// Secret signs and verifies tokens. Required, at least 16 bytes.
	Secret []byte
	// Open serves /api/token: anyone gets a token for a room and a name.
	Open bool
	// MaxParticipants caps a room (default 16).
	MaxParticipants int
	// AllowedOrigins lists browser origins allowed besides the server's own
	// (e.g. "https://app.example.com"). Native clients send no Origin.
	AllowedOrigins []string
	// Net places the media port and chooses ICE candidates.
	Net sfu.NetConfig
	// TURN, when set, runs the embedded TURN relay; each participant gets
	// its URLs and credentials in joined.ice_servers. Its Secret and
	// Logger default to the server's.
	TURN *relay.Config
	// MessageRate and MessageBurst bound each participant's messages per
	// second (default 30 and 60), per (room, identity) across connections.
	MessageRate  float64
	MessageBurst int
	// ChatRate and ChatBurst bound each participant's chat messages per
	// second (default 10 and 30), like MessageRate. Benchmarks raise them.
	ChatRate  float64
	ChatBurst int
	// ChatQueue is how many chat messages may wait for the store before
	// new ones are refused with overloaded (default 4096).
	ChatQueue int
	// ChatWait is how long a chat message may wait for the store before
	// it is refused with overloaded (default 1s).
	ChatWait time.Duration
	// JoinTimeout is how soon after connecting the join must arrive
	// (default 10s).
	JoinTimeout time.Duration
	// TokenTTL is the life of tokens from /api/token (default 12h).
	TokenTTL time.Duration
	// RingTimeout is how long a call invitation rings before it ends
	// with no_answer (default 30s; calls.go).
	RingTimeout time.Duration
	// RecordDir is where recordings go, one directory per recording
	// (recording.go); "" means the server does not record.
	RecordDir string
	// Record says which rooms are recorded from their first join
	// (default none); admins start and stop recording in any room.
	Record recording.Policy
	// Logger receives the server's logs (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.Store == nil {
		return fmt.Errorf("%w: no store", ErrConfig)
	}
	if len(c.Secret) < 16 {
		return fmt.Errorf("%w: secret shorter than 16 bytes", ErrConfig)
	}
	if c.MaxParticipants == 0 {
		c.MaxParticipants = 16
	}
	if c.MaxParticipants < 1 || c.MaxParticipants > 64 {
		return fmt.Errorf("%w: max participants %d not in 1..64", ErrConfig, c.MaxParticipants)
	}
	if c.MessageRate == 0 {
		c.MessageRate = 30
	}
	if c.MessageBurst == 0 {
		c.MessageBurst = 60
	}
	if c.ChatRate == 0 {
		c.ChatRate = 10
	}
	if c.ChatBurst == 0 {
		c.ChatBurst = 30
	}
	if c.ChatQueue == 0 {
		c.ChatQueue = defaultChatQueue
	}
	if c.ChatWait == 0 {
		c.ChatWait = defaultChatWait
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = joinWait
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = 12 * time.Hour
	}
	if c.RingTimeout < 0 || c.RingTimeout > 10*time.Minute {
		return fmt.Errorf("%w: ring timeout %v not in 0..10m", ErrConfig, c.RingTimeout)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	for _, o := range c.AllowedOrigins {
		if _, ok := normalOrigin(o); !ok {
			return fmt.Errorf("%w: allowed origin %q is not http(s)://host[:port]", ErrConfig, o)
		}
	}
	return c.validateRecording()
}

// Server is a running Confab server. Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	engine   *sfu.Engine
	relay    *relay.Relay // nil unless Config.TURN
	upgrader websocket.Upgrader
	metrics  *metrics
	writer   *storeWriter
	limits   limitRegistry
	apiLim   addrLimiter
	origins  map[string]bool // allowed origins besides the server's own, normalised

	// inviteMiss counts each address's unusable invite codes (invite.go).
	inviteMiss addrLimiter
	// support is the support desk (support.go); nil if the store keeps none.
	support *supportHub
	// meetings tracks meetings and their analytics (meetings.go).
	meetings *meetingTracker
	// online is presence and calls between people (online.go, calls.go).
	online *onlineHub

	mu     sync.Mutex
	rooms  map[string]*room
	conns  map[*peer]struct{}
	closed bool
	wg     sync.WaitGroup

	closeWriter sync.Once
}

// New starts the media engine and returns a server ready to serve HTTP.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if cfg.Net.Logger == nil {
		cfg.Net.Logger = cfg.Logger
	}
	if cfg.TURN != nil && cfg.Net.NoUDP {
		// A TURN relay's allocations are UDP (RFC 8656 §2), and it reaches
		// the SFU over UDP: it has nothing to relay to.
		return nil, fmt.Errorf("%w: the TURN relay needs UDP, and the media ports are ICE-TCP only", sfu.ErrConfig)
	}
	engine, err := sfu.NewEngine(cfg.Net)
	if err != nil {
		return nil, err
	}
	var rl *relay.Relay
	if cfg.TURN != nil {
		tc := *cfg.TURN
		if tc.Secret == nil {
			tc.Secret = cfg.Secret
		}
		if tc.Logger == nil {
			tc.Logger = cfg.Logger
		}
		if rl, err = relay.Start(tc); err != nil {
			engine.Close()
			return nil, err
		}
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, engine: engine, relay: rl,
		metrics: newMetrics(),
		limits:  limitRegistry{m: make(map[limitKey]*limits)},
		origins: make(map[string]bool),
		rooms:   make(map[string]*room),
		conns:   make(map[*peer]struct{}),
	}
	s.inviteMiss = addrLimiter{every: inviteMissEvery, burst: inviteMisses}
	s.support = newSupportHub(s)
	for _, o := range cfg.AllowedOrigins {
		n, _ := normalOrigin(o)
		s.origins[n] = true
	}
	s.writer = newStoreWriter(s)
	s.meetings = newMeetingTracker(s)
	s.online = newOnlineHub(s)
	s.recoverRecordings()
	s.upgrader = websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      s.checkOrigin,
	}
	return s, nil
}

// MediaAddr is the address of the media UDP port, or with Net.NoUDP of
// the ICE-TCP port.
func (s *Server) MediaAddr() net.Addr { return s.engine.MediaAddr() }

// Stats exposes the SFU's forwarding counters.
func (s *Server) Stats() *sfu.Stats { return &s.metrics.sfu }

// Handler returns the HTTP routes: /ws, /api/token (open mode), /healthz
// and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("/api/token", s.serveToken)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.webRoutes(mux)
	s.inviteRoutes(mux)
	s.supportRoutes(mux)
	s.meetingRoutes(mux)
	s.onlineRoutes(mux)
	return s.guardAPI(mux)
}

// Close disconnects every client and releases the media port. It waits for
// the connections' goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*peer, 0, len(s.conns))
	for p := range s.conns {
		conns = append(conns, p)
	}
	s.mu.Unlock()
	for _, p := range conns {
		p.close(websocket.CloseGoingAway, "server shutting down")
	}
	s.support.close()
	s.online.close()
	s.wg.Wait()
	s.meetings.close()
	s.closeWriter.Do(s.writer.close) // what the connections queued is written
	if s.relay != nil {
		_ = s.relay.Close()
	}
	return s.engine.Close()
}

// checkOrigin lets native clients (no Origin header) and browsers from the
// server's own origin or an allowed one connect; others get 403. Origins
// are compared as scheme, host and port (RFC 6454), see originAllowed.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if s.originAllowed(r, origin) {
		return true
	}
	s.log.Warn("websocket origin refused", "origin", origin)
	return false
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered (403 for a foreign origin)
	}
	p := newPeer(s, conn, r.RemoteAddr)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.conns[p] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go p.writePump()
	go p.readPump()
}

func (s *Server) forget(p *peer) {
	s.mu.Lock()
	delete(s.conns, p)
	s.mu.Unlock()
}

// TokenResponse is the JSON body /api/token answers with.
type TokenResponse struct {
	Token    string `json:"token"`
	Identity string `json:"identity"`
	Room     string `json:"room"`
	Name     string `json:"name"`
}

// serveToken hands out tokens in open mode: ?room=R&name=N (GET or POST
// form). The identity is made up here, so a caller cannot pose as another.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Open {
		writeJSONError(w, http.StatusNotFound, wire.CodePermissionDenied, "this server does not hand out tokens; ask its admin for one")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, wire.CodeBadMessage, "use GET or POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "bad form")
		return
	}
	// room and name are used exactly as given: a token for another room
	// than asked would be worse than a refusal.
	room, name := r.Form.Get("room"), r.Form.Get("name")
	for _, f := range []struct{ what, v string }{{"room", room}, {"name", name}} {
		if err := wire.ValidateName(f.what, f.v); err != nil {
			writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, err.Error())
			return
		}
		if strings.TrimSpace(f.v) != f.v {
			writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, f.what+": begins or ends with whitespace")
			return
		}
	}
	identity := "u-" + randomHex(8)
	tok, err := token.Issue(s.cfg.Secret, token.Claims{Identity: identity, Name: name, Room: room, Grants: token.DefaultGrants()},
		s.cfg.TokenTTL, s.cfg.Now())
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "could not issue a token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(TokenResponse{Token: tok, Identity: identity, Room: room, Name: name})
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	rooms, conns := len(s.rooms), len(s.conns)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "rooms": rooms, "connections": conns})
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.Error{Code: code, Message: msg})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ctx returns a short-lived context for store calls.
func (s *Server) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}
