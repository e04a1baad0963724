package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMediaPortFlags: --udp-port takes a port number or off, --tcp-port a
// port number; what does not fit (a bad value, off without ICE-TCP, off
// with --turn) stops serve with an error naming the flag, and a UDP port
// that is taken stops it too rather than leaving media to TCP.
func TestMediaPortFlags(t *testing.T) {
	taken, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--udp-port", "udp"}, `--udp-port: "udp" is not a port number (0-65535), or off`},
		{[]string{"--udp-port", "70000"}, `--udp-port: "70000" is not a port number`},
		{[]string{"--udp-port", "-1"}, `--udp-port: "-1" is not a port number`},
		{[]string{"--tcp-port", "x"}, `--tcp-port: "x" is not a port number`},
		{[]string{"--udp-port", "off", "--tcp-port", "65536"}, `--tcp-port: "65536" is not a port number`},
		{[]string{"--udp-port", "off", "--ice-tcp=false"}, "--udp-port off needs --ice-tcp"},
		{[]string{"--udp-port", "off", "--turn", "--turn-ip", "127.0.0.1"}, "--udp-port off cannot go with --turn"},
		{[]string{"--udp-port", strconv.Itoa(taken.LocalAddr().(*net.UDPAddr).Port)}, "media port"},
	} {
		args := append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error"}, c.args...)
		err := serve(args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %q: error %v, want one containing %q", c.args, err, c.want)
		}
	}
	for _, c := range []struct {
		udp, tcp string
		want     mediaPorts
	}{
		{"7881", "0", mediaPorts{udp: 7881}},
		{"0", "0", mediaPorts{}},
		{"7881", "7990", mediaPorts{udp: 7881, tcp: 7990}},
		{"off", "0", mediaPorts{noUDP: true, tcp: 7881}},
		{"OFF", "9000", mediaPorts{noUDP: true, tcp: 9000}},
	} {
		got, err := parseMediaPorts(c.udp, c.tcp, true, false)
		if err != nil || got != c.want {
			t.Errorf("parseMediaPorts(%q, %q) = %+v, %v; want %+v", c.udp, c.tcp, got, err, c.want)
		}
	}
}

// TestCallOverICETCPOnly runs confab-server with --udp-port off on
// 127.0.0.1 and two bots in one room: each decodes the other's video and
// receives its audio, all of it over the server's ICE-TCP port, while the
// server process holds no UDP socket (its sockets, /proc/PID/fd, looked up
// in /proc/net/udp and udp6). The control: the same look-up finds the
// media UDP socket of a server started without --udp-port off.
func TestCallOverICETCPOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	if _, err := os.Stat("/proc/self/net/udp"); err != nil {
		t.Skip("needs Linux's /proc/net")
	}
	serverBin, bot := buildServerAndBot(t)

	// The control: a server in the default mode has a UDP socket, so the
	// look-up below can fail.
	ctl := startServer(t, serverBin, "--udp-port", "0")
	if udp := socketsOf(t, ctl.cmd.Process.Pid, "udp"); len(udp) == 0 {
		t.Fatal("control: no UDP socket found for a server with a UDP media port; the check below cannot fail")
	}
	ctl.stop()

	tcpPort := freeTCPPort(t)
	srv := startServer(t, serverBin, "--udp-port", "off", "--tcp-port", strconv.Itoa(tcpPort))
	if !strings.Contains(srv.log.String(), fmt.Sprintf("media=127.0.0.1:%d media_udp=false", tcpPort)) {
		t.Errorf("start-up line does not name the ICE-TCP port as the media port:\n%s", srv.log.String())
	}
	outs := []*bytes.Buffer{{}, {}}
	var bots []*exec.Cmd
	for i, out := range outs {
		b := exec.Command(bot, "--server", srv.url, "--room", "tcponly", "--name", fmt.Sprintf("Bot %d", i),
			"--duration", "15s", "--fps", "15", "--width", "320", "--height", "240")
		b.Stdout = out
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Process.Kill(); _ = b.Wait() })
		bots = append(bots, b)
	}
	// While media flows: the server holds established TCP connections on
	// its media port and no UDP socket.
	waitMetricAt(t, srv.url, "confab_rtp_packets_in_total", 200, 60*time.Second)
	if udp := socketsOf(t, srv.cmd.Process.Pid, "udp"); len(udp) > 0 {
		t.Errorf("the server in --udp-port off mode holds UDP sockets: %v", udp)
	}
	media := 0
	for _, s := range socketsOf(t, srv.cmd.Process.Pid, "tcp") {
		if s.port == tcpPort && s.state == "01" { // ESTABLISHED
			media++
		}
	}
	if media < 2 {
		t.Errorf("%d established connections on the ICE-TCP port %d, want one per bot", media, tcpPort)
	}
	expectMedia(t, "over ICE-TCP only", waitBots(t, bots, outs))
	if udp := socketsOf(t, srv.cmd.Process.Pid, "udp"); len(udp) > 0 {
		t.Errorf("after the call the server holds UDP sockets: %v", udp)
	}
}

// testServer is a confab-server process on 127.0.0.1.
type testServer struct {
	cmd  *exec.Cmd
	url  string
	log  *bytes.Buffer // its start-up line
	done chan struct{}
}

// startServer runs serverBin serve on 127.0.0.1 (any free HTTP port) with
// extra flags and waits for its start-up line.
func startServer(t *testing.T, serverBin string, flags ...string) *testServer {
	t.Helper()
	c := exec.Command(serverBin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"),
		"--open", "--log-level", "info"}, flags...)...)
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	s := &testServer{cmd: c, log: &bytes.Buffer{}, done: make(chan struct{})}
	t.Cleanup(s.stop)
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		re := regexp.MustCompile(`msg="confab-server listening".* addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				s.log.WriteString(sc.Text())
				addr <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		t.Fatal("confab-server ended before it listened")
	case <-time.After(60 * time.Second):
		t.Fatal("confab-server did not start in 60 s")
	}
	return s
}

// stop kills the server and waits for it and its log reader.
func (s *testServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	_ = s.cmd.Wait()
}

// freeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitMetricAt waits until a counter of the server's /metrics reaches want.
func waitMetricAt(t *testing.T, url, name string, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var v float64
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/metrics"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, l := range strings.Split(string(body), "\n") {
				if s, ok := strings.CutPrefix(l, name+" "); ok {
					v, _ = strconv.ParseFloat(strings.TrimSpace(s), 64)
				}
			}
			if v >= want {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s is %v after %v; want >= %v", name, v, within, want)
}

// procSocket is one socket from /proc/net/{udp,udp6,tcp,tcp6}.
type procSocket struct {
	local string // hex address:port as /proc writes it
	port  int
	state string // hex state (TCP: 01 established, 0A listen)
}

// socketsOf lists the sockets of proto ("udp" or "tcp", IPv4 and IPv6)
// that process pid holds: its file descriptors' socket inodes looked up
// in /proc/net/<proto> and <proto>6 of this network namespace.
func socketsOf(t *testing.T, pid int, proto string) []procSocket {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("sockets of %d: %v", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); ok && err == nil {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var out []procSocket
	for _, table := range []string{proto, proto + "6"} {
		b, err := os.ReadFile("/proc/net/" + table)
		if err != nil {
			t.Fatalf("sockets: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(l)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			s := procSocket{local: f[1], state: f[3]}
			if i := strings.LastIndexByte(f[1], ':'); i > 0 {
				if p, err := hex.DecodeString(f[1][i+1:]); err == nil && len(p) == 2 {
					s.port = int(p[0])<<8 | int(p[1])
				}
			}
			out = append(out, s)
		}
	}
	return out
}
