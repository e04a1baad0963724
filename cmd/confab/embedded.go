package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/sfu"
)

// embedded is the server the app hosts when no --server is given.
type embedded struct {
	URL      string // what the app itself connects to
	Listen   string // the address it listens on
	Shared   bool   // another Confab on this machine already hosts it
	loopback bool
	dataDir  string
	log      *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}

	// secret signs the server's tokens and recordDir holds its
	// recordings (recording.go); both unset for a shared server.
	secret    []byte
	recordDir string
}

// Stop shuts the server down and waits for it. It is idempotent; a shared
// server belongs to the other app and is left running.
func (e *embedded) Stop() {
	if e.cancel != nil {
		e.cancel()
	}
	<-e.done
}

// startEmbedded runs the server in-process in open mode until Stop. If the
// address is taken by another Confab's server (a second window on the
// same machine), that one is used instead.
func startEmbedded(listen, dataDir string, log *slog.Logger) (*embedded, error) {
	return startEmbeddedShared(listen, dataDir, log, true)
}

// errHostedElsewhere means the address is another Confab's server.
var errHostedElsewhere = errors.New("another Confab hosts the server")

// startEmbeddedShared is startEmbedded; with share false a server already
// running at the address is errHostedElsewhere instead of being used.
func startEmbeddedShared(listen, dataDir string, log *slog.Logger, share bool) (*embedded, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	connectHost := host
	if ip != nil && ip.IsUnspecified() || host == "" {
		connectHost = "127.0.0.1"
	}
	e := &embedded{Listen: listen, URL: "http://" + net.JoinHostPort(connectHost, port), loopback: loopback,
		dataDir: dataDir, log: log, done: make(chan struct{})}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) && !share {
			return nil, errHostedElsewhere
		}
		if errors.Is(err, syscall.EADDRINUSE) && confabAt(e.URL) {
			log.Info("using the Confab server already running", "url", e.URL)
			e.Shared = true
			close(e.done)
			return e, nil
		}
		return nil, fmt.Errorf("built-in server: %w (another program uses %s? try --listen 127.0.0.1:0)", err, listen)
	}
	if port == "0" {
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		e.URL = "http://" + net.JoinHostPort(connectHost, port)
		e.Listen = net.JoinHostPort(host, port)
	}
	dd, err := server.OpenDataDir(dataDir)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("built-in server: %w", err)
	}
	// The app's own user may record their calls (an admin token, see
	// hostToken), into DATA/recordings as confab-server does.
	e.secret, e.recordDir = dd.Secret, filepath.Join(dataDir, "recordings")
	cfg := server.Config{Store: dd.Store, Secret: dd.Secret, Open: true, Logger: log.With("component", "server"),
		Net: sfu.NetConfig{LoopbackOnly: loopback}, RecordDir: e.recordDir} // media on any free UDP port on loopback
	if !loopback {
		cfg.Net.UDPPort = 7881 // one known port others' firewalls can allow
	}
	srv, err := server.New(cfg)
	if err != nil && !loopback {
		cfg.Net.UDPPort = 0 // 7881 is taken: any free port still works on a LAN
		srv, err = server.New(cfg)
	}
	if err != nil {
		ln.Close()
		dd.Close()
		return nil, fmt.Errorf("built-in server: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.done)
		defer dd.Close()
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("built-in server stopped", "err", err)
		}
	}()
	log.Info("built-in server", "url", e.URL, "media", srv.MediaAddr().String(), "data", dataDir)
	return e, nil
}

// confabAt reports whether a Confab server answers at url.
func confabAt(url string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct{ Status string }
	return json.NewDecoder(resp.Body).Decode(&h) == nil && h.Status == "ok"
}

// hint says where the server is, in words for the entry screen.
func (e *embedded) hint() string {
	if e.Shared {
		return "Using the Confab server already running on this computer (" + e.Listen + ")"
	}
	if e.loopback {
		return "Hosting on this computer (" + e.Listen + "); only this computer can join"
	}
	_, port, _ := net.SplitHostPort(e.Listen)
	if ip := lanAddress(); ip != "" {
		return "Hosting for your network: others join with --server http://" + net.JoinHostPort(ip, port)
	}
	return "Hosting on " + e.Listen
}

// lanAddress returns this machine's first non-loopback IPv4 address, to
// tell others where to connect. It reads interfaces; it sends nothing.
func lanAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
