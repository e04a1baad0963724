package audioproc

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// process runs x through p in 20 ms chunks, as the capture side does, and
// returns the output with the engine's latency taken out (measured against
// ref, the clean speech) and that latency in samples.
func process(t testing.TB, p *Processor, x, ref []int16) ([]int16, int) {
	t.Helper()
	out := append([]int16(nil), x...)
	for k := 0; k+2*FrameSamples <= len(out); k += 2 * FrameSamples {
		if err := p.ProcessCapture(out[k : k+2*FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	lag := bestLag(out, ref, 25*SampleRate/1000)
	return append(out[lag:], make([]int16, lag)...), lag
}

// talker is one voice of a babble: an espeak-ng voice and variant, a
// pitch (0-99) and a speed (words a minute).
type talker struct {
	voice      string
	pitch, wpm int
}

// crowd are twelve different voices: men's, women's, accents, pitches and
// speeds.
var crowd = []talker{
	{"en-us", 50, 160}, {"en+m3", 35, 150}, {"en+f2", 70, 170}, {"en-gb", 45, 180},
	{"en-gb-scotland+f4", 80, 155}, {"en-us+m5", 25, 165}, {"en-gb-x-rp+f3", 65, 145}, {"en-029+m2", 40, 175},
	{"en-gb-x-gbclan+f1", 85, 160}, {"en-us-nyc+m7", 30, 150}, {"en+f5", 75, 165}, {"en-gb-x-gbcwmd+m1", 55, 170},
}

// babble is n talkers of the crowd at once, each reading other sentences
// at the same level.
//
// Which babble is fair to ask a noise suppressor to remove: babble noise
// in the standard sense is a crowd whose words one no longer follows, a
// noise, such as NOISEX-92's babble (about 100 people in a canteen; Varga
// and Steeneken 1993) or the 12-talker babble of the SPIN test (Kalikow,
// Stevens and Elliott 1977). A few voices (QuickSIN's 4-talker babble,
// Killion et al. 2004) are still speech one can follow: a suppressor that
// keeps speech (which is its job) keeps them too, since it learns the
// noise as what stays and a few talkers do not stay. So the goal (noise
// down >= 10 dB in pauses) is asserted on 12 talkers, the fewest of the
// standard "babble noises" and the hardest of them here (espeak-ng's
// voices are less varied than people); 4 and 8 talkers are measured and
// logged, not asserted, and must keep the speech level too.
func babble(t testing.TB, n int, seconds float64) []int16 {
	t.Helper()
	var parts [][]int16
	for i, tk := range crowd[:n] {
		var text []string
		for j := 5*i + 1; j < 5*i+1+int(seconds/2)+3; j++ {
			text = append(text, harvard[j%len(harvard)])
		}
		x := speechAt(t, tk.voice, tk.pitch, tk.wpm, strings.Join(text, " "))
		for len(x) < int(seconds*SampleRate) {
			x = append(x, x...)
		}
		parts = append(parts, scaleTo(x[:int(seconds*SampleRate)], -30))
	}
	return mix(parts...)
}

// noiseCase is one noise of TestNoiseSuppression and what it must lose in
// the speech pauses (0: measured and logged only).
type noiseCase struct {
	name   string
	make   func(t testing.TB, seconds float64) []int16
	wantDB float64
}

// noiseCases, with what each engine measured (noise reduction in the
// pauses at 10 dB SNR; WebRTC at its strongest level, speexdsp at -30 dB,
// which does no better on babble at -45 dB): white 19.1 and 25.0 dB,
// pink 23.0 and 8.8, 12-talker babble 11.8 and 6.7 dB, 8 talkers 9.7 and
// 5.9, 6 talkers 7.9 and 5.5, 4 talkers 4.6-4.8 and 4.2; the speech level
// within 1.2 dB throughout. WebRTC is the one that meets the goal on
// babble (and pink noise); speexdsp takes more white noise.
var noiseCases = []noiseCase{
	{"white", func(t testing.TB, s float64) []int16 { return noise(t, "whitenoise", s) }, 10},
	{"pink", func(t testing.TB, s float64) []int16 { return noise(t, "pinknoise", s) }, 10},
	{"brown", func(t testing.TB, s float64) []int16 { return noise(t, "brownnoise", s) }, 10},
	{"babble12", func(t testing.TB, s float64) []int16 { return babble(t, 12, s) }, 10},
	{"babble8", func(t testing.TB, s float64) []int16 { return babble(t, 8, s) }, 0},
	{"babble4", func(t testing.TB, s float64) []int16 { return babble(t, 4, s) }, 0},
}

// nsScene is speech (-26 dBFS) plus a noise 10 dB below it, with the
// frames where the speech pauses and where it is active (both after
// 1.5 s, for the suppressor to learn the noise).
type nsScene struct {
	clean, in     []int16
	pause, active []bool
}

func newNSScene(t testing.TB, n []int16, seconds float64) nsScene {
	t.Helper()
	clean := talk(t, "en+f3", 2, seconds, -26)
	pow, _ := activity(clean, 30)
	sc := nsScene{clean: clean}
	for i, pw := range pow {
		settled := i >= 150
		sc.pause = append(sc.pause, settled && db(pw) < -70)
		sc.active = append(sc.active, settled && db(pw) > -26-15)
	}
	// 10 dB below the active speech level.
	sc.in = mix(clean, gain(n, math.Pow(10, (-26-10-db(power(n)))/20)))
	return sc
}

// measure runs the scene through p: how much quieter the pauses got and
// how much the speech level moved, in dB.
func (sc nsScene) measure(t testing.TB, p *Processor) (reduction, speech, latencyMS float64) {
	t.Helper()
	out, lag := process(t, p, sc.in, sc.clean)
	reduction = maskedDBFS(sc.in, sc.pause) - maskedDBFS(out, sc.pause)
	speech = maskedDBFS(out, sc.active) - maskedDBFS(sc.clean, sc.active)
	return reduction, speech, float64(lag) * 1000 / SampleRate
}

// TestNoiseSuppression adds noise at 10 dB SNR to speech and measures how
// much quieter the pauses get and how much the speech level moves.
func TestNoiseSuppression(t *testing.T) {
	needTools(t)
	const seconds = 10.0
	for _, nc := range noiseCases {
		t.Run(nc.name, func(t *testing.T) {
			sc := newNSScene(t, nc.make(t, seconds), seconds)
			p, err := New(WithSettings(Settings{NS: true}))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			reduction, speech, latency := sc.measure(t, p)
			goal := fmt.Sprintf("goal >= %.0f dB", nc.wantDB)
			if nc.wantDB == 0 {
				goal = "logged, not asserted"
			}
			t.Logf("%s noise at 10 dB SNR: noise in pauses reduced by %.1f dB (%s), speech level %+.1f dB (latency %.1f ms)",
				nc.name, reduction, goal, speech, latency)
			if nc.wantDB > 0 && reduction < nc.wantDB {
				t.Errorf("noise reduced by %.1f dB in pauses, want >= %.0f dB", reduction, nc.wantDB)
			}
			if math.Abs(speech) > 3 {
				t.Errorf("speech level moved %+.1f dB, want within 3 dB", speech)
			}
		})
	}
}

// TestGainControl brings quiet and loud speech to the target level.
func TestGainControl(t *testing.T) {
	needTools(t)
	const seconds = 12.0
	for _, level := range []float64{-40, -6} {
		t.Run(fmt.Sprintf("%gdBFS", level), func(t *testing.T) {
			in := talk(t, "en-us", 4, seconds, level)
			p, err := New(WithSettings(Settings{AGC: true, TargetDBFS: DefaultTargetDBFS}))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			out, _ := process(t, p, in, in)
			// After 4 s to adapt.
			_, on := activity(in, 30)
			for i := range on[:min(400, len(on))] {
				on[i] = false
			}
			got := maskedDBFS(out, on)
			t.Logf("speech at %.0f dBFS: out at %.1f dBFS (target %.0f dBFS)", level, got, DefaultTargetDBFS)
			if math.Abs(got-DefaultTargetDBFS) > 6 {
				t.Errorf("speech at %.0f dBFS came out at %.1f dBFS, want within 6 dB of %.0f dBFS", level, got, DefaultTargetDBFS)
			}
		})
	}
}
