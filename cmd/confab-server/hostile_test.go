package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
)

// netPair is two network namespaces joined by a veth pair: the server's
// (10.203.0.1) and the clients' (10.203.0.2). Nothing else is reachable
// from either, so all traffic stays between them.
type netPair struct {
	t              *testing.T
	server, client string
}

const (
	serverIP = "10.203.0.1"
	clientIP = "10.203.0.2"
)

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// newNetPair makes the namespaces, or skips when this machine cannot
// (not root, or no ip/nft); CONFAB_REQUIRE_NETNS=1 turns the skip into a
// failure.
// Drops, for newNetPair: nft rules (with %[1]s for the server's veth)
// for packets coming in to and going out of the server's side.
var (
	dropAllUDP = [2]string{`iifname "%[1]s" meta l4proto udp drop;`, `oifname "%[1]s" meta l4proto udp drop;`}
	dropMedia  = [2]string{`iifname "%[1]s" udp dport 7881 drop; iifname "%[1]s" tcp dport 7881 drop;`,
		`oifname "%[1]s" udp sport 7881 drop; oifname "%[1]s" tcp sport 7881 drop;`}
	dropUDPAndMedia = [2]string{dropAllUDP[0] + " " + dropMedia[0], dropAllUDP[1] + " " + dropMedia[1]}
)

func newNetPair(t *testing.T, drop [2]string) *netPair {
	t.Helper()
	var missing []string
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if os.Geteuid() != 0 || len(missing) > 0 {
		msg := fmt.Sprintf("network namespaces need root and ip, nft (missing: %v, uid %d)", missing, os.Geteuid())
		if os.Getenv("CONFAB_REQUIRE_NETNS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	id := strconv.Itoa(os.Getpid() % 100000)
	n := &netPair{t: t, server: "cfsrv" + id, client: "cfcli" + id}
	vs, vc := "cfs"+id, "cfc"+id
	run(t, "ip", "netns", "add", n.server)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.server).Run() })
	run(t, "ip", "netns", "add", n.client)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.client).Run() })
	run(t, "ip", "link", "add", vs, "type", "veth", "peer", "name", vc)
	run(t, "ip", "link", "set", vs, "netns", n.server)
	run(t, "ip", "link", "set", vc, "netns", n.client)
	for _, side := range []struct{ ns, dev, ip string }{{n.server, vs, serverIP}, {n.client, vc, clientIP}} {
		run(t, "ip", "-n", side.ns, "addr", "add", side.ip+"/30", "dev", side.dev)
		run(t, "ip", "-n", side.ns, "link", "set", side.dev, "up")
		run(t, "ip", "-n", side.ns, "link", "set", "lo", "up")
	}
	if drop[0] == "" {
		return n
	}
	rules := fmt.Sprintf(`table inet confabtest {
	chain in { type filter hook input priority 0; policy accept; `+drop[0]+` }
	chain out { type filter hook output priority 0; policy accept; `+drop[1]+` }
}`, vs)
	nft := exec.Command("ip", "netns", "exec", n.server, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	return n
}

// start runs a command inside namespace ns; it is killed when the test ends.
func (n *netPair) start(ns string, stdout *bytes.Buffer, name string, args ...string) *exec.Cmd {
	n.t.Helper()
	c := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	c.Stdout = stdout
	if err := c.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	return c
}

// waitTCP waits until addr accepts TCP connections from the client side.
func (n *netPair) waitTCP(addr string) {
	n.t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := exec.Command("ip", "netns", "exec", n.client, "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port))
		if probe.Run() == nil {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("server at %s never answered", addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type botReport struct {
	Identity string `json:"identity"`
	Remote   map[string]struct {
		Frames       uint64 `json:"frames"`
		AudioPackets uint64 `json:"audio_packets"`
	} `json:"remote"`
	Error string `json:"error"`
}

// waitBots waits for each bot to end and returns the report it printed
// last (its output is in outs, in the same order).
func waitBots(t *testing.T, bots []*exec.Cmd, outs []*bytes.Buffer) []botReport {
	t.Helper()
	var reports []botReport
	for i, b := range bots {
		_ = b.Wait()
		lines := strings.Split(strings.TrimSpace(outs[i].String()), "\n")
		var r botReport
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatalf("bot %d report %q: %v", i, outs[i].String(), err)
		}
		reports = append(reports, r)
	}
	return reports
}

// call runs a server in the server namespace (with extra flags) and two
// bots in the client namespace for d; it returns the bots' reports.
func (n *netPair) call(serverBin, bot string, d time.Duration, serverFlags ...string) []botReport {
	n.t.Helper()
	dir := n.t.TempDir()
	srv := n.start(n.server, &bytes.Buffer{}, serverBin, append([]string{"serve", "--addr", serverIP + ":7880",
		"--udp-port", "7881", "--data", filepath.Join(dir, "data"), "--open", "--log-level", "error"}, serverFlags...)...)
	n.waitTCP(serverIP + ":7880")
	outs := []*bytes.Buffer{{}, {}}
	var bots []*exec.Cmd
	for i, out := range outs {
		bots = append(bots, n.start(n.client, out, bot, "--server", "http://"+serverIP+":7880", "--room", "hostile",
			"--name", fmt.Sprintf("Bot %d", i), "--duration", d.String(), "--fps", "15", "--loopback=false"))
	}
	reports := waitBots(n.t, bots, outs)
	_ = srv.Process.Kill()
	_ = srv.Wait()
	return reports
}

// TestMediaOverTCPWhenUDPIsBlocked puts the server and two clients on two
// sides of a link that drops all UDP. Without ICE-TCP no media gets
// through (the control: proof the link really blocks UDP); with the
// server's ICE-TCP on the media port, each client decodes the other's
// video and receives its audio.
func TestMediaOverTCPWhenUDPIsBlocked(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes in network namespaces")
	}
	n := newNetPair(t, dropAllUDP)
	serverBin, bot := buildServerAndBot(t)

	expectNoMedia(t, n.call(serverBin, bot, 8*time.Second, "--ice-tcp=false"))
	expectMedia(t, "over ICE-TCP", n.call(serverBin, bot, 15*time.Second))
}

// expectNoMedia is the control of a blocked path: nothing got through.
func expectNoMedia(t *testing.T, reports []botReport) {
	t.Helper()
	for _, r := range reports {
		for id, got := range r.Remote {
			if got.Frames > 0 || got.AudioPackets > 0 {
				t.Fatalf("control: on the blocked path %s still got %d frames and %d audio packets from %s",
					r.Identity, got.Frames, got.AudioPackets, id)
			}
		}
	}
}

// expectMedia checks that each of two bots decoded the other's video and
// received its audio.
func expectMedia(t *testing.T, how string, reports []botReport) {
	t.Helper()
	for _, r := range reports {
		if len(r.Remote) != 1 {
			t.Fatalf("%s received from %d participants, want 1: %+v", r.Identity, len(r.Remote), r)
		}
		for id, got := range r.Remote {
			t.Logf("%s <- %s %s: %d frames, %d audio packets", r.Identity, id, how, got.Frames, got.AudioPackets)
			if got.Frames < 30 || got.AudioPackets < 50 {
				t.Errorf("%s got %d frames and %d audio packets from %s %s; want >= 30 and >= 50",
					r.Identity, got.Frames, got.AudioPackets, id, how)
			}
		}
	}
}

// buildServerAndBot builds confab-server (without cgo, as shipped) and
// confab-bot (or takes CONFAB_BOT_BIN) for tests that run them as processes.
func buildServerAndBot(t testing.TB) (serverBin, bot string) {
	t.Helper()
	dir := t.TempDir()
	serverBin = filepath.Join(dir, "confab-server")
	build := exec.Command("go", "build", "-o", serverBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	bot, err := testbin.Build(dir, "./cmd/confab-bot", "CONFAB_BOT_BIN")
	if err != nil {
		t.Fatal(err)
	}
	return serverBin, bot
}

// metric reads one counter from the server's /metrics, from the client side.
func (n *netPair) metric(name string) float64 {
	n.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", n.client, "curl", "-sf", "--max-time", "5",
		"http://"+serverIP+":7880/metrics").Output()
	if err != nil {
		n.t.Fatalf("metrics: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				n.t.Fatalf("metric %s: %q", name, l)
			}
			return f
		}
	}
	n.t.Fatalf("metric %s not found", name)
	return 0
}

// waitMetric waits until metric reaches at least want.
func (n *netPair) waitMetric(name string, want float64, within time.Duration) float64 {
	n.t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := n.metric(name)
		if v >= want {
			return v
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s is %v after %v; want >= %v", name, v, within, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// clientUDPPorts lists the local ports of the UDP sockets open in the
// client namespace (the bots' ICE candidates).
func (n *netPair) clientUDPPorts() []string {
	n.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", n.client, "ss", "-Huan").Output()
	if err != nil {
		n.t.Fatalf("ss: %v", err)
	}
	var ports []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		local := f[3]
		if i := strings.LastIndexByte(local, ':'); i > 0 && strings.HasPrefix(local, clientIP) {
			ports = append(ports, local[i+1:])
		}
	}
	return ports
}

// TestICERestartWhenMediaStops keeps the websocket alive while the media
// path dies, as when a NAT rebinds: the UDP ports the clients' media uses
// are dropped for good. The server (and the clients) notice media stopped
// and restart ICE on the same session; media comes back on new ports with
// no rejoin.
func TestICERestartWhenMediaStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes in network namespaces")
	}
	n := newNetPair(t, [2]string{})
	serverBin, bot := buildServerAndBot(t)
	dir := t.TempDir()
	n.start(n.server, &bytes.Buffer{}, serverBin, "serve", "--addr", serverIP+":7880", "--udp-port", "7881",
		"--data", filepath.Join(dir, "data"), "--open", "--log-level", "error", "--ice-tcp=false")
	n.waitTCP(serverIP + ":7880")
	for i := 0; i < 2; i++ {
		n.start(n.client, &bytes.Buffer{}, bot, "--server", "http://"+serverIP+":7880", "--room", "restart",
			"--name", fmt.Sprintf("Bot %d", i), "--duration", "90s", "--fps", "15", "--loopback=false")
	}
	n.waitMetric("confab_joins_total", 2, 30*time.Second)
	before := n.waitMetric("confab_rtp_packets_in_total", 300, 30*time.Second)

	ports := n.clientUDPPorts()
	if len(ports) == 0 {
		t.Fatal("no UDP sockets in the client namespace")
	}
	rules := fmt.Sprintf(`table inet rebind {
	chain out { type filter hook output priority 0; policy accept; udp sport { %s } drop; }
}`, strings.Join(ports, ", "))
	nft := exec.Command("ip", "netns", "exec", n.client, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	t.Logf("dropped UDP from ports %v after %v packets", ports, before)
	// Media stops: the count stands still for a while.
	time.Sleep(3 * time.Second)
	stalled := n.metric("confab_rtp_packets_in_total")
	restarts := n.waitMetric("confab_ice_restarts_total", 1, 40*time.Second)
	after := n.waitMetric("confab_rtp_packets_in_total", stalled+500, 60*time.Second)
	joins := n.metric("confab_joins_total")
	t.Logf("packets: %v before the drop, %v while stalled, %v after %v ICE restart(s); joins %v", before, stalled, after, restarts, joins)
	if joins != 2 {
		t.Errorf("joins = %v, want 2: media came back by rejoining, not by an ICE restart on the live session", joins)
	}
}

// TestTURNRelaysWhenTheMediaPortIsBlocked: clients that reach neither the
// media port over UDP nor over TCP get media through the embedded TURN
// relay: over UDP when only the media port is blocked, over TCP when all
// UDP is blocked too. Without --turn the same network carries no media.
func TestTURNRelaysWhenTheMediaPortIsBlocked(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes in network namespaces")
	}
	serverBin, bot := buildServerAndBot(t)
	turn := []string{"--turn", "--turn-ip", serverIP}
	t.Run("udp", func(t *testing.T) {
		n := newNetPair(t, dropMedia)
		expectNoMedia(t, n.call(serverBin, bot, 8*time.Second))
		expectMedia(t, "through TURN over UDP", n.call(serverBin, bot, 15*time.Second, turn...))
	})
	t.Run("tcp", func(t *testing.T) {
		n := newNetPair(t, dropUDPAndMedia)
		expectMedia(t, "through TURN over TCP", n.call(serverBin, bot, 15*time.Second, turn...))
	})
}
