package audioproc

import (
	"fmt"
	"math"
	"strings"
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
	// Segments is the ERLE of each 0.5 s segment of far end only (the
	// segment from 0 s first; the double talk's are left out), in dB.
	Segments []segmentERLE
	// ConvergedSec is the first time from which every segment up to the
	// double talk has ERLE >= convergedDB. It is strict: everything that
	// comes out counts (the canceller's comfort noise and the room's noise
	// too), and so do segments that hold only the quiet tails of
	// sentences.
	ConvergedSec float64
	// WorstLate is the segment from 2 s to the double talk with the lowest
	// ERLE (its start, in s), WorstLateERLE that ERLE.
	WorstLate, WorstLateERLE float64
	DTCorr                   float64 // correlation of output and clean near end in double talk
	DTCorrRaw                float64 // the same for the unprocessed microphone
	DTSegSNR, DTSegSNRRaw    float64 // segmental SNR against the clean near end (see segSNR), dB
	DTNearLevelDB            float64 // output level minus clean near-end level in double talk
	LatencyMS                float64 // the processing's delay (lag of best correlation)
}

// segmentERLE is the ERLE of one 0.5 s segment.
type segmentERLE struct{ From, DB float64 }

// convergedDB is the ERLE every 0.5 s segment must have from convergence
// on: the goal for the ERLE after convergence, held segment by segment.
const convergedDB = 25

func (f echoFigures) String() string {
	var segs strings.Builder
	for i, sg := range f.Segments {
		if i > 0 {
			segs.WriteString(" ")
		}
		fmt.Fprintf(&segs, "%.1f:%.0f", sg.From, sg.DB)
	}
	return fmt.Sprintf("ERLE %.1f dB (0.5-2 s: %.1f dB; after double talk %.1f dB), converged (every 0.5 s segment >= %d dB) at %.1f s, worst segment from 2 s: %.1f s at %.1f dB; double talk: near end kept with correlation %.3f (microphone %.3f), segmental SNR %.1f dB (microphone %.1f dB), level %+.1f dB; latency %.1f ms; ERLE per segment (s:dB) %s",
		f.ERLE, f.ERLEEarly, f.ERLEAfterDT, convergedDB, f.ConvergedSec, f.WorstLate, f.WorstLateERLE,
		f.DTCorr, f.DTCorrRaw, f.DTSegSNR, f.DTSegSNRRaw, f.DTNearLevelDB, f.LatencyMS, segs.String())
}

func (sc *echoScene) measure(out []int16) echoFigures {
	var f echoFigures
	f.ERLE = sc.erle(out, 200, sc.dtFrom)
	f.ERLEEarly = sc.erle(out, 50, 200)
	f.ERLEAfterDT = sc.erle(out, sc.dtTo+50, len(sc.ref))
	for start := 0; start+50 <= len(sc.ref); start += 50 {
		if start+50 > sc.dtFrom && start < sc.dtTo {
			continue
		}
		f.Segments = append(f.Segments, segmentERLE{float64(start) / 100, sc.erle(out, start, start+50)})
	}
	f.ConvergedSec = math.Inf(1)
	for start := sc.dtFrom - 50; start >= 0; start -= 50 {
		if sc.erle(out, start, start+50) < convergedDB {
			break
		}
		f.ConvergedSec = float64(start) / 100
	}
	f.WorstLateERLE = math.Inf(1)
	for start := 200; start+50 <= sc.dtFrom; start += 50 {
		if e := sc.erle(out, start, start+50); e < f.WorstLateERLE {
			f.WorstLate, f.WorstLateERLE = float64(start)/100, e
		}
	}
	a, b := sc.dtFrom*FrameSamples, sc.dtTo*FrameSamples
	// The engines delay what they process by a few milliseconds (band
	// splitting, overlap-add): compare at the output's own lag.
	f.LatencyMS = float64(bestLag(out[a:b], sc.near[a:b], 25*SampleRate/1000)) * 1000 / SampleRate
	lag := int(f.LatencyMS * SampleRate / 1000)
	f.DTCorr = correlation(out[a+lag:b], sc.near[a:b])
	f.DTCorrRaw = correlation(sc.mic[a:b], sc.near[a:b])
	f.DTSegSNR = segSNR(sc.near[a:b-lag], out[a+lag:b])
	f.DTSegSNRRaw = segSNR(sc.near[a:b], sc.mic[a:b])
	_, nearOn := activity(sc.near, 30)
	f.DTNearLevelDB = maskedDBFS(out, nearOn) - maskedDBFS(sc.near, nearOn)
	return f
}

// segSNR is the segmental SNR of y against the clean signal s (aligned),
// in dB: the mean over the 10 ms frames where s is active (within 30 dB of
// its loudest) of 10 log10(|s|^2 / |s - g y|^2), each clamped to
// [-10, 35] dB (Quackenbush, Barnwell and Clements, "Objective Measures of
// Speech Quality", 1988). g is the least-squares gain of y to s over the
// whole stretch, so that a level change alone (the suppressor's, in
// double talk) is not counted as distortion; the level is reported apart.
func segSNR(s, y []int16) float64 {
	n := min(len(s), len(y))
	var sy, yy float64
	for i := range n {
		sy += float64(s[i]) * float64(y[i])
		yy += float64(y[i]) * float64(y[i])
	}
	if yy == 0 {
		return -10
	}
	g := sy / yy
	_, on := activity(s[:n], 30)
	sum, frames := 0.0, 0
	for k, active := range on {
		if !active {
			continue
		}
		var ps, pe float64
		for i := k * FrameSamples; i < (k+1)*FrameSamples; i++ {
			v := float64(s[i])
			e := v - g*float64(y[i])
			ps += v * v
			pe += e * e
		}
		sum += max(-10, min(35, 10*math.Log10(ps/max(pe, 1e-9))))
		frames++
	}
	if frames == 0 {
		return math.NaN()
	}
	return sum / float64(frames)
}

// TestEchoCancellation plays far-end speech through the playout mixer,
// whose Reference feeds the canceller, and measures the echo that comes
// back through a room at three delays the app does not know, for the
// canceller alone and for the app's default (all stages on). It logs the
// ERLE of every 0.5 s segment, when the canceller converged, and how much
// of the near end gets through double talk; it asserts the goals: ERLE
// >= 25 dB in every segment from at most 2 s on, also after double talk,
// and the near end kept in double talk.
//
// The far end talks from the canceller's first frame on ("aec"): the
// hardest start, as when one joins a room mid-sentence. "aec-after-1s" is
// the usual start in the app (the microphone runs a while before the others
// are heard). "aec-turned-on" starts with nothing on and turns the
// canceller on (as the settings' check box does). "aec-unprimed" shows the start without priming (see
// primeDBFS): logged, not asserted; it converged only at 2.5 s at 40 ms
// (BenchmarkFigures reports it at 150 ms too). These two run at 40 ms only.
func TestEchoCancellation(t *testing.T) {
	needTools(t)
	type chain struct {
		name     string
		s        Settings
		quietSec float64 // room noise alone before the far end talks
		unprimed bool    // without priming; logged only
		turnedOn bool    // started with s off, turned on before the first frame
		only40   bool    // at 40 ms only (the delay does not matter to it)
	}
	chains := []chain{
		{name: "aec", s: Settings{AEC: true}},
		{name: "aec-after-1s", s: Settings{AEC: true}, quietSec: 1},
		{name: "defaults", s: Defaults()},
		{name: "aec-turned-on", s: Settings{AEC: true}, turnedOn: true, only40: true},
		{name: "aec-unprimed", s: Settings{AEC: true}, unprimed: true, only40: true},
	}
	for _, delay := range []float64{0.040, 0.090, 0.150} {
		sc := newEchoScene(t, delay)
		for _, c := range chains {
			if c.only40 && delay != 0.040 {
				continue
			}
			t.Run(fmt.Sprintf("%dms/%s", int(delay*1000), c.name), func(t *testing.T) {
				primeCanceller = !c.unprimed
				defer func() { primeCanceller = true }()
				s := c.s
				if c.turnedOn {
					s = Settings{}
				}
				p, err := New(WithSettings(s))
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if c.turnedOn {
					p.SetSettings(c.s)
				}
				f := sc.measure(sc.runAfter(t, p, c.quietSec))
				t.Logf("echo delay %.0f ms, %s: %v", delay*1000, c.name, f)
				if c.unprimed {
					return
				}
				if f.ERLE < 25 {
					t.Errorf("ERLE %.1f dB after convergence, want >= 25 dB", f.ERLE)
				}
				if f.ERLEAfterDT < 25 {
					t.Errorf("ERLE %.1f dB after double talk, want >= 25 dB", f.ERLEAfterDT)
				}
				if f.ConvergedSec > 2 {
					t.Errorf("converged (every 0.5 s segment >= %d dB ERLE) at %.1f s, want by 2 s", convergedDB, f.ConvergedSec)
				}
				for _, sg := range f.Segments {
					if sg.From >= dtToSec && sg.DB < convergedDB {
						t.Errorf("segment at %.1f s after double talk: ERLE %.1f dB, want >= %d dB", sg.From, sg.DB, convergedDB)
					}
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
