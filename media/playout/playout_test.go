package playout

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v4/test"
)

// constSource plays a constant value and counts what was pulled.
type constSource struct {
	v      int16
	pulled atomic.Int64
}

func (c *constSource) ReadPCM(dst []int16) int {
	for i := range dst {
		dst[i] = c.v
	}
	c.pulled.Add(int64(len(dst)))
	return len(dst)
}

// halfSource writes only the first half of each request.
type halfSource struct{ v int16 }

func (h halfSource) ReadPCM(dst []int16) int {
	n := len(dst) / 2
	for i := range dst[:n] {
		dst[i] = h.v
	}
	return n
}

func TestMixer(t *testing.T) {
	m := NewMixer()
	out := make([]int16, 8)
	m.Mix(out)
	for _, s := range out {
		if s != 0 {
			t.Fatalf("empty mixer not silent: %v", out)
		}
	}
	m.Add("a", &constSource{v: 1000})
	m.Add("b", halfSource{v: 500})
	m.Mix(out)
	if out[0] != 1500 || out[7] != 1000 {
		t.Fatalf("sum: %v", out)
	}
	m.Add("c", &constSource{v: math.MaxInt16})
	m.Mix(out)
	if out[0] != math.MaxInt16 {
		t.Fatalf("not clipped: %v", out[0])
	}
	m.Remove("c")
	m.Remove("nope")
	m.SetVolume(0.5)
	m.Mix(out)
	if out[0] != 750 || m.Len() != 2 {
		t.Fatalf("volume: %v, len %d", out[0], m.Len())
	}
	m.SetVolume(-3)
	if m.Volume() != 0 {
		t.Fatalf("volume not clamped: %v", m.Volume())
	}
}

// checkPlays asserts that p consumes audio at about real time and that
// nothing is consumed after Close.
func checkPlays(t *testing.T, p *Player) {
	t.Helper()
	src := &constSource{v: 100}
	p.Add("s", src)
	start := time.Now()
	time.Sleep(500 * time.Millisecond)
	got := float64(src.pulled.Load())
	want := time.Since(start).Seconds() * SampleRate
	t.Logf("output %q speaker=%v: pulled %.0f samples, real time %.0f", p.Output(), p.Speaker(), got, want)
	if got < want*0.4 || got > want*2+SampleRate*0.2 {
		t.Errorf("pulled %.0f samples in %.0f samples of time", got, want)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	after := src.pulled.Load()
	time.Sleep(100 * time.Millisecond)
	if src.pulled.Load() != after {
		t.Error("audio pulled after Close")
	}
}

func TestPlayerFallsBackWithoutDevice(t *testing.T) {
	defer test.CheckRoutines(t)()
	p, err := New()
	if err != nil {
		t.Fatalf("New must not fail without a sound card: %v", err)
	}
	if !p.Speaker() && p.Output() == "" {
		t.Error("no speaker but no output name either")
	}
	checkPlays(t, p)
}

func TestPlayerWithoutSpeaker(t *testing.T) {
	defer test.CheckRoutines(t)()
	p, err := New(WithoutSpeaker())
	if err != nil {
		t.Fatal(err)
	}
	if p.Speaker() {
		t.Error("WithoutSpeaker reports a speaker")
	}
	checkPlays(t, p)
}

func TestPlayerTimerSink(t *testing.T) {
	defer test.CheckRoutines(t)()
	p := &Player{Mixer: NewMixer(), output: "none (timer)", stop: make(chan struct{}), done: make(chan struct{})}
	go p.tick()
	checkPlays(t, p)
}

func TestPlayerBadDeviceID(t *testing.T) {
	for _, id := range []string{"zz", string(make([]byte, 2000))} {
		if _, err := New(WithDevice(id)); !errors.Is(err, ErrBadDeviceID) {
			t.Errorf("New(WithDevice(%.8q)) = %v, want ErrBadDeviceID", id, err)
		}
	}
	// A well-formed id of a device that does not exist falls back.
	p, err := New(WithDevice("0badc0de"))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}

func TestDevices(t *testing.T) {
	devs, err := Devices()
	if err != nil && !errors.Is(err, ErrNoAudio) {
		t.Fatalf("Devices error %v does not wrap ErrNoAudio", err)
	}
	t.Logf("playback devices: %+v (err %v)", devs, err)
}

func TestPacerHoldsBackAnOutputThatRunsAhead(t *testing.T) {
	var pc pacer
	start := time.Now()
	// 200 ms of audio taken at once, as ALSA's null device does.
	pc.consumed(SampleRate/5, start)
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("an output 200 ms ahead was not held back (waited %v)", waited)
	}
}

func TestPacerNeverSlowsARealTimeOutput(t *testing.T) {
	var pc pacer
	t0 := time.Now()
	start := time.Now()
	// 2 s of 10 ms periods, each taken exactly on time.
	for i := 0; i < 200; i++ {
		pc.consumed(SampleRate/100, t0.Add(time.Duration(i+1)*10*time.Millisecond))
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Fatalf("a real-time output was slowed: %v", took)
	}
}

// refRecorder is a Reference that keeps what it is handed.
type refRecorder struct{ got []int16 }

func (r *refRecorder) ProcessRender(pcm []int16) { r.got = append(r.got, pcm...) }

// TestMixerReference checks that the echo canceller's reference gets
// exactly what is played, volume and clipping included, and nothing once
// it is taken off.
func TestMixerReference(t *testing.T) {
	m := NewMixer()
	m.Add("a", &constSource{v: 30000})
	m.Add("b", halfSource{v: 10000})
	m.SetVolume(0.5)
	r := &refRecorder{}
	m.SetReference(r)
	out := make([]int16, 480)
	var played []int16
	for range 3 {
		m.Mix(out)
		played = append(played, out...)
	}
	if len(r.got) != len(played) {
		t.Fatalf("reference got %d samples, %d played", len(r.got), len(played))
	}
	for i := range played {
		if r.got[i] != played[i] {
			t.Fatalf("sample %d: reference %d, played %d", i, r.got[i], played[i])
		}
	}
	if played[0] != 20000 || played[479] != 15000 {
		t.Fatalf("played %d, %d; want 20000, 15000", played[0], played[479])
	}
	m.SetReference(nil)
	m.Mix(out)
	if len(r.got) != len(played) {
		t.Fatal("reference still fed after SetReference(nil)")
	}
}

// TestPlayerUseDevice moves playback between devices while audio flows:
// whatever this machine offers (a sound card, ALSA's null device or
// none), the mixer keeps being pulled after each switch, a malformed id
// is refused and a closed player says so.
func TestPlayerUseDevice(t *testing.T) {
	defer test.CheckRoutines(t)()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	src := &constSource{v: 100}
	p.Add("s", src)
	flowing := func(when string) {
		t.Helper()
		before := src.pulled.Load()
		deadline := time.Now().Add(10 * time.Second)
		for src.pulled.Load() < before+SampleRate/10 { // 100 ms of audio
			if time.Now().After(deadline) {
				t.Fatalf("%s: audio stopped flowing (output %q)", when, p.Output())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	flowing("before switching")
	var ids []string
	devs, _ := Devices()
	for _, d := range devs {
		ids = append(ids, d.ID)
	}
	ids = append(ids, "0badc0de", "")
	for _, id := range ids {
		was, wasSpeaker := p.Output(), p.Speaker()
		err := p.UseDevice(id)
		if err != nil && wasSpeaker && (p.Output() != was || !p.Speaker()) {
			t.Errorf("UseDevice(%q) failed and left %q (speaker %v) instead of going back to %q", id, p.Output(), p.Speaker(), was)
		}
		if err != nil && !errors.Is(err, ErrNoAudio) {
			t.Errorf("UseDevice(%q) = %v, want nil or ErrNoAudio", id, err)
		}
		if p.Output() == "" {
			t.Errorf("UseDevice(%q): no output name", id)
		}
		t.Logf("UseDevice(%q): err %v, output %q, speaker %v", id, err, p.Output(), p.Speaker())
		flowing(fmt.Sprintf("after UseDevice(%q)", id))
	}
	if err := p.UseDevice("zz"); !errors.Is(err, ErrBadDeviceID) {
		t.Errorf("UseDevice(zz) = %v, want ErrBadDeviceID", err)
	}
	flowing("after a refused id")
	p.Close()
	if err := p.UseDevice(""); !errors.Is(err, ErrClosed) {
		t.Errorf("UseDevice after Close = %v, want ErrClosed", err)
	}
}

func TestOncePlaysItsSamplesOnce(t *testing.T) {
	s := Once([]int16{1, 2, 3})
	buf := make([]int16, 2)
	if n := s.ReadPCM(buf); n != 2 || buf[0] != 1 || buf[1] != 2 {
		t.Fatalf("first read %d %v", n, buf)
	}
	if n := s.ReadPCM(buf); n != 1 || buf[0] != 3 {
		t.Fatalf("second read %d %v", n, buf)
	}
	if n := s.ReadPCM(buf); n != 0 {
		t.Fatalf("read %d samples after the end", n)
	}
}
