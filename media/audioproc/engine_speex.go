//go:build speex || windows

package audioproc

// #cgo pkg-config: speexdsp
// #include <speex/speex_echo.h>
// #include <speex/speex_preprocess.h>
//
// static int confab_spx_ctl_int(SpeexPreprocessState *st, int req, int v) {
//   return speex_preprocess_ctl(st, req, &v);
// }
// static int confab_spx_ctl_float(SpeexPreprocessState *st, int req, float v) {
//   return speex_preprocess_ctl(st, req, &v);
// }
// static int confab_spx_set_rate(SpeexEchoState *st, int rate) {
//   return speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
// }
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

func init() { newSpeexEngine = newSpeex }

// speexTail is the echo canceller's filter length: long enough for the
// echo delays the app does not know (up to 150 ms) plus a room's tail.
const speexTail = SampleRate * 250 / 1000

// speexEngine is speexdsp: the MDF echo canceller, then the preprocessor
// (noise suppression, AGC, and residual echo suppression fed by the
// canceller).
type speexEngine struct {
	echo *C.SpeexEchoState
	pre  *C.SpeexPreprocessState
	aec  bool
	out  [FrameSamples]C.spx_int16_t
	in   [FrameSamples]C.spx_int16_t
	ref  [FrameSamples]C.spx_int16_t
}

func newSpeex() (engine, error) {
	e := &speexEngine{
		echo: C.speex_echo_state_init(FrameSamples, speexTail),
		pre:  C.speex_preprocess_state_init(FrameSamples, SampleRate),
	}
	if e.echo == nil || e.pre == nil {
		e.close()
		return nil, fmt.Errorf("%w: speexdsp init", ErrEngine)
	}
	C.confab_spx_set_rate(e.echo, SampleRate)
	return e, nil
}

func (e *speexEngine) configure(s Settings) error {
	e.aec = s.AEC
	C.confab_spx_ctl_int(e.pre, C.SPEEX_PREPROCESS_SET_DENOISE, C.int(cbool(s.NS)))
	C.confab_spx_ctl_int(e.pre, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, -30)
	C.confab_spx_ctl_int(e.pre, C.SPEEX_PREPROCESS_SET_AGC, C.int(cbool(s.AGC)))
	// The AGC level is an RMS in 16-bit units.
	C.confab_spx_ctl_float(e.pre, C.SPEEX_PREPROCESS_SET_AGC_LEVEL, C.float(32768*math.Pow(10, s.TargetDBFS/20)))
	C.confab_spx_ctl_int(e.pre, C.SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, 40)
	if s.AEC {
		C.speex_preprocess_ctl(e.pre, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(e.echo))
	} else {
		C.speex_preprocess_ctl(e.pre, C.SPEEX_PREPROCESS_SET_ECHO_STATE, nil)
		C.speex_echo_state_reset(e.echo)
	}
	return nil
}

func (e *speexEngine) process(near, far []int16, _ int) error {
	for i := range FrameSamples {
		e.in[i] = C.spx_int16_t(near[i])
		e.ref[i] = C.spx_int16_t(far[i])
	}
	buf := &e.in
	if e.aec {
		C.speex_echo_cancellation(e.echo, &e.in[0], &e.ref[0], &e.out[0])
		buf = &e.out
	}
	C.speex_preprocess_run(e.pre, &buf[0])
	for i := range FrameSamples {
		near[i] = int16(buf[i])
	}
	return nil
}

func (e *speexEngine) close() {
	if e.echo != nil {
		C.speex_echo_state_destroy(e.echo)
		e.echo = nil
	}
	if e.pre != nil {
		C.speex_preprocess_state_destroy(e.pre)
		e.pre = nil
	}
}
