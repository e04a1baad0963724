// Package relay is Confab's embedded TURN server (RFC 8656, pion/turn):
// for clients that can reach neither the media port over UDP nor over
// ICE-TCP, it relays their media to the SFU over UDP or TCP on one port.
// Credentials are time-limited (the TURN REST scheme: username
// "<expiry>:<identity>", password HMAC-SHA1 of it under a key derived from
// the server's secret), handed to each participant at join and expiring
// with its token. Relays reach only this machine's own addresses (the
// SFU), so the server is no open relay.
package relay

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pion/turn/v5"

	"github.com/confab/confab/signaling/sfu"
)

// ErrConfig reports an unusable relay configuration.
var ErrConfig = errors.New("relay: bad config")

// maxLife caps a credential's life whatever the token says.
const maxLife = 12 * time.Hour

// Config configures the relay.
type Config struct {
	// ListenIP is the address the TURN port binds to ("" = all).
	ListenIP string
	// Port is the TURN port, UDP and TCP (default 3478).
	Port int
	// PublicIP is the address clients reach the relay at; relayed
	// addresses are announced with it. Required.
	PublicIP string
	// Realm is the TURN realm (default "confab").
	Realm string
	// Secret is the server's secret; the TURN key is derived from it.
	Secret []byte
	// Logger receives pion's logs; nil discards them.
	Logger *slog.Logger
}

// Relay is a running TURN server.
type Relay struct {
	srv    *turn.Server
	key    string
	public string
	port   int
}

// Start opens the TURN port (UDP and TCP) and serves it until Close.
func Start(cfg Config) (*Relay, error) {
	if cfg.Port == 0 {
		cfg.Port = 3478
	}
	if cfg.Realm == "" {
		cfg.Realm = "confab"
	}
	public := net.ParseIP(cfg.PublicIP).To4()
	if public == nil {
		return nil, fmt.Errorf("%w: public address %q is not an IPv4 address", ErrConfig, cfg.PublicIP)
	}
	if len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("%w: secret shorter than 16 bytes", ErrConfig)
	}
	listen := cfg.ListenIP
	if listen == "" {
		listen = "0.0.0.0"
	}
	addr := net.JoinHostPort(listen, strconv.Itoa(cfg.Port))
	udp, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: TURN port: %w", ErrConfig, err)
	}
	tcp, err := net.Listen("tcp4", addr)
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("%w: TURN port: %w", ErrConfig, err)
	}
	mac := hmac.New(sha256.New, cfg.Secret)
	mac.Write([]byte("confab turn key"))
	key := hex.EncodeToString(mac.Sum(nil))

	allowed := ownAddresses(public)
	permit := func(_ net.Addr, peer net.IP) bool { return allowed[peer.String()] }
	gen := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: public, Address: listen}
	}
	logf := sfu.NewLoggerFactory(cfg.Logger)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       turn.LongTermTURNRESTAuthHandler(key, logf.NewLogger("turn")),
		LoggerFactory:     logf,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: gen(), PermissionHandler: permit}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: gen(), PermissionHandler: permit}},
	})
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Relay{srv: srv, key: key, public: public.String(), port: udp.LocalAddr().(*net.UDPAddr).Port}, nil
}

// ownAddresses lists the addresses relays may send to: this machine's
// own (where the SFU listens) and public.
func ownAddresses(public net.IP) map[string]bool {
	out := map[string]bool{public.String(): true, "127.0.0.1": true}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				out[ipn.IP.String()] = true
			}
		}
	}
	return out
}

// Credentials returns the TURN username and password for identity, valid
// until exp (at most 12 h from now).
func (r *Relay) Credentials(identity string, exp, now time.Time) (username, password string) {
	if limit := now.Add(maxLife); exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	username = strconv.FormatInt(exp.Unix(), 10) + ":" + identity
	mac := hmac.New(sha1.New, []byte(r.key))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// URLs are the relay's TURN URLs, over UDP and over TCP.
func (r *Relay) URLs() []string {
	hp := net.JoinHostPort(r.public, strconv.Itoa(r.port))
	return []string{"turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
}

// Close stops the relay and its allocations.
func (r *Relay) Close() error { return r.srv.Close() }
