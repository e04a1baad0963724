package audioproc

// #cgo pkg-config: webrtc-audio-processing
// #cgo CXXFLAGS: -std=c++11
// #include "webrtc_shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// webrtcEngine is the WebRTC AudioProcessing module (AEC in extended
// filter, told the delay the delay line leaves; NS at "very high";
// adaptive digital AGC with limiter).
type webrtcEngine struct {
	apm       *C.confab_apm
	near, far [FrameSamples]C.float
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
	// The module wants the target as a positive number of dB below full
	// scale, and it regulates peaks: aim them above the RMS target.
	peak := min(31, max(0, -s.TargetDBFS-agcPeakOverRMS))
	if rc := C.confab_apm_configure(e.apm, cbool(s.AEC), cbool(s.NS), cbool(s.AGC), C.int(peak)); rc != 0 {
		return fmt.Errorf("%w: webrtc configure: error %d", ErrEngine, int(rc))
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
