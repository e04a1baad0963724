package devicetest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	// The app's microphone driver: miniaudio (malgo), here over ALSA.
	_ "github.com/pion/mediadevices/pkg/driver/microphone"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"gopkg.in/hraban/opus.v2"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/audioproc"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/internal/mediatest"
)

// The device: there is no sound card here (no /proc/asound; snd-dummy is
// a kernel module a container cannot load), so the microphone is made of
// ALSA's own plugins, which the real driver opens like any device: "plug"
// (format conversion) over "file", whose capture data comes from infile
// (here a named pipe the test writes speech into at the pace of real time,
// which paces the device too) over "null" (a device that only discards).
// The hint makes ALSA list it, as the app's device list shows a card.
const (
	micName  = "Confab test microphone"
	alsaConf = `</usr/share/alsa/alsa.conf>
pcm.confab_test_file {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "%s"
	format "raw"
}
pcm.confab_test_mic {
	type plug
	slave {
		pcm "confab_test_file"
		format S16_LE
		rate 48000
		channels 1
	}
	hint {
		show on
		description "` + micName + `"
	}
}
`
	// childEnv marks the test process that opens the microphone: the
	// driver lists devices once, when the process starts, so the ALSA
	// configuration must be in its environment from the start.
	childEnv = "CONFAB_ALSA_MIC_CHILD"
	// chunk is what the test writes to the pipe at a time: 20 ms.
	chunk = 48000 / 50
)

// TestMicrophoneThroughALSA opens the microphone the way the app does,
// with the audio processing stage on (all of it, the app's default), on
// an ALSA capture device fed with speech, binds it to an Opus sender and
// checks that the speech went through the processing stage and the
// encoder: frames processed, packets sent with a voice level, and Opus
// that decodes to speech.
func TestMicrophoneThroughALSA(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		openMicrophone(t)
		return
	}
	const systemConf = "/usr/share/alsa/alsa.conf"
	if _, err := os.Stat(systemConf); err != nil {
		skipOrFail(t, fmt.Sprintf("no ALSA configuration (%v): libasound2-data is not installed", err))
	}
	pcm := speech(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "mic.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		skipOrFail(t, fmt.Sprintf("cannot make a named pipe for the ALSA device: %v", err))
	}
	// Open for reading and writing: it never blocks, and the pipe always
	// has a writer, so the plugin's reads wait for audio, not end.
	pipe, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "asound.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(alsaConf, fifo)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		feed(ctx, pipe, pcm)
	}()
	defer func() {
		cancel()
		pipe.Close() // unblocks a write the device is not reading
		wg.Wait()
	}()

	run, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	cmd := exec.CommandContext(run, os.Args[0], "-test.run=^TestMicrophoneThroughALSA$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1", "ALSA_CONFIG_PATH="+conf)
	out, err := cmd.CombinedOutput()
	var skip string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "=== RUN") || strings.HasPrefix(line, "ALSA lib") {
			continue
		}
		t.Log(line)
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "alsa_test.go:"); ok && strings.Contains(s, "skip:") {
			skip = s
		}
	}
	if err != nil {
		t.Fatalf("the microphone's process: %v", err)
	}
	if skip != "" && bytes.Contains(out, []byte("--- SKIP")) {
		t.Skip(skip)
	}
}

// openMicrophone is the test in the process that has the ALSA device.
func openMicrophone(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	var dev capture.Device
	var names []string
	for _, d := range c.Devices() {
		if d.Kind == capture.KindMicrophone {
			names = append(names, d.Label)
			if d.Label == micName {
				dev = d
			}
		}
	}
	if dev.ID == "" {
		// Only when ALSA itself is missing (libasound2, libasound2-data).
		skipOrFail(t, fmt.Sprintf("skip: the microphone driver lists no %q (microphones: %q): is ALSA (libasound2) installed?", micName, names))
	}
	proc, err := audioproc.New()
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	mic, err := c.OpenMicrophone(dev.ID, capture.WithAudioProcessor(proc))
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	const extID = 1
	sender := mediatest.NewContext("mic", media.OpusCodec(),
		[]webrtc.RTPHeaderExtensionParameter{{URI: media.AudioLevelURI, ID: extID}}, 1024)
	defer sender.Close()
	if _, err := mic.Bind(sender); err != nil {
		t.Fatal(err)
	}
	defer mic.Unbind(sender)

	// Three seconds of packets (20 ms each), with a generous deadline.
	const want = 150
	var pkts []*rtp.Packet
	start := time.Now()
	deadline := time.After(60 * time.Second)
	for len(pkts) < want {
		select {
		case p := <-sender.Packets:
			pkts = append(pkts, p)
		case <-deadline:
			t.Fatalf("%d Opus packets within 60 s, want %d (processed %d frames)", len(pkts), want, proc.Stats().Frames)
		}
	}
	took := time.Since(start)
	st := proc.Stats()

	voice := 0
	dec, err := opus.NewDecoder(48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, 5760)
	var sum float64
	var n int
	for _, p := range pkts {
		var lvl rtp.AudioLevelExtension
		if b := p.Header.GetExtension(extID); b == nil || lvl.Unmarshal(b) != nil {
			t.Fatalf("packet %d has no audio level", p.SequenceNumber)
		}
		if lvl.Voice {
			voice++
		}
		m, err := dec.Decode(p.Payload, out)
		if err != nil {
			t.Fatalf("packet %d: opus: %v", p.SequenceNumber, err)
		}
		for _, v := range out[:m] {
			f := float64(v) / 32768
			sum += f * f
		}
		n += m
	}
	decoded := 10 * math.Log10(max(sum/float64(max(n, 1)), 1e-20))
	t.Logf("%q: %d packets in %.1f s; the processing stage took %d frames of 10 ms (%v in effect); %d packets with voice; decoded Opus at %.1f dBFS",
		dev.Label, len(pkts), took.Seconds(), st.Frames, st.InEffect, voice, decoded)
	if st.Frames < 2*want {
		t.Errorf("processing stage took %d frames, want >= %d (all of the %d packets' audio)", st.Frames, 2*want, want)
	}
	if st.InEffect != audioproc.Defaults() {
		t.Errorf("in effect %+v, want the defaults", st.InEffect)
	}
	// Speech with pauses between sentences: most packets are voice.
	if voice < want/2 {
		t.Errorf("%d of %d packets with voice, want >= %d", voice, want, want/2)
	}
	// The gain control aims speech at -20 dBFS; pauses lower the average.
	if decoded < -40 {
		t.Errorf("decoded Opus at %.1f dBFS, want speech (>= -40 dBFS)", decoded)
	}
}

// speech renders Harvard sentences with espeak-ng as 48 kHz mono 16-bit
// samples (little-endian), peaks at -6 dBFS.
func speech(t *testing.T) []byte {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, fmt.Sprintf("%s not installed (scripts/deps.sh test installs it): the test feeds the microphone speech", tool))
		}
	}
	dir := t.TempDir()
	wav, raw := filepath.Join(dir, "s.wav"), filepath.Join(dir, "s.raw")
	for _, c := range [][]string{
		{"espeak-ng", "-w", wav, "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It's easy to tell the depth of a well."},
		{"sox", wav, "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L", "-t", "raw", raw, "norm", "-6"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", c[0], err, out)
		}
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2*chunk*50 {
		t.Fatalf("speech only %d bytes", len(b))
	}
	return b
}

// feed writes pcm to w over and over, 20 ms at a time at the pace of real
// time (the device reads at the pace it is written), until ctx ends.
func feed(ctx context.Context, w *os.File, pcm []byte) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	const size = 2 * chunk
	for off := 0; ; off = (off + size) % (len(pcm) - len(pcm)%size) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := w.Write(pcm[off : off+size]); err != nil {
			return
		}
	}
}

// skipOrFail skips, or fails when CONFAB_REQUIRE_AUDIO is set (make test).
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CONFAB_REQUIRE_AUDIO") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
