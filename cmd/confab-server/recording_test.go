package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/wire"
)

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, c := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed (scripts/deps.sh installs it)", c)
		}
	}
}

// decoded is what ffmpeg makes of a file.
type decoded struct {
	frames int     // decoded frames (video) or packets decoded (audio)
	end    float64 // end of the last packet, seconds
	width  int
	clean  bool    // decoded without an error message
	median float64 // median time between packets, seconds
}

func decode(t *testing.T, path string) decoded {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=nb_read_frames,width:packet=pts_time,duration_time", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []struct {
			Frames string `json:"nb_read_frames"`
			Width  int    `json:"width"`
		}
		Packets []struct {
			PTS string `json:"pts_time"`
			Dur string `json:"duration_time"`
		}
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Streams) != 1 {
		t.Fatalf("ffprobe %s: %v %s", path, err, out)
	}
	d := decoded{width: v.Streams[0].Width}
	d.frames, _ = strconv.Atoi(v.Streams[0].Frames)
	var gaps []float64
	last := -1.0
	for _, p := range v.Packets {
		pts, _ := strconv.ParseFloat(p.PTS, 64)
		du, _ := strconv.ParseFloat(p.Dur, 64)
		d.end = max(d.end, pts+du)
		if last >= 0 {
			gaps = append(gaps, pts-last)
		}
		last = pts
	}
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		d.median = gaps[len(gaps)/2]
	}
	msg, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput()
	d.clean = err == nil && strings.TrimSpace(string(msg)) == ""
	if !d.clean {
		t.Logf("ffmpeg -f null %s: %v %s", filepath.Base(path), err, msg)
	}
	return d
}

// waitManifest polls the one recording under data until ok.
func waitManifest(t *testing.T, data string, d time.Duration, ok func(*recording.Manifest) bool) (string, *recording.Manifest) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		dirs, _ := filepath.Glob(filepath.Join(data, "recordings", "*", recording.ManifestName))
		if len(dirs) == 1 {
			dir := filepath.Dir(dirs[0])
			if m, err := recording.ReadManifest(dir); err == nil && ok(m) {
				return dir, m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such recording after %v (%d found)", d, len(dirs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRecordedCallFiles records a scripted call of two bots (--record=all):
// each track's file decodes with ffmpeg to the length the media flowed
// (from its start in the manifest to the script's leave) within 0.5 s,
// with the bot's frame rate within 5%; the mix command from
// "recording mix-command" runs and makes one file of the meeting's length.
func TestRecordedCallFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bot processes for about 15 s")
	}
	needFFmpeg(t)
	bin, bot := buildServerAndBot(t)
	data := t.TempDir()
	s := startMeetingServer(t, bin, data, "", 0, "--record=all")
	zero := time.Now().Add(3 * time.Second)
	alice := scriptBot(t, bot, s.addr, "rec", "Alice", zero, "join@0s,leave@8s", "--fps", "30")
	bob := scriptBot(t, bot, s.addr, "rec", "Bob", zero, "join@1s,share@2s,unshare@5s,leave@7s", "--no-video")
	// The witness receives everything, from before the others join to
	// after they leave, and counts the video frames it decodes.
	wit := exec.Command(bot, "--server", "ws://"+s.addr, "--room", "rec", "--name", "Witness", "--receive-only",
		"--script-start", strconv.FormatInt(zero.Add(-time.Second).UnixMilli(), 10), "--script", "join@0s,leave@9.5s")
	var witOut bytes.Buffer
	wit.Stdout = &witOut
	if err := wit.Start(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*exec.Cmd{alice, bob, wit} {
		if err := c.Wait(); err != nil {
			t.Errorf("bot: %v", err)
		}
	}
	var seenBy map[string]map[string]uint64
	for _, l := range strings.Split(witOut.String(), "\n") {
		var rep struct {
			Final   bool
			Sources map[string]map[string]uint64
		}
		if json.Unmarshal([]byte(l), &rep) == nil && rep.Final {
			seenBy = rep.Sources
		}
	}
	t.Logf("the witness decoded %v", seenBy)
	dir, m := waitManifest(t, data, 20*time.Second, func(m *recording.Manifest) bool { return m.Status != recording.StatusRecording })
	if m.Status != recording.StatusComplete || m.StopReason != recording.ReasonMeetingEnd || m.MeetingID == 0 || m.Room != "rec" {
		t.Fatalf("manifest: %+v", m)
	}
	if keep := os.Getenv("CONFAB_KEEP_RECORDING"); keep != "" {
		t.Cleanup(func() { _ = exec.Command("cp", "-r", dir, keep).Run() })
	}
	leaves := map[string]float64{"Alice": 8, "Bob": 7}
	unshare := 5.0
	seen := map[string]bool{}
	for _, f := range m.Files {
		d := decode(t, filepath.Join(dir, f.Name))
		seen[f.DisplayName+" "+f.Source] = true
		end := leaves[f.DisplayName]
		if f.Source == wire.SourceScreen {
			end = unshare
		}
		// The media flowed from the file's start to the leave (or unshare).
		want := float64(zero.UnixMilli()-m.StartedAt)/1000 + end - float64(f.StartMS)/1000
		t.Logf("%s: start %d ms, %d frames, %.3f s decoded (want %.3f), %dx%d, %d packets lost", f.Name, f.StartMS, d.frames, d.end, want, f.Width, f.Height, f.Dropped)
		if f.Status != recording.StatusComplete || !d.clean {
			t.Errorf("%s: status %s, clean decode %v", f.Name, f.Status, d.clean)
		}
		if math.Abs(d.end-want) > 0.5 {
			t.Errorf("%s: %.3f s decoded, the media flowed %.3f s", f.Name, d.end, want)
		}
		if math.Abs(float64(f.EndMS-f.StartMS)/1000-d.end) > 0.25 {
			t.Errorf("%s: the manifest says %d..%d ms, the file lasts %.3f s", f.Name, f.StartMS, f.EndMS, d.end)
		}
		// Opus frames are 20 ms: the file has its length's worth within 5%.
		// A bot's video runs at --fps (30) when the machine keeps up and
		// below on a busy one, so video is held against the witness, who
		// received the same stream: the file has at least 95% of the
		// frames the witness decoded (a loaded witness may decode fewer
		// than were sent, never more), and no more than 30 fps allows.
		if f.Kind == "audio" {
			if want := d.end * 50; math.Abs(float64(d.frames)-want) > 0.05*want+1 {
				t.Errorf("%s: %d frames in %.3f s, want %.0f", f.Name, d.frames, d.end, want)
			}
		} else {
			seen := float64(seenBy[f.DisplayName][f.Source])
			if float64(d.frames) < 0.95*seen || float64(d.frames) > d.end*30*1.05+1 {
				t.Errorf("%s: %d frames in %.3f s; the witness decoded %.0f, 30 fps allows %.0f", f.Name, d.frames, d.end, seen, d.end*30)
			}
		}
		if int64(d.frames) != f.Frames {
			t.Errorf("%s: ffmpeg decodes %d frames, the manifest says %d", f.Name, d.frames, f.Frames)
		}
	}
	for _, k := range []string{"Alice microphone", "Alice camera", "Bob microphone", "Bob screen"} {
		if !seen[k] {
			t.Errorf("no file for %s: %+v", k, m.Files)
		}
	}

	// The README's mix command, run.
	out, err := exec.Command(bin, "recording", "mix-command", "--data", data, "--out", filepath.Join(dir, "mixed.mp4"), filepath.Base(dir)).Output()
	if err != nil {
		t.Fatalf("mix-command: %v", err)
	}
	t.Logf("mix command: %s", out)
	mix := exec.Command("sh", "-c", string(out))
	if b, err := mix.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg mix: %v\n%s", err, b)
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,width,height", "-of", "json", filepath.Join(dir, "mixed.mp4")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var pv struct {
		Format  struct{ Duration string }
		Streams []struct {
			CodecType string `json:"codec_type"`
			Width     int
		}
	}
	_ = json.Unmarshal(probe, &pv)
	dur, _ := strconv.ParseFloat(pv.Format.Duration, 64)
	var last int64
	for _, f := range m.Files {
		last = max(last, f.EndMS)
	}
	if len(pv.Streams) != 2 || math.Abs(dur-float64(last)/1000) > 0.5 {
		t.Errorf("mixed file: %s (want %.3f s, video and audio)", probe, float64(last)/1000)
	}
	list, _ := exec.Command(bin, "recording", "list", "--data", data).Output()
	t.Logf("recording list:\n%s", list)
}

// TestRecordingAfterKill kills the server with SIGKILL while it records:
// every file decodes up to within about a second of the kill, and the
// restarted server marks the recording and its files interrupted.
func TestRecordingAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bot processes")
	}
	needFFmpeg(t)
	bin, bot := buildServerAndBot(t)
	data := t.TempDir()
	s := startMeetingServer(t, bin, data, "", 0, "--record=kil*")
	zero := time.Now().Add(3 * time.Second)
	a := scriptBot(t, bot, s.addr, "kill", "Alice", zero, "join@0s,leave@60s")
	dir, m := waitManifest(t, data, 30*time.Second, func(m *recording.Manifest) bool { return len(m.Files) == 2 })
	time.Sleep(time.Until(zero.Add(6 * time.Second)))
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-s.exited
	_ = a.Process.Kill()
	for _, f := range m.Files {
		d := decode(t, filepath.Join(dir, f.Name))
		flowed := float64(killed.UnixMilli()-m.StartedAt-f.StartMS) / 1000
		t.Logf("%s: %.3f s decoded, %.3f s recorded before the kill, %d frames", f.Name, d.end, flowed, d.frames)
		if d.end < flowed-1.1 || d.end > flowed+0.1 || d.frames == 0 {
			t.Errorf("%s: decodes %.3f s of the %.3f s before the kill", f.Name, d.end, flowed)
		}
	}
	startMeetingServer(t, bin, data, s.addr, s.udp, "--record=kil*")
	got, err := recording.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != recording.StatusInterrupted || got.StopReason != recording.ReasonInterrupted {
		t.Errorf("after the restart: %+v", got)
	}
	if d := killed.UnixMilli() - got.StoppedAt; d < -100 || d > 1500 {
		t.Errorf("stopped at %d ms before the kill", d)
	}
	for _, f := range got.Files {
		end := m.StartedAt + f.EndMS
		if f.Status != recording.StatusInterrupted || killed.UnixMilli()-end > 1500 || killed.UnixMilli()-end < -100 {
			t.Errorf("file after the restart: %+v (ends %d ms before the kill)", f, killed.UnixMilli()-end)
		}
	}
}

// wsClient is a raw protocol client that collects what it reads.
type wsClient struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	msgs []wire.Envelope
	wg   sync.WaitGroup
}

func dialJoin(t *testing.T, addr, room, tok string) *wsClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{ws: ws}
	c.send(t, wire.TypeJoin, wire.Join{Token: tok, Room: room})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if env, err := wire.DecodeEnvelope(b); err == nil {
				c.mu.Lock()
				c.msgs = append(c.msgs, env)
				c.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { ws.Close(); c.wg.Wait() })
	return c
}

func (c *wsClient) send(t *testing.T, typ string, v any) {
	b, _ := wire.Encode(typ, v)
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

// wait returns the first message of type typ for which ok holds.
func (c *wsClient) wait(t *testing.T, typ string, d time.Duration, ok func(wire.Envelope) bool) wire.Envelope {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		for _, e := range c.msgs {
			if e.Type == typ && ok(e) {
				c.mu.Unlock()
				return e
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", typ, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// botFrames follows a bot's --progress reports: the video frames it has
// received from name.
type botFrames struct {
	mu     sync.Mutex
	frames uint64
}

func followBot(t *testing.T, cmd *exec.Cmd, r io.Reader, from string) *botFrames {
	bf := &botFrames{}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rep struct {
				Remote map[string]struct{ Frames uint64 }
			}
			if json.Unmarshal(sc.Bytes(), &rep) == nil {
				bf.mu.Lock()
				bf.frames = max(bf.frames, rep.Remote[from].Frames)
				bf.mu.Unlock()
			}
		}
	}()
	return bf
}

func (b *botFrames) get() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.frames
}

// TestRecordingDiskFull runs the server with its recordings on a 512 KiB
// tmpfs (in a mount namespace of its own): when it fills, the recording
// stops and the room is told why (disk_full), and the call goes on: chat
// is delivered and video still forwarded.
func TestRecordingDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bot processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	bin, bot := buildServerAndBot(t)
	data := t.TempDir()
	rec := filepath.Join(data, "recordings")
	if err := os.MkdirAll(rec, 0o700); err != nil {
		t.Fatal(err)
	}
	wrap := func(argv []string) []string {
		return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs -o size=512k tmpfs "$0" && exec "$@"`, rec}, argv...)
	}
	s := startServerWrapped(t, wrap, bin, data, "", 0, "--record=none")
	tok := s.adminToken("full")
	admin := dialJoin(t, s.addr, "full", tok)
	admin.wait(t, wire.TypeJoined, 10*time.Second, func(wire.Envelope) bool { return true })

	zero := time.Now().Add(2 * time.Second)
	scriptBot(t, bot, s.addr, "full", "Alice", zero, "join@0s,leave@60s", "--width", "640", "--height", "480", "--fps", "30")
	// Bob watches Alice and reports what he gets every second.
	bob := exec.Command(bot, "--server", "ws://"+s.addr, "--room", "full", "--name", "Bob", "--receive-only", "--duration", "60s", "--progress", "1s")
	pipe, _ := bob.StdoutPipe()
	if err := bob.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bob.Process.Kill(); _ = bob.Wait() })
	frames := followBot(t, bob, pipe, "Alice")

	admin.send(t, wire.TypeStartRecording, nil)
	admin.wait(t, wire.TypeRecording, 10*time.Second, func(e wire.Envelope) bool {
		var r wire.Recording
		return wire.DecodeData(e, &r) == nil && r.Active
	})
	stop := admin.wait(t, wire.TypeRecording, 60*time.Second, func(e wire.Envelope) bool {
		var r wire.Recording
		return wire.DecodeData(e, &r) == nil && !r.Active
	})
	var r wire.Recording
	_ = wire.DecodeData(stop, &r)
	if r.Reason != wire.RecordingDiskFull {
		t.Errorf("recording stopped for %q, want disk_full", r.Reason)
	}
	failedAt := frames.get()
	t.Logf("recording stopped (%s) with Bob at %d frames of Alice", r.Reason, failedAt)

	// The call goes on: chat, and video.
	admin.send(t, wire.TypeChat, wire.ChatSend{ID: "after-full", Text: "still here"})
	admin.wait(t, wire.TypeChat, 10*time.Second, func(e wire.Envelope) bool { return strings.Contains(string(e.Data), "after-full") })
	deadline := time.Now().Add(20 * time.Second)
	for frames.get() < failedAt+30 {
		if time.Now().After(deadline) {
			t.Fatalf("video stopped with the recording: Bob at %d frames, %d when it failed\n%s", frames.get(), failedAt, s.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(s.log.String(), "recording failed") {
		t.Errorf("the server did not log the failure:\n%s", s.log.String())
	}
}
