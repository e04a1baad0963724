package audioproc

import (
	"fmt"
	"math"
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

// babble is several talkers at once, a crowd-like noise.
func babble(t testing.TB, seconds float64) []int16 {
	voices := []string{"en-us", "en+m3", "en+f2", "en-gb"}
	var parts [][]int16
	for i, v := range voices {
		parts = append(parts, talk(t, v, 3*i+1, seconds, -30))
	}
	return mix(parts...)
}

// TestNoiseSuppression adds noise at 10 dB SNR to speech and measures how
// much quieter the pauses get and how much the speech level moves.
func TestNoiseSuppression(t *testing.T) {
	needTools(t)
	const seconds = 10.0
	clean := talk(t, "en+f3", 2, seconds, -26)
	pow, _ := activity(clean, 30)
	var pause, active []bool
	for i, pw := range pow {
		settled := i >= 150 // 1.5 s to learn the noise
		pause = append(pause, settled && db(pw) < -70)
		active = append(active, settled && db(pw) > -26-15)
	}
	noises := map[string]func() []int16{
		"white":  func() []int16 { return noise(t, "whitenoise", seconds) },
		"pink":   func() []int16 { return noise(t, "pinknoise", seconds) },
		"brown":  func() []int16 { return noise(t, "brownnoise", seconds) },
		"babble": func() []int16 { return babble(t, seconds) },
	}
	for _, name := range []string{"white", "pink", "brown", "babble"} {
		t.Run(name, func(t *testing.T) {
			n := noises[name]()
			// 10 dB below the active speech level.
			n = gain(n, math.Pow(10, (-26-10-db(power(n)))/20))
			in := mix(clean, n)
			p, err := New(WithSettings(Settings{NS: true}))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			out, lag := process(t, p, in, clean)
			reduction := maskedDBFS(in, pause) - maskedDBFS(out, pause)
			speech := maskedDBFS(out, active) - maskedDBFS(clean, active)
			t.Logf("%s noise at 10 dB SNR: noise in pauses reduced by %.1f dB, speech level %+.1f dB (latency %.1f ms)",
				name, reduction, speech, float64(lag)*1000/SampleRate)
			want := 10.0
			if name == "babble" {
				want = 3 // speech-like noise: a suppressor must not treat it as noise
			}
			if reduction < want {
				t.Errorf("noise reduced by %.1f dB in pauses, want >= %.0f dB", reduction, want)
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
