package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSFUForward1to8 runs confab-server as its own process with one
// confab-bot publishing 640x480 at 30 fps plus its microphone, and eight
// receive-only bots that do not decode. Over a 15 s window it reads the
// server process's CPU time (utime+stime from /proc) and the RTP packets
// it received (/metrics), and reports the CPU time per forwarded packet
// (each received packet is forwarded to 8 subscribers). Run with
// -benchtime=1x.
func BenchmarkSFUForward1to8(b *testing.B) {
	dir := b.TempDir()
	serverBin, bot := buildServerAndBot(b)
	addr := freeAddr(b, "tcp")
	udp := freeAddr(b, "udp")
	_, udpPort, _ := net.SplitHostPort(udp)
	args := []string{"serve", "--addr", addr, "--udp-port", udpPort, "--data", filepath.Join(dir, "data"), "--open", "--log-level", "error"}
	if p := os.Getenv("CONFAB_SERVER_CPUPROFILE"); p != "" {
		args = append(args, "--cpuprofile", p)
	}
	srv := exec.Command(serverBin, args...)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt) // a clean stop writes the profile
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	})
	url := "http://" + addr
	waitHealthy(b, url)

	var bots []*exec.Cmd
	start := func(args ...string) {
		c := exec.Command(bot, append([]string{"--server", url, "--room", "sfu", "--duration", "60s"}, args...)...)
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		bots = append(bots, c)
	}
	b.Cleanup(func() {
		for _, c := range bots {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	const subscribers = 8
	for i := 0; i < subscribers; i++ {
		start("--name", fmt.Sprintf("Sub %d", i), "--receive-only", "--no-decode")
	}
	start("--name", "Publisher")
	time.Sleep(6 * time.Second) // joins, negotiation, keyframes

	b.ResetTimer()
	cpu0, pk0 := cpuTime(b, srv.Process.Pid), metric(b, url, "confab_rtp_packets_in_total")
	t0 := time.Now()
	time.Sleep(15 * time.Second)
	cpu1, pk1 := cpuTime(b, srv.Process.Pid), metric(b, url, "confab_rtp_packets_in_total")
	wall := time.Since(t0)
	b.StopTimer()

	in := pk1 - pk0
	if in < 1000 {
		b.Fatalf("only %v packets received in %v: is the publisher publishing?", in, wall)
	}
	cpu := cpu1 - cpu0
	forwarded := in * subscribers
	b.ReportMetric(float64(cpu.Nanoseconds())/forwarded, "cpu-ns/forwarded-pkt")
	b.ReportMetric(float64(cpu.Nanoseconds())/in, "cpu-ns/received-pkt")
	b.ReportMetric(in/wall.Seconds(), "pkts-in/s")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "server-cpu-%")
}

func freeAddr(b *testing.B, network string) string {
	b.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHealthy(b *testing.B, url string) {
	b.Helper()
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("server did not come up")
}

// cpuTime is a process's user+system CPU time (proc(5): fields 14 and 15,
// in clock ticks of 1/100 s on Linux).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func metric(b *testing.B, url, name string) float64 {
	b.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	b.Fatalf("metric %s missing", name)
	return 0
}
