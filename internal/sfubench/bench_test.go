package sfubench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// server is one SFU under test, run as its own process.
type server interface {
	name() string
	start(dir, cpuProfile string) error
	pid() int
	stop()
	publish(ctx context.Context, track *webrtc.TrackLocalStaticRTP) (leave func(), err error)
	subscribe(ctx context.Context, i int) (subscriber, error)
}

// load is one benchmark configuration: one publisher sending the clip at
// rate times its frame rate to subs subscribers.
type load struct {
	subs int
	rate float64
}

func (l load) String() string { return fmt.Sprintf("1 -> %d, %gx", l.subs, l.rate) }

var loads = []load{{8, 1}, {32, 1}, {8, 30}}

// result is what one round of one load on one server measured.
type result struct {
	cpu       time.Duration // server CPU time over the window
	received  uint64        // video packets the subscribers counted
	expected  uint64        // packets sent times subscribers
	wall      time.Duration
	kdrops    uint64          // datagrams the kernel dropped for full receive buffers, any socket in the namespace
	joins     []time.Duration // join -> first video packet (all but the first subscriber)
	failedSub int             // subscribers that did not join or got no video
}

// BenchmarkSFUSideBySide runs Confab's server (CONFAB_SERVER_BIN) and
// pion's sfu-ws example (SFUWS_BIN, SFUWS_DIR, SFUWS_IP) in turn at each
// load, for SFUBENCH_ROUNDS interleaved rounds of SFUBENCH_SECONDS of
// clip each (and, with CONFAB_BASE_BIN, another build of confab-server
// as "before"), and prints the server CPU time per packet the subscribers
// counted, their ratio, packets per second of server CPU, loss, and join
// -> first packet. scripts/bench-sfu.sh sets it up in a network
// namespace; run with -benchtime 1x.
func BenchmarkSFUSideBySide(b *testing.B) {
	confabBin, wsBin := os.Getenv("CONFAB_SERVER_BIN"), os.Getenv("SFUWS_BIN")
	if confabBin == "" {
		b.Skip("CONFAB_SERVER_BIN not set (scripts/bench-sfu.sh runs this)")
	}
	servers := []server{&confabServer{bin: confabBin}}
	if base := os.Getenv("CONFAB_BASE_BIN"); base != "" {
		servers = append(servers, &confabServer{bin: base, label: "before"})
	}
	if wsBin != "" {
		servers = append(servers, &sfuwsServer{bin: wsBin, dir: os.Getenv("SFUWS_DIR"), ip: envOr("SFUWS_IP", "127.0.0.1")})
	}
	rounds, _ := strconv.Atoi(envOr("SFUBENCH_ROUNDS", "3"))
	seconds, _ := strconv.ParseFloat(envOr("SFUBENCH_SECONDS", "8"), 64)
	only := os.Getenv("SFUBENCH_LOADS") // e.g. "2" for the third load only
	profile := os.Getenv("SFUBENCH_PROFILE")
	clip := makeClip(b)
	results := map[string][]result{}
	key := func(s server, l load) string { return s.name() + "|" + l.String() }
	for r := 0; r < rounds; r++ {
		for li, l := range loads {
			if only != "" && !strings.Contains(only, strconv.Itoa(li)) {
				continue
			}
			for _, s := range servers {
				prof := ""
				if profile != "" && s.name() == "confab" && r == rounds-1 {
					prof = filepath.Join(profile, fmt.Sprintf("confab-load%d.pprof", li))
				}
				res, err := runOne(b, s, l, clip, seconds, prof)
				if err != nil {
					b.Fatalf("%s, %v, round %d: %v", s.name(), l, r+1, err)
				}
				results[key(s, l)] = append(results[key(s, l)], res)
				fmt.Printf("round %d  %-14s %-8s %7.2f us/pkt  %8.0f pkt/s per core  loss %.3f%% (%d rcvbuf drops)  join p50 %5.1f ms  %d subscribers failed\n",
					r+1, l, s.name(), usPerPkt(res), pktPerCore(res), lossPct(res), res.kdrops, pct(res.joins, 50), res.failedSub)
			}
		}
	}
	fmt.Printf("\n%-14s %-8s %9s %14s %8s %13s %13s %13s\n", "load", "server", "us/pkt", "pkt/s per core", "loss", "rcvbuf drops", "join p50 ms", "join p95 ms")
	for li, l := range loads {
		if only != "" && !strings.Contains(only, strconv.Itoa(li)) {
			continue
		}
		per := map[string]float64{}
		for _, s := range servers {
			t := total(results[key(s, l)])
			per[s.name()] = usPerPkt(t)
			fmt.Printf("%-14s %-8s %9.2f %14.0f %7.3f%% %13d %13.1f %13.1f\n", l, s.name(), usPerPkt(t), pktPerCore(t), lossPct(t), t.kdrops, pct(t.joins, 50), pct(t.joins, 95))
		}
		if per["sfu-ws"] > 0 {
			fmt.Printf("%-14s confab/sfu-ws CPU per packet: %.2fx\n", l, per["confab"]/per["sfu-ws"])
		}
		if per["before"] > 0 {
			fmt.Printf("%-14s confab/before CPU per packet: %.2fx\n", l, per["confab"]/per["before"])
		}
	}
}

func total(rs []result) result {
	var t result
	for _, r := range rs {
		t.cpu += r.cpu
		t.received += r.received
		t.expected += r.expected
		t.wall += r.wall
		t.kdrops += r.kdrops
		t.joins = append(t.joins, r.joins...)
		t.failedSub += r.failedSub
	}
	return t
}

func usPerPkt(r result) float64 {
	if r.received == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.received)
}

func pktPerCore(r result) float64 {
	if r.cpu == 0 {
		return 0
	}
	return float64(r.received) / r.cpu.Seconds()
}

func lossPct(r result) float64 {
	if r.expected == 0 || r.received >= r.expected {
		return 0
	}
	return 100 * float64(r.expected-r.received) / float64(r.expected)
}

func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100].Microseconds()) / 1000
}

// runOne starts s, connects the publisher and the subscribers (one at a
// time, timing each join to its first video packet while the clip plays
// at 1x), then plays seconds of clip at the load's rate and measures.
func runOne(b *testing.B, s server, l load, clip []clipFrame, seconds float64, cpuProfile string) (result, error) {
	var res result
	if err := s.start(b.TempDir(), cpuProfile); err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	defer s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "bench")
	if err != nil {
		return res, err
	}
	p := &pump{track: track, clip: clip}
	leave, err := s.publish(ctx, track)
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	defer leave()
	bg, stopBG := context.WithCancel(ctx)
	bgDone := make(chan struct{})
	go func() { defer close(bgDone); p.run(bg, clipFPS, 0) }()
	var subs []subscriber
	defer func() {
		for _, sub := range subs {
			sub.Close()
		}
	}()
	for i := range l.subs {
		t0 := time.Now()
		sub, err := s.subscribe(ctx, i)
		if err != nil {
			// sfu-ws has stalled on a join at 32 subscribers on a busy
			// machine: count it and go on with the others.
			fmt.Fprintf(os.Stderr, "%s: subscriber %d: %v\n", s.name(), i, err)
			res.failedSub++
			continue
		}
		subs = append(subs, sub)
		// The first subscriber also waits for the publisher to connect:
		// its time is not a join time.
		if !waitFor(20*time.Second, func() bool { return !sub.First().IsZero() }) {
			fmt.Fprintf(os.Stderr, "%s: subscriber %d: no video within 20 s\n", s.name(), i)
			res.failedSub++
			continue
		}
		if i > 0 {
			res.joins = append(res.joins, sub.First().Sub(t0))
		}
	}
	stopBG()
	<-bgDone
	count := func() uint64 {
		var n uint64
		for _, sub := range subs {
			n += sub.Packets()
		}
		return n
	}
	settle(count)
	cpu0, n0, sent0, k0, t0 := cpuTime(s.pid()), count(), p.sent.Load(), rcvbufErrors(), time.Now()
	p.run(ctx, clipFPS*l.rate, int(seconds*clipFPS*l.rate))
	settle(count)
	cpu1, n1, sent1 := cpuTime(s.pid()), count(), p.sent.Load()
	res.wall, res.kdrops = time.Since(t0), rcvbufErrors()-k0
	res.cpu, res.received, res.expected = cpu1-cpu0, n1-n0, (sent1-sent0)*uint64(l.subs-res.failedSub)
	return res, nil
}

// settle waits until count stops changing for 300 ms (at most 5 s): the
// packets in flight have arrived.
func settle(count func() uint64) {
	last, since := count(), time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if n := count(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 300*time.Millisecond {
			return
		}
	}
}

func waitFor(d time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

// rcvbufErrors is the kernel's count of UDP datagrams dropped because a
// socket's receive buffer was full (RcvbufErrors in /proc/net/snmp), in
// this network namespace: a subscriber or server that did not read in
// time.
func rcvbufErrors() uint64 {
	raw, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

// cpuTime is a process's user+system CPU time (proc(5): fields 14 and 15,
// in clock ticks of 1/100 s).
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func freePort(network string) int {
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHTTP(url string) error {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("%s did not answer", url)
}

// stopProcess interrupts cmd (a clean stop writes a CPU profile) and
// kills it if it has not stopped within 10 s.
func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
