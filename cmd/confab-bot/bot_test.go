package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/signaling/server/servertest"
)

// botBinary is a bot built without the race detector: each participant is
// its own process, as with real bots (a process can open the test camera
// once), and an instrumented build would be too slow to measure media.
var botBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "confab-bot-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	botBinary, err = testbin.Build(dir, "./cmd/confab-bot", "CONFAB_BOT_BIN")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bot runs one bot process and returns its report.
type botRun struct {
	name   string
	cmd    *exec.Cmd
	out    bytes.Buffer
	report Report
	err    error
}

func startBot(t *testing.T, srv *servertest.Server, room, name string, args ...string) *botRun {
	t.Helper()
	b := &botRun{name: name}
	b.cmd = exec.Command(botBinary, append([]string{"--server", srv.URL, "--room", room, "--name", name}, args...)...)
	b.cmd.Stdout = &b.out
	b.cmd.Stderr = os.Stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cmd.Process.Kill() })
	return b
}

// wait waits for the bot to exit and parses the JSON of its last line.
func (b *botRun) wait(t *testing.T) {
	t.Helper()
	b.err = b.cmd.Wait()
	var last string
	sc := bufio.NewScanner(&b.out)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if err := json.Unmarshal([]byte(last), &b.report); err != nil {
		t.Fatalf("%s: last line %q is not a report: %v (exit %v)", b.name, last, err, b.err)
	}
}

// Smaller and slower than the app's 640x480@30: four VP8 encoders at full
// size need more than this machine's two cores (see make bench).
var testVideo = []string{"--width", "320", "--height", "240", "--fps", "15"}

func TestThreeBotsAndALateJoiner(t *testing.T) {
	srv := servertest.Start(t)
	names := []string{"Bot A", "Bot B", "Bot C"}
	bots := make([]*botRun, len(names))
	for i, n := range names {
		bots[i] = startBot(t, srv, "bots", n, append([]string{"--duration", "8s", "--chat", "2"}, testVideo...)...)
	}
	// The late joiner arrives once the three are publishing.
	time.Sleep(4 * time.Second)
	late := startBot(t, srv, "bots", "Late", append([]string{"--duration", "3s", "--no-video"}, testVideo...)...)

	var wg sync.WaitGroup
	for _, b := range append(bots, late) {
		wg.Add(1)
		go func() { defer wg.Done(); b.wait(t) }()
	}
	wg.Wait()

	for i, b := range bots {
		if b.err != nil {
			t.Errorf("%s exited with %v: %s", b.name, b.err, b.report.Error)
		}
		for j, other := range names {
			if i == j {
				continue
			}
			r, ok := b.report.Remote[other]
			if !ok {
				t.Errorf("%s received nothing from %s: %+v", b.name, other, b.report)
				continue
			}
			// Every bot started at the same time, and 30 frames at 15 fps
			// take 2 s once the first has arrived. The first-frame bound is
			// loose (a busy machine); make bench measures the time.
			if r.Frames < 30 || r.FPS <= 0 || r.AudioDecoded == 0 || r.FirstFrameMS > 8000 {
				t.Errorf("%s from %s: %d frames (%.1f fps), %d audio packets decoded, first frame at %d ms",
					b.name, other, r.Frames, r.FPS, r.AudioDecoded, r.FirstFrameMS)
			}
		}
		if b.report.ChatReceived < 4 {
			t.Errorf("%s received %d chat messages; want the others' 4", b.name, b.report.ChatReceived)
		}
		t.Logf("%s: join %d ms, first frame %d ms, remote %+v", b.name, b.report.JoinMS, b.report.FirstFrameMS, b.report.Remote)
	}
	if late.err != nil {
		t.Errorf("late joiner exited with %v: %s", late.err, late.report.Error)
	}
	for _, other := range names {
		r := late.report.Remote[other]
		// The server asks publishers for a keyframe when someone subscribes,
		// so the late joiner does not wait for the encoder's next periodic
		// keyframe. Loose on a busy machine; make bench measures the time.
		if r.Frames == 0 || r.FirstFrameMS > 5000 {
			t.Errorf("late joiner from %s: %d frames, first at %d ms after starting to join; want <= 5000 ms", other, r.Frames, r.FirstFrameMS)
		}
	}
	t.Logf("late joiner: join %d ms, remote %+v", late.report.JoinMS, late.report.Remote)
}

func TestBotFailsWithoutServer(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"--server", "http://127.0.0.1:1", "--duration", "1s"}, &out, &bytes.Buffer{})
	if code == 0 {
		t.Fatal("bot succeeded without a server")
	}
	var r Report
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r); err != nil || !strings.Contains(r.Error, "unreachable") {
		t.Fatalf("report %q (%v); want an unreachable error", out.String(), err)
	}
	fmt.Fprint(os.Stderr, "")
}

// TestBotCameraLayers: a bot's 640x480 camera goes up in three simulcast
// layers (the app's camera code, media/capture); a bot that shows remote
// cameras as 160x120 thumbnails (--video-size) gets the 160x120 layer,
// and one that asks for nothing the larger layers the bandwidth allows.
func TestBotCameraLayers(t *testing.T) {
	srv := servertest.Start(t)
	pub := startBot(t, srv, "layers", "Pub", "--duration", "12s", "--width", "640", "--height", "480", "--fps", "10")
	time.Sleep(2 * time.Second) // publishing
	thumb := startBot(t, srv, "layers", "Thumb", "--duration", "8s", "--receive-only", "--video-size", "160x120")
	whole := startBot(t, srv, "layers", "Whole", "--duration", "8s", "--receive-only")
	for _, b := range []*botRun{pub, thumb, whole} {
		b.wait(t)
	}
	r := thumb.report.Remote["Pub"]
	if r.Layer != "q" || r.Width != 160 || r.Height != 120 || r.Frames < 10 {
		t.Errorf("thumbnail: %+v; want layer q, 160x120", r)
	}
	if w := whole.report.Remote["Pub"]; w.Layer == "" || w.Width < 320 || w.Frames < 10 {
		t.Errorf("no size asked: %+v; want h or f", w)
	}
	t.Logf("thumbnail %+v, whole %+v", r, whole.report.Remote["Pub"])
}
