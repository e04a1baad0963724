package audioproc

import (
	"fmt"
	"math"
	"testing"

	"github.com/confab/confab/media/playout"
)

// pcmSource plays a buffer once through the mixer.
type pcmSource struct{ pcm []int16 }

func (s *pcmSource) ReadPCM(dst []int16) int {
	n := copy(dst, s.pcm)
	s.pcm = s.pcm[n:]
	return n
}

// tap records what the mixer hands its Reference.
type tap struct{ frames [][]int16 }

func (r *tap) ProcessRender(pcm []int16) { r.frames = append(r.frames, append([]int16(nil), pcm...)) }

// echoScene is a call with an echo: far-end speech played through the
// playout mixer, the microphone hearing it through a room (delay,
// reflections, attenuation) plus, in one stretch, the near-end talker
// (double talk) and a faint noise floor.
type echoScene struct {
	ref        [][]int16 // what the mixer's Reference got, frame by frame
	mic        []int16   // what the microphone hears
	echo       []int16   // the echo alone
	near       []int16   // the clean near-end talker, aligned with mic
	dtFrom     int       // double talk: frames [dtFrom, dtTo)
	dtTo       int
	echoActive []bool // frames with far-end echo within 30 dB of its peak
}

const (
	sceneSeconds = 16.0
	dtFromSec    = 8.0
	dtToSec      = 12.0
)

func newEchoScene(t testing.TB, delaySec float64) *echoScene {
	t.Helper()
	far := talk(t, "en-us", 0, sceneSeconds, -20)
	frames := len(far) / FrameSamples

	m := playout.NewMixer()
	m.Add("far", &pcmSource{pcm: far})
	rec := &tap{}
	m.SetReference(rec)
	played := make([]int16, 0, len(far))
	buf := make([]int16, FrameSamples)
	for range frames {
		m.Mix(buf)
		played = append(played, buf...)
	}
	if len(rec.frames) != frames {
		t.Fatalf("reference got %d frames, mixer played %d", len(rec.frames), frames)
	}

	// Speaker to microphone: 10 dB down, 60 ms of room.
	h := roomResponse(delaySec, 0.06, 10)
	// The echo path must delay as said: an impulse comes out at the delay.
	probe := make([]int16, len(h)+SampleRate/10)
	probe[0] = 16000
	peak, at := 0, -1
	for i, v := range convolve(t, probe, h) {
		if a := int(max(v, -v)); a > peak {
			peak, at = a, i
		}
	}
	if want := int(delaySec * SampleRate); at != want {
		t.Fatalf("echo path puts its direct path at sample %d, want %d", at, want)
	}
	echo := convolve(t, played, h)
	near := make([]int16, len(played))
	dtFrom, dtTo := int(dtFromSec*100), int(dtToSec*100)
	copy(near[dtFrom*FrameSamples:dtTo*FrameSamples], talk(t, "en+f3", 5, dtToSec-dtFromSec, -24))
	floor := scaleTo(noise(t, "whitenoise", sceneSeconds), -65)
	_, active := activity(echo, 30)
	return &echoScene{ref: rec.frames, mic: mix(echo, near, floor), echo: echo, near: near,
		dtFrom: dtFrom, dtTo: dtTo, echoActive: active}
}

// run feeds the scene through a processor, render and capture side by
// side frame by frame as the audio callbacks would, and returns the
// processed microphone.
func (sc *echoScene) run(t testing.TB, p *Processor) []int16 {
	t.Helper()
	out := make([]int16, 0, len(sc.mic))
	frame := make([]int16, 2*FrameSamples) // capture hands 20 ms chunks
	for k := 0; k+1 < len(sc.ref); k += 2 {
		p.ProcessRender(sc.ref[k])
		p.ProcessRender(sc.ref[k+1])
		copy(frame, sc.mic[k*FrameSamples:(k+2)*FrameSamples])
		if err := p.ProcessCapture(frame); err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	return out
}

// erle is the echo return loss enhancement over frames [from, to) where
// the far end's echo is active: how much quieter out is than mic there.
func (sc *echoScene) erle(out []int16, from, to int) float64 {
	var in, res float64
	for k := from; k < to && (k+1)*FrameSamples <= len(out); k++ {
		if !sc.echoActive[k] {
			continue
		}
		in += power(sc.mic[k*FrameSamples : (k+1)*FrameSamples])
		res += power(out[k*FrameSamples : (k+1)*FrameSamples])
	}
	return db(in) - db(res)
}

// echoFigures are what one run measured.
type echoFigures struct {
	ERLE        float64 // dB, far end only, from 2 s to the double talk
	ERLEEarly   float64 // dB, far end only, from 0.5 s to 2 s
	ERLEAfterDT float64 // dB, far end only, 0.5 s after the double talk to the end
	// ConvergedSec is the first time from which every 0.5 s window up to
	// the double talk has ERLE >= 20 dB (strict: the echo tails at the
	// ends of sentences count).
	ConvergedSec  float64
	DTCorr        float64 // correlation of output and clean near end in double talk
	DTCorrRaw     float64 // the same for the unprocessed microphone
	DTNearLevelDB float64 // output level minus clean near-end level in double talk
	LatencyMS     float64 // the processing's delay (lag of best correlation)
}

func (f echoFigures) String() string {
	return fmt.Sprintf("ERLE %.1f dB (0.5-2 s: %.1f dB; after double talk %.1f dB), converged at %.1f s; double talk: correlation with the clean near end %.3f (microphone %.3f), near-end level %+.1f dB; latency %.1f ms",
		f.ERLE, f.ERLEEarly, f.ERLEAfterDT, f.ConvergedSec, f.DTCorr, f.DTCorrRaw, f.DTNearLevelDB, f.LatencyMS)
}

func (sc *echoScene) measure(out []int16) echoFigures {
	var f echoFigures
	f.ERLE = sc.erle(out, 200, sc.dtFrom)
	f.ERLEEarly = sc.erle(out, 50, 200)
	f.ERLEAfterDT = sc.erle(out, sc.dtTo+50, len(sc.ref))
	f.ConvergedSec = math.Inf(1)
	for start := sc.dtFrom - 50; start >= 0; start -= 50 {
		if sc.erle(out, start, start+50) < 20 {
			break
		}
		f.ConvergedSec = float64(start) / 100
	}
	a, b := sc.dtFrom*FrameSamples, sc.dtTo*FrameSamples
	// The engines delay what they process by a few milliseconds (band
	// splitting, overlap-add): compare at the output's own lag.
	f.LatencyMS = float64(bestLag(out[a:b], sc.near[a:b], 25*SampleRate/1000)) * 1000 / SampleRate
	lag := int(f.LatencyMS * SampleRate / 1000)
	f.DTCorr = correlation(out[a+lag:b], sc.near[a:b])
	f.DTCorrRaw = correlation(sc.mic[a:b], sc.near[a:b])
	_, nearOn := activity(sc.near, 30)
	f.DTNearLevelDB = maskedDBFS(out, nearOn) - maskedDBFS(sc.near, nearOn)
	return f
}

// TestEchoCancellation plays far-end speech through the playout mixer,
// whose Reference feeds the canceller, and measures the echo that comes
// back through a room at three delays the app does not know.
func TestEchoCancellation(t *testing.T) {
	needTools(t)
	for _, delay := range []float64{0.040, 0.090, 0.150} {
		t.Run(fmt.Sprintf("%dms", int(delay*1000)), func(t *testing.T) {
			sc := newEchoScene(t, delay)
			p, err := New(WithSettings(Settings{AEC: true}))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			f := sc.measure(sc.run(t, p))
			t.Logf("echo delay %.0f ms: %v", delay*1000, f)
			if f.ERLE < 25 {
				t.Errorf("ERLE %.1f dB after convergence, want >= 25 dB", f.ERLE)
			}
			if f.ERLEAfterDT < 20 {
				t.Errorf("ERLE %.1f dB after double talk, want >= 20 dB", f.ERLEAfterDT)
			}
			if f.ConvergedSec > 3.5 {
				t.Errorf("converged at %.1f s, want by 3.5 s", f.ConvergedSec)
			}
			// The near end must get through double talk: most of it
			// (correlation; the suppressor takes some 6 dB off it while the far
			// end talks too, measured).
			if f.DTCorr < 0.65 || f.DTNearLevelDB < -9 {
				t.Errorf("double talk: near-end correlation %.3f (want >= 0.65), level %+.1f dB (want >= -9 dB)", f.DTCorr, f.DTNearLevelDB)
			}
		})
	}
}
