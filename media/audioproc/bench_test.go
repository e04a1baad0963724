package audioproc

import (
	"fmt"
	"testing"

	"github.com/confab/confab/media/internal/mediatest"
)

// BenchmarkFrame measures the CPU time of one 10 ms frame (far end in,
// microphone through) for each stage alone and all together, on the echo
// scene's real speech. %core is that time over the frame's 10 ms.
func BenchmarkFrame(b *testing.B) {
	sc := newEchoScene(b, 0.090)
	stages := []struct {
		name string
		s    Settings
	}{
		{"aec", Settings{AEC: true}},
		{"ns", Settings{NS: true}},
		{"agc", Settings{AGC: true}},
		{"all", Defaults()},
	}
	for _, eng := range engines() {
		for _, st := range stages {
			b.Run(fmt.Sprintf("%v/%s", eng, st.name), func(b *testing.B) {
				p, err := New(WithEngine(eng), WithSettings(st.s))
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				frame := make([]int16, FrameSamples)
				b.ResetTimer()
				cpu := mediatest.StartCPU()
				for i := range b.N {
					k := i % len(sc.ref)
					p.ProcessRender(sc.ref[k])
					copy(frame, sc.mic[k*FrameSamples:])
					if err := p.ProcessCapture(frame); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
				b.StopTimer()
			})
		}
	}
}

// BenchmarkFigures runs the measured scenes of the tests for both engines
// and reports their figures (run it with -benchtime 1x): ERLE and
// convergence (every 0.5 s segment >= 25 dB from then on; for WebRTC also
// without priming the canceller), double talk, noise reduction, gain
// control.
func BenchmarkFigures(b *testing.B) {
	for _, eng := range engines() {
		b.Run(eng.String(), func(b *testing.B) {
			for range b.N {
				for _, delay := range []float64{0.040, 0.150} {
					sc := newEchoScene(b, delay)
					ms := int(delay * 1000)
					for _, c := range []struct {
						name     string
						s        Settings
						unprimed bool
					}{{"", Settings{AEC: true}, false}, {"defaults-", Defaults(), false}, {"unprimed-", Settings{AEC: true}, true}} {
						if c.unprimed && eng != EngineWebRTC {
							continue
						}
						primeCanceller = !c.unprimed
						p, err := New(WithEngine(eng), WithSettings(c.s))
						if err != nil {
							b.Fatal(err)
						}
						f := sc.measure(sc.run(b, p))
						p.Close()
						primeCanceller = true
						b.ReportMetric(f.ERLE, fmt.Sprintf("%sERLE-%dms-dB", c.name, ms))
						b.ReportMetric(f.ConvergedSec, fmt.Sprintf("%sconverged-%dms-s", c.name, ms))
						if c.name == "" {
							b.ReportMetric(f.ERLEEarly, fmt.Sprintf("ERLE-0.5-2s-%dms-dB", ms))
							b.ReportMetric(f.DTCorr, fmt.Sprintf("dt-corr-%dms", ms))
							b.ReportMetric(f.DTSegSNR, fmt.Sprintf("dt-segSNR-%dms-dB", ms))
							b.ReportMetric(f.DTNearLevelDB, fmt.Sprintf("dt-near-level-%dms-dB", ms))
						}
					}
				}
				for _, nc := range noiseCases {
					if nc.name == "brown" {
						continue
					}
					sc := newNSScene(b, nc.make(b, 10), 10)
					p, err := New(WithEngine(eng), WithSettings(Settings{NS: true}))
					if err != nil {
						b.Fatal(err)
					}
					reduction, speech, _ := sc.measure(b, p)
					p.Close()
					b.ReportMetric(reduction, "NS-"+nc.name+"-dB")
					b.ReportMetric(speech, "NS-"+nc.name+"-speech-dB")
				}
				for _, level := range []float64{-40, -6} {
					in := talk(b, "en-us", 4, 12, level)
					p, err := New(WithEngine(eng), WithSettings(Settings{AGC: true}))
					if err != nil {
						b.Fatal(err)
					}
					out, _ := process(b, p, in, in)
					p.Close()
					_, on := activity(in, 30)
					for i := range on[:400] {
						on[i] = false
					}
					b.ReportMetric(maskedDBFS(out, on), fmt.Sprintf("AGC%+.0f-out-dBFS", level))
				}
			}
		})
	}
}

// engines lists the engines built in (speex with -tags speex).
func engines() []Engine {
	if newSpeexEngine != nil {
		return []Engine{EngineWebRTC, EngineSpeex}
	}
	return []Engine{EngineWebRTC}
}
