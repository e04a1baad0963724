package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
)

// The helper processes of TestSimulcastOnShapedLink: the test binary run
// again inside a namespace, told its part by these variables.
const (
	envNetemRole   = "CONFAB_NETEM_ROLE" // publisher or subscriber
	envNetemServer = "CONFAB_NETEM_SERVER"
	envNetemFor    = "CONFAB_NETEM_FOR" // how long to stay, a time.Duration
)

// netemReport is what a subscriber helper prints (one JSON line).
type netemReport struct {
	Name string `json:"name"`
	// Frames per second in each second after the first frame.
	PerSecond []int `json:"per_second"`
	// FPS over the last 20 s; MaxGap the longest time without a frame in
	// them, in ms.
	FPS    float64 `json:"fps"`
	MaxGap int64   `json:"max_gap_ms"`
	// Layers are the layer messages, in order ("" = none); Marks the
	// layer letter of the packets in each second (from the SynthCamera).
	Layers []string `json:"layers"`
	Marks  string   `json:"marks"`
	Sizes  []string `json:"sizes"`
	Stats  string   `json:"stats"`
	Error  string   `json:"error,omitempty"`
}

// TestSimulcastOnShapedLink: a subscriber behind a link shaped to
// 500 kbit/s with 5% loss (tc netem, both ways, in a network namespace)
// keeps getting video from a simulcast publisher for 20 s: the server's
// estimate of its link (GCC over its TWCC feedback) moves it to the low
// layer, while a subscriber on the fast side of the server gets the top
// layer (or, when its estimate wanders on a busy machine, at least
// the middle one). A second publisher, not simulcast, whose encoder follows its
// session's send estimate, is told by the server (REMB) to send little
// enough for the slow subscriber. It needs root (ip netns, tc);
// CONFAB_REQUIRE_NETNS=1 makes a skip a failure.
func TestSimulcastOnShapedLink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes in network namespaces")
	}
	if _, err := exec.LookPath("tc"); err != nil {
		if os.Getenv("CONFAB_REQUIRE_NETNS") != "" {
			t.Fatal("tc is missing")
		}
		t.Skip("tc is missing")
	}
	n := newNetPair(t, [2]string{})
	// The veths newNetPair made (its names): shape both directions.
	id := strconv.Itoa(os.Getpid() % 100000)
	for _, side := range []struct{ ns, dev string }{{n.server, "cfs" + id}, {n.client, "cfc" + id}} {
		shape(t, side.ns, side.dev)
	}
	serverBin := filepath.Join(t.TempDir(), "confab-server")
	build := exec.Command("go", "build", "-o", serverBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	// The server's log says each layer change and the estimate it was
	// made at: shown when a check fails.
	srvLog, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv := exec.Command("ip", "netns", "exec", n.server, serverBin, "serve", "--addr", serverIP+":7880", "--udp-port", "7881",
		"--data", filepath.Join(t.TempDir(), "data"), "--open", "--log-level", "debug")
	srv.Stdout, srv.Stderr = srvLog, srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait(); _ = srvLog.Close() })
	n.waitTCP(serverIP + ":7880")

	const stay = 40 * time.Second
	helper := func(ns, role, name string, out *bytes.Buffer) *exec.Cmd {
		c := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestNetemHelper$", "-test.v")
		c.Env = append(os.Environ(), envNetemRole+"="+role, envNetemServer+"=http://"+serverIP+":7880",
			envNetemFor+"="+stay.String(), "CONFAB_NETEM_NAME="+name)
		c.Stdout, c.Stderr = out, out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	var pubOut, plainOut, slowOut, fastOut bytes.Buffer
	pub := helper(n.server, "publisher", "pub", &pubOut)
	plain := helper(n.server, "plain-publisher", "plain", &plainOut)
	time.Sleep(2 * time.Second)
	slow := helper(n.client, "subscriber", "slow", &slowOut)
	fast := helper(n.server, "subscriber", "fast", &fastOut)
	reports := map[string]netemReport{}
	for name, c := range map[string]*exec.Cmd{"slow": slow, "fast": fast} {
		_ = c.Wait()
		out := map[string]*bytes.Buffer{"slow": &slowOut, "fast": &fastOut}[name]
		var r netemReport
		sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "NETEM "); ok {
				_ = json.Unmarshal([]byte(l), &r)
			}
		}
		if r.Name == "" {
			t.Fatalf("%s subscriber printed no report:\n%s\npublisher:\n%s", name, out, pubOut.String())
		}
		reports[name] = r
		t.Logf("%s: %.1f fps over the last 20 s, longest gap %d ms; frames/s %v; layers %v; marks %s; sizes %v; %s",
			name, r.FPS, r.MaxGap, r.PerSecond, r.Layers, r.Marks, r.Sizes, r.Stats)
	}
	_ = pub.Process.Kill()
	_ = plain.Process.Kill()
	_ = plain.Wait()
	// The plain publisher's send estimate, each second: the last ten.
	var est []int
	for _, l := range strings.Split(plainOut.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "NETEM-EST "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				est = append(est, n)
			}
		}
	}
	t.Logf("plain publisher's send estimate by second: %v", est)
	if len(est) < 20 {
		t.Errorf("the plain publisher reported %d estimates:\n%s", len(est), plainOut.String())
	} else if last := slices.Sorted(slices.Values(est[len(est)-10:])); last[5] > 400_000 {
		t.Errorf("the plain publisher may send %d bit/s (median of the last 10 s) to a subscriber behind 500 kbit/s", last[5])
	}
	slowR, fastR := reports["slow"], reports["fast"]
	if slowR.Error != "" || fastR.Error != "" {
		t.Fatalf("subscribers failed: %q %q", slowR.Error, fastR.Error)
	}
	// Video keeps flowing behind the slow link: every second of the last
	// 20 has frames, at a rate a tile can show.
	if slowR.FPS < 8 || slowR.MaxGap > 2000 {
		t.Errorf("slow link: %.1f fps, a gap of %d ms in the last 20 s; want >= 8 fps and no gap over 2 s", slowR.FPS, slowR.MaxGap)
	}
	// ...in the low layer most of that time.
	last := slowR.Marks[max(0, len(slowR.Marks)-20):]
	if strings.Count(last, "q") < 14 {
		t.Errorf("slow link: layers by second %q; want q in most of the last 20 s", last)
	}
	// The slow subscriber does not hold the fast one down: the fast one
	// reaches the top layer, and stays above the slow one's. (How long it
	// keeps the top layer is the server's estimate of a loopback link,
	// which a machine busy with other tests can make wander: then the
	// allocator steps down to h until the estimate holds f again.)
	if !strings.Contains(fastR.Marks, "f") {
		t.Errorf("fast side: layers by second %q; want f at some point", fastR.Marks)
	}
	if l := fastR.Marks[max(0, len(fastR.Marks)-10):]; strings.Count(l, "f")+strings.Count(l, "h") < 8 {
		t.Errorf("fast side: layers by second %q; want h or f in the last 10 s", l)
	}
	if t.Failed() {
		b, _ := os.ReadFile(srvLog.Name())
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "msg=layer") || strings.Contains(l, `"msg":"layer"`) {
				t.Log("server: " + l)
			}
		}
	}
}

// shape limits what leaves dev in namespace ns to 500 kbit/s with 5% of
// the packets lost: with tc netem, or, on a kernel without it, a token
// bucket (tc tbf, at most 250 ms queued) and nft dropping 5% at random.
// The namespace's removal removes both.
func shape(t *testing.T, ns, dev string) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root",
		"netem", "rate", "500kbit", "loss", "5%", "limit", "50").CombinedOutput()
	if err == nil {
		return
	}
	if !strings.Contains(string(out), "qdisc kind is unknown") {
		t.Fatalf("tc netem: %v\n%s", err, out)
	}
	t.Logf("no netem in this kernel: tbf and nft instead")
	run(t, "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "500kbit", "burst", "5kb", "latency", "250ms")
	nft := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(fmt.Sprintf(`table inet confabshape {
	chain out { type filter hook output priority 0; policy accept; oifname %q numgen random mod 100 < 5 drop; }
}`, dev))
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

// TestNetemHelper is a publisher or subscriber of TestSimulcastOnShapedLink,
// run inside a network namespace; on its own it skips.
func TestNetemHelper(t *testing.T) {
	role := os.Getenv(envNetemRole)
	if role == "" {
		t.Skip("a helper of TestSimulcastOnShapedLink")
	}
	server, name := os.Getenv(envNetemServer), os.Getenv("CONFAB_NETEM_NAME")
	stay, _ := time.ParseDuration(os.Getenv(envNetemFor))
	const room = "netem"
	switch role {
	case "publisher":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := client.Join(ctx, client.Config{Server: server, Room: room, Name: name, Mic: true, Camera: true,
			Media: &servertest.SynthMedia{StreamID: name}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(stay + 10*time.Second)
		_ = s.Leave()
	case "plain-publisher":
		// A camera that is not simulcast, whose "encoder" follows the
		// session's send estimate, as the app's does.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m := &servertest.SynthMedia{StreamID: name, Plain: true}
		s, err := client.Join(ctx, client.Config{Server: server, Room: room, Name: name, Mic: true, Camera: true, Media: m})
		if err != nil {
			t.Fatal(err)
		}
		s.OnSendEstimate(func(bps int) {
			if c := m.Camera(); c != nil {
				c.SetBitrate(bps * 8 / 10) // leave room for audio and overhead
			}
		})
		end := time.Now().Add(stay + 10*time.Second)
		for time.Now().Before(end) {
			time.Sleep(time.Second)
			fmt.Printf("NETEM-EST %d\n", s.SendEstimate())
		}
		_ = s.Leave()
	case "subscriber":
		p := servertest.NewProbe(t, server, room, name, servertest.ProbeOptions{})
		fmt.Println("NETEM " + string(mustJSON(watch(p, name, stay))))
	}
}

// watch records what p receives of the room's one camera for d.
func watch(p *servertest.Probe, name string, d time.Duration) netemReport {
	r := netemReport{Name: name}
	var track string
	deadline := time.Now().Add(d)
	var first time.Time
	marks := []byte{}
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if track == "" {
			for _, lc := range p.LayerMessages() {
				track = lc.Track
			}
			if track == "" {
				continue
			}
		}
		v := p.Video(track)
		if v.Frames == 0 {
			continue
		}
		if first.IsZero() {
			first = time.Now()
			deadline = first.Add(30 * time.Second)
		}
		m := v.Mark
		if m == 0 {
			m = '-'
		}
		marks = append(marks, m)
	}
	if track == "" {
		r.Error = "no video"
		return r
	}
	v := p.Video(track)
	end := v.Last
	r.FPS = v.FPS(end, 20*time.Second)
	prev := end.Add(-20 * time.Second)
	for _, at := range v.FrameTimes {
		if at.Before(prev) {
			continue
		}
		r.MaxGap = max(r.MaxGap, at.Sub(prev).Milliseconds())
		prev = at
	}
	if len(v.FrameTimes) > 0 {
		start := v.FrameTimes[0].Truncate(time.Second)
		counts := map[int]int{}
		top := 0
		for _, at := range v.FrameTimes {
			i := int(at.Sub(start) / time.Second)
			counts[i]++
			top = max(top, i)
		}
		for i := 0; i <= top; i++ {
			r.PerSecond = append(r.PerSecond, counts[i])
		}
	}
	for _, lc := range p.LayerMessages() {
		if lc.Track == track {
			r.Layers = append(r.Layers, lc.Layer)
		}
	}
	r.Marks, r.Sizes, r.Stats = string(marks), v.Sizes, v.Summary()
	return r
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
