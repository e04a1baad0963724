package recording

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// fakeSource is a published track fed by the test.
type fakeSource struct {
	mu   sync.Mutex
	fn   func(int, *rtp.Packet)
	done chan struct{}
	plis atomic.Int32
}

func newFakeSource() *fakeSource { return &fakeSource{done: make(chan struct{})} }

func (f *fakeSource) Tap(fn func(int, *rtp.Packet)) func() {
	f.mu.Lock()
	f.fn = fn
	f.mu.Unlock()
	return func() { f.mu.Lock(); f.fn = nil; f.mu.Unlock() }
}
func (f *fakeSource) RequestKeyframe()      { f.plis.Add(1) }
func (f *fakeSource) Done() <-chan struct{} { return f.done }
func (f *fakeSource) send(layer int, p *rtp.Packet) {
	f.mu.Lock()
	fn := f.fn
	f.mu.Unlock()
	if fn != nil {
		fn(layer, p)
	}
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, c := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed (scripts/deps.sh installs it)", c)
		}
	}
}

// testMedia makes seconds of VP8 (320x240, 15 fps, a keyframe each
// second) and Opus (20 ms frames) with ffmpeg.
func testMedia(t *testing.T, seconds int) (ivf, ogg string) {
	t.Helper()
	dir := t.TempDir()
	ivf, ogg = filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	d := strconv.Itoa(seconds)
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", d, "-c:v", "libvpx", "-g", "15", "-keyint_min", "15", "-b:v", "300k", ivf},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", d, "-c:a", "libopus", "-frame_duration", "20", "-page_duration", "20000", ogg},
	} {
		out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	return ivf, ogg
}

func readIVF(t *testing.T, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if err != nil {
			return out
		}
		out = append(out, fr)
	}
}

func readOgg(t *testing.T, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		p, _, err := r.ParseNextPage()
		if err != nil {
			return out
		}
		if len(p) == 0 || strings.HasPrefix(string(p), "OpusTags") {
			continue
		}
		out = append(out, p)
	}
}

// feed sends frames as RTP in real time, one every period, starting at
// sequence number and timestamp near their wrap. skip says which frames
// are not sent (their time passes); every 40th pair of packets is sent
// swapped.
func feed(src *fakeSource, frames [][]byte, video bool, skip func(i int) bool) {
	var pay rtp.Payloader = &codecs.OpusPayloader{}
	rate, per := uint32(48000), uint32(960)
	period := 20 * time.Millisecond
	if video {
		pay, rate, per, period = &codecs.VP8Payloader{EnablePictureID: true}, 90000, 6000, time.Second/15
	}
	pk := rtp.NewPacketizerWithOptions(1200, pay, rtp.NewFixedSequencer(65500), rate,
		rtp.WithTimestamp(math.MaxUint32-uint32(rate)), rtp.WithPayloadType(96), rtp.WithSSRC(1))
	start := time.Now()
	n := 0
	var held *rtp.Packet
	for i, fr := range frames {
		time.Sleep(time.Until(start.Add(time.Duration(i) * period)))
		pkts := pk.Packetize(fr, per)
		if skip != nil && skip(i) {
			continue
		}
		for _, p := range pkts {
			n++
			if n%40 == 0 && held == nil {
				held = p
				continue
			}
			src.send(0, p)
			if held != nil {
				src.send(0, held)
				held = nil
			}
		}
	}
	if held != nil {
		src.send(0, held)
	}
}

type probeResult struct {
	frames   int
	last     float64 // end of the last packet, seconds
	width    int
	height   int
	decodeOK bool
}

func probe(t *testing.T, path string) probeResult {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=nb_read_frames,width,height:packet=pts_time,duration_time", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []struct {
			Frames string `json:"nb_read_frames"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		}
		Packets []struct {
			PTS string `json:"pts_time"`
			Dur string `json:"duration_time"`
		}
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Streams) != 1 {
		t.Fatalf("ffprobe %s: %v %s", path, err, out)
	}
	r := probeResult{width: v.Streams[0].Width, height: v.Streams[0].Height}
	r.frames, _ = strconv.Atoi(v.Streams[0].Frames)
	for _, p := range v.Packets {
		pts, _ := strconv.ParseFloat(p.PTS, 64)
		d, _ := strconv.ParseFloat(p.Dur, 64)
		r.last = max(r.last, pts+d)
	}
	// A full decode must not report errors.
	dec, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput()
	r.decodeOK = err == nil && len(strings.TrimSpace(string(dec))) == 0
	if !r.decodeOK {
		t.Logf("ffmpeg decode of %s: %v %s", path, err, dec)
	}
	return r
}

// TestRecordAudioAndVideo records an Opus and a VP8 track from RTP whose
// sequence numbers and timestamps wrap, with reordered packets, an audio
// gap and a video that starts between keyframes: the files decode to
// the expected frames and duration, and the manifest lines them up.
func TestRecordAudioAndVideo(t *testing.T) {
	needFFmpeg(t)
	ivf, ogg := testMedia(t, 3)
	vframes, aframes := readIVF(t, ivf), readOgg(t, ogg)
	if len(vframes) != 45 || len(aframes) < 149 {
		t.Fatalf("test media: %d video, %d audio frames", len(vframes), len(aframes))
	}
	root := t.TempDir()
	dir, err := NewDir(root, 7, "standup", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := Start(Options{Dir: dir, MeetingID: 7, Room: "standup", StartedBy: "ann", StartedByName: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	mic, cam := newFakeSource(), newFakeSource()
	sess.Add(mic, TrackInfo{Participant: "ann/../x", Name: "Ann", Source: "microphone"})
	sess.Add(cam, TrackInfo{Participant: "ann/../x", Name: "Ann", Source: "camera", Video: true})
	var wg sync.WaitGroup
	wg.Add(2)
	gap := func(i int) bool { return i >= 50 && i < 75 } // 0.5 s of silence, no packets
	go func() { defer wg.Done(); feed(mic, aframes, false, gap) }()
	go func() { defer wg.Done(); feed(cam, vframes, true, func(i int) bool { return i < 3 }) }()
	wg.Wait()
	m := sess.Stop(ReasonAdmin)

	if m.Status != StatusComplete || m.StopReason != ReasonAdmin || len(m.Files) != 2 {
		t.Fatalf("manifest: %+v", m)
	}
	disk, err := ReadManifest(dir)
	if err != nil || disk.Status != StatusComplete || len(disk.Files) != 2 {
		t.Fatalf("manifest on disk: %v %+v", err, disk)
	}
	if cam.plis.Load() == 0 {
		t.Errorf("no keyframe asked for while waiting for one")
	}
	for _, f := range m.Files {
		if f.Participant != "ann/../x" || f.Status != StatusComplete || !strings.HasPrefix(f.Name, "ann_.._x-") {
			t.Errorf("file: %+v", f)
		}
		r := probe(t, filepath.Join(dir, f.Name))
		t.Logf("%s: %+v, probe %+v", f.Name, f, r)
		if !r.decodeOK {
			t.Errorf("%s does not decode cleanly", f.Name)
		}
		switch f.Source {
		case "microphone":
			want := len(aframes) - 25
			if f.Codec != "opus" || r.frames != want || int(f.Frames) != want {
				t.Errorf("audio frames: file %d, manifest %d, want %d", r.frames, f.Frames, want)
			}
			if math.Abs(r.last-3.0) > 0.1 || f.StartMS > 30 {
				t.Errorf("audio lasts %.3f s from %d ms, want 3 s from 0", r.last, f.StartMS)
			}
		case "camera":
			// The first keyframe is frame 15, a second in.
			if f.Codec != "vp8" || r.frames != 30 || f.Frames != 30 || r.width != 320 || f.Width != 320 || f.Height != 240 {
				t.Errorf("video: %+v %+v", f, r)
			}
			if math.Abs(float64(f.StartMS)-1000) > 60 || math.Abs(r.last-29.0/15) > 0.1 {
				t.Errorf("video from %d ms lasting %.3f s, want from 1000 ms, 1.93 s", f.StartMS, r.last)
			}
		}
		if d := float64(f.EndMS-f.StartMS) / 1000; math.Abs(d-r.last) > 0.15 {
			t.Errorf("%s: manifest says %.3f s, file %.3f s", f.Name, d, r.last)
		}
	}
}

// failingFile fails with ENOSPC once n bytes are written.
type failingFile struct {
	f *os.File
	n int
}

func (w *failingFile) Write(b []byte) (int, error) {
	if len(b) > w.n {
		k, _ := w.f.Write(b[:w.n])
		w.n = 0
		return k, &os.PathError{Op: "write", Path: w.f.Name(), Err: syscall.ENOSPC}
	}
	w.n -= len(b)
	return w.f.Write(b)
}
func (w *failingFile) Close() error { return w.f.Close() }

// TestRecordWriteErrorStops: a full disk fails the recording once, with
// ErrDiskFull; the file is readable up to where it stopped and the
// manifest says failed.
func TestRecordWriteErrorStops(t *testing.T) {
	needFFmpeg(t)
	ivf, _ := testMedia(t, 3)
	vframes := readIVF(t, ivf)
	dir, err := NewDir(t.TempDir(), 0, "r", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 2)
	o := Options{Dir: dir, Room: "r", OnFail: func(err error) { failed <- err }}
	o.create = func(path string) (io.WriteCloser, error) {
		f, err := os.Create(path)
		return &failingFile{f: f, n: 30 << 10}, err
	}
	sess, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	cam := newFakeSource()
	sess.Add(cam, TrackInfo{Participant: "p", Source: "screen", Video: true})
	feed(cam, vframes, true, nil)
	var ferr error
	select {
	case ferr = <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("no failure reported")
	}
	if !errors.Is(ferr, ErrDiskFull) || FailReason(ferr) != ReasonDiskFull {
		t.Errorf("failure: %v", ferr)
	}
	m := sess.Stop(ReasonAdmin)
	if m.Status != StatusFailed || m.StopReason != ReasonDiskFull || len(m.Files) != 1 || m.Files[0].Status != StatusFailed {
		t.Fatalf("manifest: %+v", m)
	}
	r := probe(t, filepath.Join(dir, m.Files[0].Name))
	if r.frames < 5 || r.frames >= 45 {
		t.Errorf("the failed file has %d frames", r.frames)
	}
	t.Logf("failed after %d frames: %+v", r.frames, m.Files[0])
	select {
	case err := <-failed:
		t.Errorf("second failure report: %v", err)
	default:
	}
}

func TestRecoverMarksUnfinished(t *testing.T) {
	root := t.TempDir()
	dir, err := NewDir(root, 3, "r", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	m := &Manifest{Version: ManifestVersion, MeetingID: 3, Room: "r", StartedAt: start.UnixMilli(), Status: StatusRecording,
		Files: []File{{Name: "a-microphone-1.webm", StartMS: 500, Status: StatusRecording},
			{Name: "a-camera-1.webm", StartMS: 600, EndMS: 9000, Status: StatusComplete}}}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a-microphone-1.webm"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	mod := start.Add(20 * time.Second)
	_ = os.Chtimes(filepath.Join(dir, "a-microphone-1.webm"), mod, mod)
	done, err := NewDir(root, 4, "r", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_ = WriteManifest(done, &Manifest{Version: ManifestVersion, Status: StatusComplete, Files: []File{}})

	changed, err := Recover(root)
	if err != nil || len(changed) != 1 || changed[0] != dir {
		t.Fatalf("recover: %v %v", changed, err)
	}
	got, _ := ReadManifest(dir)
	if got.Status != StatusInterrupted || got.StopReason != ReasonInterrupted || got.StoppedAt != mod.UnixMilli() {
		t.Errorf("recording: %+v", got)
	}
	if f := got.Files[0]; f.Status != StatusInterrupted || f.EndMS != 20000 {
		t.Errorf("unfinished file: %+v", f)
	}
	if f := got.Files[1]; f.Status != StatusComplete || f.EndMS != 9000 {
		t.Errorf("finished file: %+v", f)
	}
	if again, _ := Recover(root); len(again) != 0 {
		t.Errorf("second recover changed %v", again)
	}
}

func TestPolicy(t *testing.T) {
	for _, c := range []struct {
		in      string
		ok      bool
		matches []string
		not     []string
	}{
		{"none", true, nil, []string{"a"}},
		{"", true, nil, []string{"a"}},
		{"all", true, []string{"a", "standup"}, nil},
		{"standup*", true, []string{"standup", "standup-2"}, []string{"daily-standup"}},
		{"[", false, nil, nil},
		{" x", false, nil, nil},
		{strings.Repeat("a", 300), false, nil, nil},
	} {
		p, err := ParsePolicy(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if err != nil && !errors.Is(err, ErrPolicy) {
			t.Errorf("%q: %v not ErrPolicy", c.in, err)
		}
		for _, r := range c.matches {
			if !p.Matches(r) {
				t.Errorf("%q should record %q", c.in, r)
			}
		}
		for _, r := range c.not {
			if p.Matches(r) {
				t.Errorf("%q should not record %q", c.in, r)
			}
		}
	}
}
