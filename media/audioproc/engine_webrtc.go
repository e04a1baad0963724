//go:build !windows

package audioproc

// #cgo pkg-config: webrtc-audio-processing
// #cgo CXXFLAGS: -std=c++11
// #include "webrtc_shim.h"
import "C"

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
	"unsafe"
)

// webrtcEngine is the WebRTC AudioProcessing module (AEC in extended
// filter, told the delay the delay line leaves; NS at "very high";
// adaptive digital AGC with limiter).
type webrtcEngine struct {
	apm       *C.confab_apm
	near, far [FrameSamples]C.float
	applied   Settings // what the module runs now
}

// The canceller's modes, chosen by measurement (echo_test.go, echo
// delays of 40, 90 and 150 ms the app does not know): the extended filter
// (128 ms, placed by engineDelay) cancels all three (36 dB) where the
// default 48 ms filter fails past about 60 ms (6 dB at 90 ms);
// delay-agnostic mode changed nothing in the first 8 s and starts
// correcting only after 15 s, then cost 13 dB at 150 ms, so the delay
// line's alignment plus the long filter it is. The mobile canceller
// (AECM) refuses 48 kHz (kBadSampleRateError): it would take running the
// whole stage at 16 kHz, without the band above 8 kHz.
var webrtcDelayAgnostic, webrtcExtended = false, true

func newWebRTC() (engine, error) {
	apm := C.confab_apm_new(cbool(webrtcDelayAgnostic), cbool(webrtcExtended))
	if apm == nil {
		return nil, fmt.Errorf("%w: webrtc AudioProcessing::Create", ErrEngine)
	}
	return &webrtcEngine{apm: apm}, nil
}

// agcPeakOverRMS is how far above the RMS target the module's peak target
// is set (measured: TestGainControl).
const agcPeakOverRMS = 14

func (e *webrtcEngine) configure(s Settings) error {
	if s.AEC && !e.applied.AEC && primeCanceller {
		if err := e.prime(); err != nil {
			return err
		}
	}
	return e.apply(s)
}

func (e *webrtcEngine) apply(s Settings) error {
	// The module wants the target as a positive number of dB below full
	// scale, and it regulates peaks: aim them above the RMS target.
	peak := min(31, max(0, -s.TargetDBFS-agcPeakOverRMS))
	if rc := C.confab_apm_configure(e.apm, cbool(s.AEC), cbool(s.NS), cbool(s.AGC), C.int(peak)); rc != 0 {
		return fmt.Errorf("%w: webrtc configure: error %d", ErrEngine, int(rc))
	}
	e.applied = s
	return nil
}

// The canceller's start, measured (echo_test.go, the far end talking
// from the first frame, echo delay 40 ms, canceller alone): its echo path
// estimate has converged by 0.5 s, yet what came out stayed at -58 dBFS
// until 2.5 s, whatever the room's noise (-65 dBFS or none at all), and
// then fell at once to the room's level. That is its comfort noise: where
// it suppresses echo it adds noise at the level it estimates the room at,
// a running minimum of the microphone's power per band; the estimate
// starts from a fixed guess of the library's (a room at about -45 dBFS)
// and comes down only when the microphone goes quieter than it, in a
// pause of the echo, which the far end's first sentences need not have
// (-58 against -38 dBFS of echo there: 19 dB). It is not the delay: the
// output was -58 to -59 dBFS until 2.5 s at 90 and 150 ms too (where the
// echo was louder, so the ERLE less bad); and the library has no switch
// for it (its comfort noise setting is the mobile canceller's).
//
// So a canceller that is turned on first hears primeDuration of a quiet
// room: white noise at primeDBFS, the far end silent (what comes out is
// dropped). Its estimate starts there and its own rule still lowers it at
// the first pause, as it did from its guess: with the room at -65 dBFS
// its output from 3 s on is the same as unprimed (-70.7 dBFS, echo or
// not). Measured from the first frame (every 0.5 s segment from then on
// at >= 25 dB ERLE): converged at 0.5 s at 40, 90 and 150 ms, was 2.5,
// 2.5 and 0.5 s. A room louder than primeDBFS is not matched at first
// (the estimate rises 0.2 dB/s): a -45 dBFS room came out 9 dB quieter
// while the echo was being suppressed than between (1.4 dB unprimed);
// noise suppression, on by default, takes such a room down anyway.
// Priming also gets the library's start-up out of the way (its first
// 60 ms go out unprocessed while it checks that the reported delay is
// steady).
const (
	primeDBFS     = -60
	primeDuration = 300 * time.Millisecond // the estimate starts after 200 ms
)

// primeCanceller is off only in tests that show the start without it.
var primeCanceller = true

// prime runs the canceller over a quiet room; see primeDBFS. Noise
// suppression and gain control stay as they are.
func (e *webrtcEngine) prime() error {
	s := e.applied
	s.AEC = true
	if err := e.apply(s); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	amp := 32768 * math.Pow(10, primeDBFS/20.0) * math.Sqrt(3) // uniform: RMS amp/sqrt(3)
	near, far := make([]int16, FrameSamples), make([]int16, FrameSamples)
	for range int(primeDuration / (10 * time.Millisecond)) {
		for i := range near {
			near[i] = int16(math.Round(amp * (2*r.Float64() - 1)))
		}
		if err := e.process(near, far, int(engineDelay/time.Millisecond)); err != nil {
			return err
		}
	}
	return nil
}

func (e *webrtcEngine) process(near, far []int16, delayMS int) error {
	for i := range FrameSamples {
		e.near[i] = C.float(float32(near[i]) / 32768)
		e.far[i] = C.float(float32(far[i]) / 32768)
	}
	if rc := C.confab_apm_render(e.apm, (*C.float)(unsafe.Pointer(&e.far[0]))); rc != 0 {
		return fmt.Errorf("%w: webrtc render: error %d", ErrEngine, int(rc))
	}
	if rc := C.confab_apm_capture(e.apm, (*C.float)(unsafe.Pointer(&e.near[0])), C.int(delayMS)); rc != 0 {
		return fmt.Errorf("%w: webrtc capture: error %d", ErrEngine, int(rc))
	}
	for i := range FrameSamples {
		near[i] = toInt16(float32(e.near[i]) * 32768)
	}
	return nil
}

func (e *webrtcEngine) close() {
	C.confab_apm_free(e.apm)
	e.apm = nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func toInt16(f float32) int16 {
	return int16(max(-32768, min(32767, f)))
}
