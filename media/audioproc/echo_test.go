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
	floor      []int16   // the room's noise floor alone (in mic)
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
	return &echoScene{ref: rec.frames, mic: mix(echo, near, floor), floor: floor, echo: echo, near: near,
		dtFrom: dtFrom, dtTo: dtTo, echoActive: active}
}

// run feeds the scene through a processor, render and capture side by
// side frame by frame as the audio callbacks would, and returns the
// processed microphone.
func (sc *echoScene) run(t testing.TB, p *Processor) []int16 {
	t.Helper()
	return sc.runAfter(t, p, 0)
}

// runAfter is run with quietSec of the room's noise floor alone (the far
// end silent) before the scene, as when the far end starts talking a
// while into the call; the output returned starts with the scene.
func (sc *echoScene) runAfter(t testing.TB, p *Processor, quietSec float64) []int16 {
	t.Helper()
	lead := int(quietSec*100) * FrameSamples
	mic := append(append(make([]int16, 0, lead+len(sc.mic)), sc.floor[len(sc.floor)-lead:]...), sc.mic...)
	silence := make([]int16, FrameSamples)
	out := make([]int16, 0, len(mic))
	frame := make([]int16, 2*FrameSamples) // capture hands 20 ms chunks
	for k := 0; (k+2)*FrameSamples <= len(mic); k += 2 {
		for _, i := range []int{k, k + 1} {
			if j := i - lead/FrameSamples; j >= 0 && j < len(sc.ref) {
				p.ProcessRender(sc.ref[j])
			} else {
				p.ProcessRender(silence)
			}
		}
		copy(frame, mic[k*FrameSamples:(k+2)*FrameSamples])
		if err := p.ProcessCapture(frame); err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	return out[lead:]
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
	// the double talk has ERLE >= 20 dB. It is strict: everything that
	// comes out counts (the canceller's comfort noise too), and so do
	// windows that hold only the quiet tails of sentences.
	ConvergedSec float64
	// WorstLate is the 0.5 s window from 2 s to the double talk with the
	// lowest ERLE (its start, in s), WorstLateERLE that ERLE, and
	// WorstLateEchoCorr the correlation of the output with the echo there
	// (at the output's latency): near 0 when what is left is not echo.
	WorstLate, WorstLateERLE, WorstLateEchoCorr float64
	DTCorr                                      float64 // correlation of output and clean near end in double talk
	DTCorrRaw                                   float64 // the same for the unprocessed microphone
	DTNearLevelDB                               float64 // output level minus clean near-end level in double talk
	LatencyMS                                   float64 // the processing's delay (lag of best correlation)
}

func (f echoFigures) String() string {
	return fmt.Sprintf("ERLE %.1f dB (0.5-2 s: %.1f dB; after double talk %.1f dB), converged at %.1f s (worst window from 2 s: %.1f s, %.1f dB, correlation with the echo %.3f); double talk: correlation with the clean near end %.3f (microphone %.3f), near-end level %+.1f dB; latency %.1f ms",
		f.ERLE, f.ERLEEarly, f.ERLEAfterDT, f.ConvergedSec, f.WorstLate, f.WorstLateERLE, f.WorstLateEchoCorr,
		f.DTCorr, f.DTCorrRaw, f.DTNearLevelDB, f.LatencyMS)
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
	f.WorstLateERLE = math.Inf(1)
	for start := 200; start+50 <= sc.dtFrom; start += 50 {
		if e := sc.erle(out, start, start+50); e < f.WorstLateERLE {
			f.WorstLate, f.WorstLateERLE = float64(start)/100, e
			w0, w1 := start*FrameSamples, (start+50)*FrameSamples
			f.WorstLateEchoCorr = correlation(out[w0+lag:w1+lag], sc.echo[w0:w1])
		}
	}
	f.DTCorr = correlation(out[a+lag:b], sc.near[a:b])
	f.DTCorrRaw = correlation(sc.mic[a:b], sc.near[a:b])
	_, nearOn := activity(sc.near, 30)
	f.DTNearLevelDB = maskedDBFS(out, nearOn) - maskedDBFS(sc.near, nearOn)
	return f
}

// TestEchoCancellation plays far-end speech through the playout mixer,
// whose Reference feeds the canceller, and measures the echo that comes
// back through a room at three delays the app does not know, for the
// canceller alone and for the app's default (all stages on).
//
// The far end talks from the canceller's first frame on: the hardest
// start, as when one joins a room mid-sentence. The canceller alone then
// passes the strict 20 dB (see ConvergedSec) only from 2.5 s at 40 ms:
// what is left in the 2.0-2.5 s window (echo at -40 dBFS, out at
// -58 dBFS) is not echo (correlation with it about 0.02) but the WebRTC
// canceller's comfort noise, which it pitches at the quietest sound it has
// heard so far; with 2.4 s of speech before the first pause, that is the
// echo's own quietest bins. So "converged within 2 s" is checked where it
// means what it says: with the app's defaults (noise suppression takes
// the comfort noise) and for the canceller alone when it has heard the
// room for a second before the far end talks.
func TestEchoCancellation(t *testing.T) {
	needTools(t)
	type chain struct {
		name     string
		s        Settings
		quietSec float64 // room noise alone before the far end talks
		// convergedBy is the bound on ConvergedSec.
		convergedBy float64
	}
	chains := []chain{
		{"aec", Settings{AEC: true}, 0, 3},
		{"aec-after-1s", Settings{AEC: true}, 1, 2},
		{"defaults", Defaults(), 0, 2},
	}
	for _, delay := range []float64{0.040, 0.090, 0.150} {
		sc := newEchoScene(t, delay)
		for _, c := range chains {
			t.Run(fmt.Sprintf("%dms/%s", int(delay*1000), c.name), func(t *testing.T) {
				p, err := New(WithSettings(c.s))
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				f := sc.measure(sc.runAfter(t, p, c.quietSec))
				t.Logf("echo delay %.0f ms, %s: %v", delay*1000, c.name, f)
				if f.ERLE < 25 {
					t.Errorf("ERLE %.1f dB after convergence, want >= 25 dB", f.ERLE)
				}
				if f.ERLEAfterDT < 20 {
					t.Errorf("ERLE %.1f dB after double talk, want >= 20 dB", f.ERLEAfterDT)
				}
				if f.ConvergedSec > c.convergedBy {
					t.Errorf("converged at %.1f s, want by %.0f s", f.ConvergedSec, c.convergedBy)
				}
				// A window from 2 s on that misses 20 dB must miss it by what
				// is not echo (see above).
				if f.WorstLateERLE < 20 && math.Abs(f.WorstLateEchoCorr) > 0.1 {
					t.Errorf("the %.1f s window has ERLE %.1f dB and what is left correlates %.3f with the echo", f.WorstLate, f.WorstLateERLE, f.WorstLateEchoCorr)
				}
				// The near end must get through double talk: most of it
				// (correlation; the suppressor takes some 6 dB off it while
				// the far end talks too, measured; the AGC gives it back).
				if f.DTCorr < 0.65 || f.DTNearLevelDB < -9 {
					t.Errorf("double talk: near-end correlation %.3f (want >= 0.65), level %+.1f dB (want >= -9 dB)", f.DTCorr, f.DTNearLevelDB)
				}
			})
		}
	}
}
