// Package servertest starts real Confab servers on 127.0.0.1 for tests:
// a real listener, the real SQLite store in a temporary directory, and
// media on loopback only.
package servertest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/token"
)

// Server is a running test server.
type Server struct {
	t      testing.TB
	Dir    string
	URL    string // http://127.0.0.1:port
	Addr   string
	Srv    *server.Server
	Data   *server.DataDir
	cfg    server.Config
	cancel context.CancelFunc
	done   chan error
}

// Option changes the server's config before it starts.
type Option func(*server.Config)

// Closed turns /api/token off.
func Closed() Option { return func(c *server.Config) { c.Open = false } }

// MaxParticipants sets the room cap.
func MaxParticipants(n int) Option { return func(c *server.Config) { c.MaxParticipants = n } }

// Config changes the server's config with f (rates, queue sizes,
// timeouts).
func Config(f func(*server.Config)) Option { return Option(f) }

// WrapStore puts a wrapper around the server's store (to slow it down or
// watch it); it is applied at every start.
func WrapStore(wrap func(store.Store) store.Store) Option {
	return func(c *server.Config) { c.Store = storeWrapper{wrap: wrap} }
}

// storeWrapper marks Config.Store until start opens the real store.
type storeWrapper struct {
	store.Store
	wrap func(store.Store) store.Store
}

// Clock sets the server's clock.
func Clock(now func() time.Time) Option { return func(c *server.Config) { c.Now = now } }

// Start runs a server in open mode on a free loopback port; it stops when
// the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir()}
	cfg := server.Config{Open: true, Net: sfu.NetConfig{LoopbackOnly: true}}
	if os.Getenv("CONFAB_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	s.cfg = cfg
	s.start("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(addr string) {
	s.t.Helper()
	dd, err := server.OpenDataDir(s.Dir)
	if err != nil {
		s.t.Fatalf("data dir: %v", err)
	}
	cfg := s.cfg
	cfg.Store, cfg.Secret = dd.Store, dd.Secret
	if w, ok := s.cfg.Store.(storeWrapper); ok {
		cfg.Store = w.wrap(dd.Store)
	}
	srv, err := server.New(cfg)
	if err != nil {
		s.t.Fatalf("server: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Srv, s.Data, s.cancel, s.done = srv, dd, cancel, make(chan error, 1)
	s.Addr = ln.Addr().String()
	s.URL = "http://" + s.Addr
	go func() { s.done <- srv.Serve(ctx, ln) }()
}

// Stop shuts the server down and closes its store. It is idempotent.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.Data.Close()
	s.cancel = nil
}

// Restart stops the server and starts a new process-equivalent on the same
// address and data directory.
func (s *Server) Restart() {
	s.t.Helper()
	addr := s.Addr
	s.Stop()
	s.start(addr)
}

// Token issues a token signed with the server's secret.
func (s *Server) Token(c token.Claims, ttl time.Duration, now time.Time) string {
	s.t.Helper()
	tok, err := token.Issue(s.Data.Secret, c, ttl, now)
	if err != nil {
		s.t.Fatalf("token: %v", err)
	}
	return tok
}
