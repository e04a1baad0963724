package audioproc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The test signals are real speech: espeak-ng renders sentences (Harvard
// sentences, IEEE 1969) and sox converts them to 48 kHz mono and makes the
// noises. Both are Debian packages (scripts/deps.sh test).

var (
	sigDir     string
	sigDirErr  error
	sigDirOnce sync.Once
	sigCache   sync.Map // key -> []int16
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sigDir != "" {
		os.RemoveAll(sigDir)
	}
	os.Exit(code)
}

// needTools skips the test when espeak-ng or sox is missing, unless
// CONFAB_REQUIRE_AUDIO is set, when it fails.
func needTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not installed (scripts/deps.sh test installs it): the audio processing tests need real speech", tool)
			if os.Getenv("CONFAB_REQUIRE_AUDIO") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

func workDir(t testing.TB) string {
	sigDirOnce.Do(func() { sigDir, sigDirErr = os.MkdirTemp("", "audioproc-signals-") })
	if sigDirErr != nil {
		t.Fatal(sigDirErr)
	}
	return sigDir
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
}

// readRaw reads a file of signed 16-bit little-endian samples.
func readRaw(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(b)/2)
	if err := binary.Read(bytes.NewReader(b[:2*len(out)]), binary.LittleEndian, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// cached computes a signal once per test binary.
func cached(key string, f func() []int16) []int16 {
	if v, ok := sigCache.Load(key); ok {
		return v.([]int16)
	}
	v := f()
	sigCache.Store(key, v)
	return v
}

// speech renders text with an espeak-ng voice at 48 kHz mono.
func speech(t testing.TB, voice, text string) []int16 {
	t.Helper()
	return speechAt(t, voice, 50, 160, text)
}

// speechAt is speech at an espeak-ng pitch (0-99, 50 its default) and
// speed (words a minute, 160 here by default).
func speechAt(t testing.TB, voice string, pitch, wpm int, text string) []int16 {
	t.Helper()
	needTools(t)
	key := fmt.Sprintf("speech|%s|%d|%d|%s", voice, pitch, wpm, text)
	if pitch == 50 && wpm == 160 {
		key = "speech|" + voice + "|" + text
	}
	return cached(key, func() []int16 {
		dir := workDir(t)
		base := filepath.Join(dir, fmt.Sprintf("s%x", hashString(key)))
		run(t, "espeak-ng", "-v", voice, "-p", strconv.Itoa(pitch), "-s", strconv.Itoa(wpm), "-w", base+".wav", text)
		run(t, "sox", base+".wav", "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", base+".raw")
		return readRaw(t, base+".raw")
	})
}

// noise makes seconds of sox's synth noise (whitenoise, pinknoise,
// brownnoise), repeatably (sox -R).
func noise(t testing.TB, kind string, seconds float64) []int16 {
	t.Helper()
	needTools(t)
	key := fmt.Sprintf("noise|%s|%g", kind, seconds)
	return cached(key, func() []int16 {
		path := filepath.Join(workDir(t), fmt.Sprintf("n%x.raw", hashString(key)))
		run(t, "sox", "-R", "-n", "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", path,
			"synth", strconv.FormatFloat(seconds, 'f', 3, 64), kind, "vol", "0.5")
		return readRaw(t, path)
	})
}

// convolve filters x with the FIR taps h through sox's fir effect.
func convolve(t testing.TB, x []int16, h []float64) []int16 {
	t.Helper()
	dir := workDir(t)
	id := rand.Uint64()
	in := filepath.Join(dir, fmt.Sprintf("c%x-in.raw", id))
	out := filepath.Join(dir, fmt.Sprintf("c%x-out.raw", id))
	coefs := filepath.Join(dir, fmt.Sprintf("c%x.txt", id))
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, x)
	if err := os.WriteFile(in, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// sox's fir assumes a linear-phase filter and advances its output by
	// half the filter's length; leading zeros of the same length cancel
	// that, so the echo comes as late as h says (newEchoScene checks).
	var cb strings.Builder
	for range len(h) - 1 {
		cb.WriteString("0\n")
	}
	for _, c := range h {
		fmt.Fprintf(&cb, "%.9g\n", c)
	}
	if err := os.WriteFile(coefs, []byte(cb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := []string{"-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw"}
	args := append(append(append([]string{}, raw...), in), raw...)
	args = append(args, out, "fir", coefs)
	run(t, "sox", args...)
	y := readRaw(t, out)
	if len(y) < len(x) {
		y = append(y, make([]int16, len(x)-len(y))...)
	}
	return y[:len(x)]
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// harvard are Harvard sentences (IEEE 1969), the usual speech test texts.
var harvard = []string{
	"The birch canoe slid on the smooth planks.",
	"Glue the sheet to the dark blue background.",
	"It's easy to tell the depth of a well.",
	"These days a chicken leg is a rare dish.",
	"Rice is often served in round bowls.",
	"The juice of lemons makes fine punch.",
	"The box was thrown beside the parked truck.",
	"The hogs were fed chopped corn and garbage.",
	"Four hours of steady work faced us.",
	"A large size in stockings is hard to sell.",
	"The boy was there when the sun rose.",
	"A rod is used to catch pink salmon.",
	"The source of the huge river is the clear spring.",
	"Kick the ball straight and follow through.",
	"Help the woman get back to her feet.",
	"A pot of tea helps to pass the evening.",
}

// talk strings sentences together with short pauses, to at least seconds
// long, at an active speech RMS of levelDBFS.
func talk(t testing.TB, voice string, first int, seconds, levelDBFS float64) []int16 {
	t.Helper()
	// One espeak-ng run for several sentences (it pauses between them).
	var text []string
	for i := first; i < first+int(seconds/2)+2; i++ {
		text = append(text, harvard[i%len(harvard)])
	}
	out := speech(t, voice, strings.Join(text, " "))
	for len(out) < int(seconds*SampleRate) {
		out = append(out, out...)
	}
	out = out[:int(seconds*SampleRate)]
	return scaleTo(out, levelDBFS)
}

// activeRMS is the RMS of the 10 ms frames of x that are within 30 dB of
// its loudest frame (a simple active speech level), in dBFS.
func activeRMS(x []int16) float64 {
	_, mask := activity(x, 30)
	return maskedDBFS(x, mask)
}

// activity returns each 10 ms frame's power (full scale = 1) and whether
// it is within rangeDB of the loudest.
func activity(x []int16, rangeDB float64) ([]float64, []bool) {
	n := len(x) / FrameSamples
	pow := make([]float64, n)
	peak := 0.0
	for i := range n {
		pow[i] = power(x[i*FrameSamples : (i+1)*FrameSamples])
		peak = max(peak, pow[i])
	}
	mask := make([]bool, n)
	for i, p := range pow {
		mask[i] = p > 0 && p >= peak*math.Pow(10, -rangeDB/10)
	}
	return pow, mask
}

func power(x []int16) float64 {
	s := 0.0
	for _, v := range x {
		f := float64(v) / 32768
		s += f * f
	}
	return s / float64(max(1, len(x)))
}

func db(p float64) float64 { return 10 * math.Log10(max(p, 1e-20)) }

// maskedDBFS is the RMS level of the frames of x that mask selects.
func maskedDBFS(x []int16, mask []bool) float64 {
	s, n := 0.0, 0
	for i, on := range mask {
		if on && (i+1)*FrameSamples <= len(x) {
			s += power(x[i*FrameSamples : (i+1)*FrameSamples])
			n++
		}
	}
	if n == 0 {
		return math.Inf(-1)
	}
	return db(s / float64(n))
}

func scaleTo(x []int16, levelDBFS float64) []int16 {
	g := math.Pow(10, (levelDBFS-activeRMS(x))/20)
	return gain(x, g)
}

func gain(x []int16, g float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return out
}

// mix adds signals (the shortest sets the length).
func mix(xs ...[]int16) []int16 {
	n := len(xs[0])
	for _, x := range xs {
		n = min(n, len(x))
	}
	out := make([]int16, n)
	for i := range out {
		s := 0
		for _, x := range xs {
			s += int(x[i])
		}
		out[i] = int16(max(-32768, min(32767, s)))
	}
	return out
}

// roomResponse is a short synthetic room impulse response: the echo
// delay, a direct path, a few early reflections and a diffuse tail
// decaying by 60 dB in rt60 seconds, scaled to an overall attenuation of
// lossDB (energy gain of the whole response). It is deterministic.
func roomResponse(delaySec, rt60, lossDB float64) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	d := int(delaySec * SampleRate)
	tail := int(rt60 * SampleRate)
	h := make([]float64, d+tail)
	h[d] = 1
	for _, e := range []struct{ ms, g float64 }{{2.7, -0.6}, {5.3, 0.45}, {8.9, -0.35}, {13.1, 0.25}} {
		h[d+int(e.ms*SampleRate/1000)] += e.g
	}
	tau := rt60 / 6.9 // exp(-t/tau) reaches -60 dB at rt60
	for i := int(0.004 * SampleRate); i < tail; i++ {
		h[d+i] += 0.3 * r.NormFloat64() * math.Exp(-float64(i)/SampleRate/tau)
	}
	e := 0.0
	for _, v := range h {
		e += v * v
	}
	g := math.Pow(10, -lossDB/20) / math.Sqrt(e)
	for i := range h {
		h[i] *= g
	}
	return h
}

// correlation is the normalised cross-correlation of a and b at lag 0.
func correlation(a, b []int16) float64 {
	n := min(len(a), len(b))
	var ab, aa, bb float64
	for i := range n {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// bestLag is the lag (0..maxLag samples) at which out correlates best with
// ref: the processing's latency. It looks at one second in the middle.
func bestLag(out, ref []int16, maxLag int) int {
	n := min(len(out), len(ref)) - maxLag
	from, to := max(0, n/2-SampleRate/2), min(n, n/2+SampleRate/2)
	best, at := math.Inf(-1), 0
	for lag := 0; lag <= maxLag; lag++ {
		if c := correlation(out[from+lag:to+lag], ref[from:to]); c > best {
			best, at = c, lag
		}
	}
	return at
}
