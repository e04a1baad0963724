// Command confab-server is the Confab signaling and media server.
//
//	confab-server serve   --addr 127.0.0.1:7880 --data DIR [--open]
//	confab-server token   --data DIR --room R --identity I [--name N] [--ttl 1h]
//	confab-server invite  --data DIR --room R [--ttl 1h] [--uses N] [--url URL]
//	confab-server invite revoke [--data DIR] CODE
//	confab-server agent add --name N [--data DIR] | agent list | agent remove ID
//	confab-server recording list | recording mix-command RECORDING
//	confab-server version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/confab/confab/internal/logging"
	"github.com/confab/confab/internal/profile"
	"github.com/confab/confab/internal/version"
	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/relay"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

const usage = `usage: confab-server <command> [flags]

commands:
  serve     run the server
  token     print a join token signed with the server's secret
  invite    print an invite link (/j/CODE) for a room; "invite revoke CODE" turns one off
  agent     support desk agents: "agent add --name N" prints a sign-in key; list; remove ID
  meetings  meetings and their analytics (duration, who was there, talk time...), newest first
  recording recordings: "recording list"; "recording mix-command R" prints an ffmpeg command mixing one
  version   print the version

Run "confab-server <command> -h" for a command's flags. Every serve flag
can also be set in the environment as CONFAB_<FLAG> (e.g. CONFAB_ADDR).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "token":
		err = printToken(os.Args[2:], os.Stdout)
	case "invite":
		err = inviteCmd(os.Args[2:], os.Stdout)
	case "agent":
		err = agentCmd(os.Args[2:], os.Stdout)
	case "meetings":
		err = meetingsCmd(os.Args[2:], os.Stdout)
	case "recording", "recordings":
		err = recordingCmd(os.Args[2:], os.Stdout)
	case "version", "--version", "-version":
		fmt.Println("confab-server", version.String())
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "confab-server: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "confab-server:", err)
		os.Exit(1)
	}
}

// env returns CONFAB_<NAME> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("CONFAB_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	b, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
	if err != nil {
		return def
	}
	return b
}

func envInt(name string, def int) int {
	n, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		return def
	}
	return n
}

func envDuration(name string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(env(name, def.String()))
	if err != nil {
		return def
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func defaultDataDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return d + "/confab-server"
	}
	return "confab-data"
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", env("addr", "127.0.0.1:7880"), "HTTP address for /ws, /api/token, /healthz, /metrics")
	data := fs.String("data", env("data", defaultDataDir()), "data directory (secret, chat and events)")
	open := fs.Bool("open", envBool("open", false), "hand out tokens to anyone at /api/token")
	udpPortArg := fs.String("udp-port", env("udp_port", "7881"), "the one UDP port for all media (0: any free port), or off: open no UDP socket at all, media over ICE-TCP only (needs --ice-tcp; not with --turn)")
	tcpPortArg := fs.String("tcp-port", env("tcp_port", "0"), "the ICE-TCP media port (0: the same number as the UDP media port, or 7881 with --udp-port off)")
	turnOn := fs.Bool("turn", envBool("turn", false), "run the embedded TURN relay (UDP and TCP) for clients that cannot reach the media port")
	turnPort := fs.Int("turn-port", envInt("turn_port", 3478), "the TURN relay's port (UDP and TCP)")
	turnIP := fs.String("turn-ip", env("turn_ip", ""), "the IPv4 address clients reach the TURN relay at (default: the first --announce address, else --addr's)")
	iceTCP := fs.Bool("ice-tcp", envBool("ice_tcp", true), "also accept media over TCP (ICE-TCP, on --tcp-port) for clients whose UDP is blocked")
	announce := fs.String("announce", env("announce", ""), "comma-separated IPs to announce as media addresses (1:1 NAT)")
	ifaces := fs.String("interfaces", env("interfaces", ""), "comma-separated network interfaces to offer media on (default: all)")
	maxPart := fs.Int("max-participants", envInt("max_participants", 16), "participants per room")
	ringTimeout := fs.Duration("ring-timeout", envDuration("ring_timeout", 30*time.Second), "how long a call invitation rings before it ends with no answer")
	origins := fs.String("allow-origin", env("allow_origin", ""), "comma-separated extra browser origins allowed to connect")
	record := fs.String("record", env("record", "none"), "rooms recorded from their first join: none, all, or a room pattern such as 'standup*' (files under DATA/recordings; admins start and stop recording in any room)")
	logLevel := fs.String("log-level", env("log_level", "info"), "debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file when the server stops")
	if err := fs.Parse(args); err != nil {
		return err
	}
	recordPolicy, err := recording.ParsePolicy(*record)
	if err != nil {
		return fmt.Errorf("--record: %w", err)
	}
	ports, err := parseMediaPorts(*udpPortArg, *tcpPortArg, *iceTCP, *turnOn)
	if err != nil {
		return err
	}
	stopProfile, err := profile.StartCPU(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	log, err := logging.New(os.Stderr, *logLevel)
	if err != nil {
		return err
	}

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	loopback := false
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		loopback = true
	}
	dd, err := server.OpenDataDir(*data)
	if err != nil {
		return err
	}
	defer dd.Close()
	netCfg := sfu.NetConfig{UDPPort: ports.udp, NoUDP: ports.noUDP, TCPPort: ports.tcp, TCP: *iceTCP, LoopbackOnly: loopback, Interfaces: splitList(*ifaces), AnnounceIPs: splitList(*announce)}
	var turnCfg *relay.Config
	if *turnOn {
		ip := *turnIP
		if ip == "" && len(netCfg.AnnounceIPs) > 0 {
			ip = netCfg.AnnounceIPs[0]
		}
		if a := net.ParseIP(host); ip == "" && a != nil && !a.IsUnspecified() {
			ip = host
		}
		if ip == "" {
			return fmt.Errorf("--turn needs --turn-ip: the address clients reach this server at")
		}
		turnCfg = &relay.Config{Port: *turnPort, PublicIP: ip}
	}
	srv, err := server.New(server.Config{
		Store: dd.Store, Secret: dd.Secret, Open: *open, MaxParticipants: *maxPart,
		AllowedOrigins: splitList(*origins), Net: netCfg, TURN: turnCfg, Logger: log, RingTimeout: *ringTimeout,
		RecordDir: recordingsDir(*data), Record: recordPolicy,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("confab-server listening", "version", version.String(), "addr", ln.Addr().String(),
		"media", srv.MediaAddr().String(), "media_udp", !ports.noUDP, "ice_tcp", *iceTCP, "open", *open, "data", *data, "loopback_only", loopback, "record", recordPolicy.String())
	err = srv.Serve(ctx, ln)
	log.Info("confab-server stopped")
	return err
}

// mediaPorts are the media ports serve opens.
type mediaPorts struct {
	udp   int  // the UDP media port (0: any free one)
	noUDP bool // --udp-port off: no UDP socket, media over ICE-TCP only
	tcp   int  // the ICE-TCP port (0: the UDP port's number)
}

// defaultTCPOnlyPort is the ICE-TCP port with --udp-port off and no
// --tcp-port: the number the UDP media port has by default.
const defaultTCPOnlyPort = 7881

// parseMediaPorts checks --udp-port (a port number or "off") and
// --tcp-port against each other and --ice-tcp and --turn. A server asked
// for UDP that cannot open it stops with an error (sfu.NewEngine): it
// never falls back to TCP on its own.
func parseMediaPorts(udp, tcp string, iceTCP, turn bool) (mediaPorts, error) {
	var p mediaPorts
	port := func(flag, v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 65535 {
			return 0, fmt.Errorf("--%s: %q is not a port number (0-65535)", flag, v)
		}
		return n, nil
	}
	var err error
	if strings.EqualFold(strings.TrimSpace(udp), "off") {
		p.noUDP = true
	} else if p.udp, err = port("udp-port", udp); err != nil {
		return p, fmt.Errorf("%w, or off for media over ICE-TCP only", err)
	}
	if p.tcp, err = port("tcp-port", tcp); err != nil {
		return p, err
	}
	if p.noUDP {
		switch {
		case !iceTCP:
			return p, fmt.Errorf("--udp-port off needs --ice-tcp: with neither UDP nor TCP, media has no way in")
		case turn:
			return p, fmt.Errorf("--udp-port off cannot go with --turn: the TURN relay needs UDP")
		}
		if p.tcp == 0 {
			p.tcp = defaultTCPOnlyPort
		}
	}
	return p, nil
}

func printToken(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	data := fs.String("data", env("data", defaultDataDir()), "data directory holding the secret")
	room := fs.String("room", "", "room the token admits to (required)")
	identity := fs.String("identity", "", "unique identity of the participant (required)")
	name := fs.String("name", "", "display name (default: the identity)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	noPublish := fs.Bool("no-publish", false, "receive only: no camera, mic or screen")
	admin := fs.Bool("admin", false, "grant admin rights")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		*name = *identity
	}
	for what, v := range map[string]string{"room": *room, "identity": *identity, "name": *name} {
		if err := wire.ValidateName(what, v); err != nil {
			return fmt.Errorf("--%s: %w", what, err)
		}
	}
	if *ttl <= 0 {
		return fmt.Errorf("--ttl must be positive")
	}
	secret, err := token.LoadOrCreateSecret(*data, os.Getenv)
	if err != nil {
		return err
	}
	g := token.DefaultGrants()
	g.Publish = !*noPublish
	g.Admin = *admin
	tok, err := token.Issue(secret, token.Claims{Identity: *identity, Name: *name, Room: *room, Grants: g}, *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, tok)
	return err
}
