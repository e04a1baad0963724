package audioproc

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// SampleRate is the only rate the stage processes.
	SampleRate = 48000
	// FrameSamples is one 10 ms frame at SampleRate.
	FrameSamples = SampleRate / 100
	// DefaultTargetDBFS is the speech RMS level the AGC aims for.
	DefaultTargetDBFS = -20.0
)

// Engine names an implementation.
type Engine int

const (
	// EngineWebRTC is the WebRTC AudioProcessing module (the default).
	EngineWebRTC Engine = iota
	// EngineSpeex is speexdsp's echo canceller and preprocessor, built in
	// only with -tags speex (for comparison).
	EngineSpeex
)

func (e Engine) String() string {
	switch e {
	case EngineWebRTC:
		return "webrtc"
	case EngineSpeex:
		return "speex"
	}
	return fmt.Sprintf("Engine(%d)", int(e))
}

// Settings says which stages run. The zero value runs none; Defaults runs
// all three.
type Settings struct {
	AEC, NS, AGC bool
	// TargetDBFS is the AGC's speech RMS target, in dBFS (negative).
	TargetDBFS float64
}

// Defaults is what the app uses unless told otherwise: everything on.
func Defaults() Settings {
	return Settings{AEC: true, NS: true, AGC: true, TargetDBFS: DefaultTargetDBFS}
}

// engine is one implementation. Only the capture side calls it.
type engine interface {
	configure(Settings) error
	// process runs one frame: near (FrameSamples) in place, with far the
	// far-end reference of the same instant, as aligned as the app knows
	// (the delay line), and delayMS the delay still to report.
	process(near, far []int16, delayMS int) error
	close()
}

// newSpeexEngine is set when the speex engine is built in (-tags speex):
// it is for comparison only, and the app does without the dependency.
var newSpeexEngine func() (engine, error)

// Option configures New.
type Option func(*config)

type config struct {
	engine   Engine
	settings Settings
	margin   time.Duration
}

// WithEngine chooses the implementation. Default EngineWebRTC (EngineSpeex
// on Windows, where the WebRTC module is not built in).
func WithEngine(e Engine) Option { return func(c *config) { c.engine = e } }

// WithSettings sets which stages run at first. Default Defaults().
func WithSettings(s Settings) Option { return func(c *config) { c.settings = s } }

// DefaultMargin is how much of the known delay the delay line leaves to
// the engine, so that jitter in when the two sides run never puts the echo
// ahead of its reference (a canceller cannot cancel what it has not been
// given yet).
const DefaultMargin = 30 * time.Millisecond

// engineDelay is the echo delay the engine is told is left after the delay
// line (set_stream_delay_ms for WebRTC): the margin plus what the app
// cannot know (the sound card's hidden buffers, the room). WebRTC's
// extended filter covers 128 ms from about there. Measured on the echo
// scene (echo_test.go) with echo delays of 20-170 ms the delay line does
// not know: 40 ms cancels all of them (ERLE 28-36 dB); 0 (which the
// module raises to its minimum, 20 ms) cancelled 150 ms 5 dB worse and
// 170 ms not at all (7 dB), and 60 ms lost 20 ms (26 dB, converged at
// 5.5 s).
const engineDelay = 40 * time.Millisecond

// maxReference caps the far-end delay line: a capture side that stops
// (muted track, closed microphone) must not make it grow for ever.
const maxReference = SampleRate // 1 s

// Processor is one echo canceller, noise suppressor and gain control.
//
// ProcessRender is called by the playout side (the audio device's
// callback), ProcessCapture by the capture side (one goroutine, the
// microphone's reader); the setters from anywhere. Close may be called
// from any goroutine and is idempotent.
type Processor struct {
	kind   Engine
	margin time.Duration

	wanted       atomic.Pointer[Settings]
	inEffect     atomic.Pointer[Settings] // what the capture side last applied
	renderDelay  atomic.Int64             // time.Duration
	captureDelay atomic.Int64             // time.Duration
	frames       atomic.Uint64
	processNanos atomic.Int64
	underruns    atomic.Uint64
	realignments atomic.Uint64

	refMu   sync.Mutex
	ref     []int16 // far-end delay line, oldest first
	started bool    // a capture frame has taken its reference

	// Capture side only (and Close, under capMu).
	capMu   sync.Mutex
	eng     engine
	applied Settings
	pending []int16 // input not yet a whole frame
	out     []int16 // processed, not yet handed back
	farBuf  [FrameSamples]int16
	closed  bool
}

// New starts a processor. It fails with ErrEngine when the library cannot
// start.
func New(opts ...Option) (*Processor, error) {
	cfg := config{engine: defaultEngine, settings: Defaults(), margin: DefaultMargin}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.settings.TargetDBFS == 0 {
		cfg.settings.TargetDBFS = DefaultTargetDBFS
	}
	if cfg.settings.TargetDBFS > 0 || cfg.settings.TargetDBFS < -60 {
		return nil, fmt.Errorf("%w: AGC target %.1f dBFS", ErrConfig, cfg.settings.TargetDBFS)
	}
	var (
		eng engine
		err error
	)
	switch cfg.engine {
	case EngineWebRTC:
		eng, err = newWebRTC()
	case EngineSpeex:
		if newSpeexEngine == nil {
			return nil, fmt.Errorf("%w: speex engine not built in (build with -tags speex)", ErrConfig)
		}
		eng, err = newSpeexEngine()
	default:
		return nil, fmt.Errorf("%w: engine %v", ErrConfig, cfg.engine)
	}
	if err != nil {
		return nil, err
	}
	if err := eng.configure(cfg.settings); err != nil {
		eng.close()
		return nil, err
	}
	p := &Processor{kind: cfg.engine, margin: cfg.margin, eng: eng, applied: cfg.settings}
	s := cfg.settings
	p.wanted.Store(&s)
	p.inEffect.Store(&s)
	return p, nil
}

// Engine returns the implementation in use.
func (p *Processor) Engine() Engine { return p.kind }

// Settings returns the stages asked for.
func (p *Processor) Settings() Settings { return *p.wanted.Load() }

// SetSettings changes the stages; the capture side applies it before its
// next frame.
func (p *Processor) SetSettings(s Settings) {
	if s.TargetDBFS == 0 || s.TargetDBFS > 0 || s.TargetDBFS < -60 {
		s.TargetDBFS = p.Settings().TargetDBFS
	}
	p.wanted.Store(&s)
}

// SetAEC turns echo cancellation on or off (off suits headsets).
func (p *Processor) SetAEC(on bool) { p.update(func(s *Settings) { s.AEC = on }) }

// SetNS turns noise suppression on or off.
func (p *Processor) SetNS(on bool) { p.update(func(s *Settings) { s.NS = on }) }

// SetAGC turns automatic gain control on or off.
func (p *Processor) SetAGC(on bool) { p.update(func(s *Settings) { s.AGC = on }) }

func (p *Processor) update(f func(*Settings)) {
	for {
		old := p.wanted.Load()
		s := *old
		f(&s)
		if p.wanted.CompareAndSwap(old, &s) {
			return
		}
	}
}

// SetRenderDelay tells the processor how long audio handed to
// ProcessRender takes to reach the speaker (the output's buffer).
func (p *Processor) SetRenderDelay(d time.Duration) { p.renderDelay.Store(int64(max(0, d))) }

// SetCaptureDelay tells the processor how old a chunk is when it reaches
// ProcessCapture (the input's buffer and chunk length).
func (p *Processor) SetCaptureDelay(d time.Duration) { p.captureDelay.Store(int64(max(0, d))) }

// hold is the delay line's length in samples: the known delay less the
// margin.
func (p *Processor) hold() int {
	d := time.Duration(p.renderDelay.Load()+p.captureDelay.Load()) - p.margin
	if d <= 0 {
		return 0
	}
	return int(d * SampleRate / time.Second)
}

// ProcessRender takes far-end audio as it goes to the speaker (mono,
// 48 kHz, any length). It only copies: safe for an audio callback.
func (p *Processor) ProcessRender(pcm []int16) {
	p.refMu.Lock()
	p.ref = append(p.ref, pcm...)
	if over := len(p.ref) - maxReference; over > 0 {
		p.ref = append(p.ref[:0], p.ref[over:]...)
	}
	p.refMu.Unlock()
}

// slack is how far the delay line may stray from its length before it is
// realigned (the two sides run in bursts of a device period or a capture
// chunk, so it wobbles by that much).
const slack = 4 * FrameSamples

// nextReference pops the far-end frame that goes with the next capture
// frame into p.farBuf. Before the pop the line should hold its length
// (hold) plus that frame; when it strays by more than slack (at the
// start, after a stall, or as the two clocks drift) it is padded with
// silence in front or its oldest audio is dropped.
func (p *Processor) nextReference() {
	want := p.hold() + FrameSamples
	p.refMu.Lock()
	defer p.refMu.Unlock()
	n := len(p.ref)
	switch {
	case n < FrameSamples || n < want-slack || (!p.started && n < want):
		pad := want - n
		p.ref = append(p.ref, make([]int16, pad)...)
		copy(p.ref[pad:], p.ref[:n])
		clear(p.ref[:pad])
		if p.started {
			p.underruns.Add(1)
		}
	case n > want+slack:
		p.ref = append(p.ref[:0], p.ref[n-want:]...)
		p.realignments.Add(1)
	}
	p.started = true
	copy(p.farBuf[:], p.ref[:FrameSamples])
	p.ref = append(p.ref[:0], p.ref[FrameSamples:]...)
}

// ProcessCapture runs microphone audio (mono, 48 kHz, any length) through
// the stages in place. Whole 10 ms frames go through at once; when chunks
// are not a multiple of 10 ms, the output starts with up to 10 ms of
// silence once and stays that much late. Only the capture goroutine calls
// it.
func (p *Processor) ProcessCapture(pcm []int16) error {
	p.capMu.Lock()
	defer p.capMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if s := *p.wanted.Load(); s != p.applied {
		if err := p.eng.configure(s); err != nil {
			return err
		}
		p.applied = s
		p.inEffect.Store(&s)
	}
	p.pending = append(p.pending, pcm...)
	var err error
	for len(p.pending) >= FrameSamples {
		frame := p.pending[:FrameSamples]
		p.nextReference()
		if p.applied.AEC || p.applied.NS || p.applied.AGC {
			start := time.Now()
			if e := p.eng.process(frame, p.farBuf[:], int(engineDelay/time.Millisecond)); e != nil && err == nil {
				err = e
			}
			p.processNanos.Add(int64(time.Since(start)))
		}
		p.frames.Add(1)
		p.out = append(p.out, frame...)
		p.pending = append(p.pending[:0], p.pending[FrameSamples:]...)
	}
	if short := len(pcm) - len(p.out); short > 0 {
		p.out = append(make([]int16, short), p.out...)
	}
	copy(pcm, p.out[:len(pcm)])
	p.out = append(p.out[:0], p.out[len(pcm):]...)
	return err
}

// Stats are counters for diagnostics and benchmarks.
type Stats struct {
	Frames uint64 // capture frames processed
	// ProcessTime is the time spent in the engine, all frames together.
	ProcessTime time.Duration
	// Underruns counts capture frames that found the far-end reference
	// short and padded it with silence; Realignments how often it ran
	// long and was cut.
	Underruns, Realignments uint64
	// InEffect are the stages the capture side has applied (a change made
	// with SetSettings shows here once the next chunk went through).
	InEffect Settings
}

// Stats returns the counters.
func (p *Processor) Stats() Stats {
	return Stats{Frames: p.frames.Load(), ProcessTime: time.Duration(p.processNanos.Load()),
		Underruns: p.underruns.Load(), Realignments: p.realignments.Load(), InEffect: *p.inEffect.Load()}
}

// Close frees the engine. It is idempotent; ProcessCapture fails with
// ErrClosed afterwards and ProcessRender does nothing useful.
func (p *Processor) Close() error {
	p.capMu.Lock()
	defer p.capMu.Unlock()
	if !p.closed {
		p.closed = true
		p.eng.close()
	}
	return nil
}
