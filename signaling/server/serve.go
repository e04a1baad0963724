package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/token"
)

// Serve answers HTTP on ln until ctx is done, then stops gracefully:
// clients are told the server is going away, connections drain, and the
// media port is released. It returns nil after a clean stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdown) // stops accepting; hijacked websockets are ours to close
	s.Close()
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// DataDir holds what a server keeps on disk: the signing secret and the
// SQLite store.
type DataDir struct {
	Path   string
	Secret []byte
	Store  *store.SQLite
}

// OpenDataDir creates dir if needed (mode 0700), loads or creates the
// token secret (CONFAB_API_SECRET overrides it) and opens confab.db.
func OpenDataDir(dir string) (*DataDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	secret, err := token.LoadOrCreateSecret(dir, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	st, err := store.OpenSQLite(filepath.Join(dir, "confab.db"))
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return &DataDir{Path: dir, Secret: secret, Store: st}, nil
}

// Close closes the store.
func (d *DataDir) Close() error { return d.Store.Close() }
