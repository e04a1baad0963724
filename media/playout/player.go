package playout

// #include <stdlib.h>
import "C"

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// Sentinel errors of package playout; match them with errors.Is.
var (
	// ErrNoAudio means no audio backend could be initialised at all.
	ErrNoAudio = errors.New("playout: no audio backend")
	// ErrBadDeviceID means a device id is not one Devices returned.
	ErrBadDeviceID = errors.New("playout: bad device id")
	// ErrClosed means the player has been closed.
	ErrClosed = errors.New("playout: closed")
)

// periodMillis is the device period: the mixer runs every 10 ms.
const periodMillis = 10

// periods is how many periods the device buffers (miniaudio's default,
// set explicitly so that Latency knows it).
const periods = 3

// nullBackend is miniaudio's ma_backend_null. malgo v0.11.24's BackendNull
// (13) is off by one: miniaudio 0.11 put ma_backend_custom before
// ma_backend_null, so 13 asks for a custom backend and fails with "No
// backend".
const nullBackend = malgo.BackendNull + 1

// Device is one playback device for a picker.
type Device struct {
	ID      string // pass to WithDevice
	Name    string
	Default bool
}

// Devices lists the playback devices of the system's audio backend. It
// returns an error wrapping ErrNoAudio when there is no backend; an empty
// list means a backend without devices. Neither stops a Player from
// working.
func Devices() ([]Device, error) {
	ctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoAudio, err)
	}
	defer func() {
		_ = ctx.Uninit()
		ctx.Free()
	}()
	infos, err := ctx.Devices(malgo.Playback)
	if err != nil {
		return nil, fmt.Errorf("%w: list devices: %w", ErrNoAudio, err)
	}
	out := make([]Device, 0, len(infos))
	for _, in := range infos {
		out = append(out, Device{ID: in.ID.String(), Name: in.Name(), Default: in.IsDefault != 0})
	}
	return out, nil
}

// Option configures a Player.
type Option func(*config)

type config struct {
	deviceID string
	noDevice bool
	log      *slog.Logger
}

// WithDevice plays on the device with id (from Devices) instead of the
// default one.
func WithDevice(id string) Option { return func(c *config) { c.deviceID = id } }

// WithoutSpeaker skips the sound card and plays into the null backend
// straight away, for the bot and tests.
func WithoutSpeaker() Option { return func(c *config) { c.noDevice = true } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// Player pulls mixed audio from its Mixer at the device's pace and plays
// it. Mixer, Speaker, Output, Latency, UseDevice and Close are safe from
// any goroutine.
type Player struct {
	*Mixer
	log *slog.Logger

	// switchMu serializes UseDevice and Close, which replace the device;
	// mu guards the fields readers see. Neither is held by the audio
	// callback.
	switchMu sync.Mutex
	mu       sync.Mutex
	ctx      *malgo.AllocatedContext
	dev      *malgo.Device
	devID    *malgo.DeviceID // what dev was opened with; nil for the default
	speaker  bool
	output   string
	latency  time.Duration
	closed   bool

	// The pure-Go sink, used only when even the null backend fails.
	stop chan struct{}
	done chan struct{}

	pace pacer // audio callback only

	closeOnce sync.Once
}

// New opens the speaker (the default one, or WithDevice's) and starts
// playing the Mixer's output. If that fails, or WithoutSpeaker is given,
// it plays into miniaudio's null backend, and failing that into a Go timer
// that consumes audio in real time; Speaker then reports false. It fails
// only with ErrBadDeviceID.
func New(opts ...Option) (*Player, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	id, err := parseDeviceID(cfg.deviceID)
	if err != nil {
		return nil, err
	}
	p := &Player{Mixer: NewMixer(), log: cfg.log}
	if !cfg.noDevice {
		err := p.open(nil, id)
		if err == nil {
			p.speaker = true
			return p, nil
		}
		p.log.Warn("no speaker; playing into the null backend", "err", err)
	}
	err = p.open([]malgo.Backend{nullBackend}, nil)
	if err == nil {
		p.output = "none (null backend)"
		return p, nil
	}
	p.log.Warn("null audio backend failed; using a timer", "err", err)
	p.output = "none (timer)"
	p.latency = periodMillis * time.Millisecond
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.tick()
	return p, nil
}

// parseDeviceID turns an id from Devices into miniaudio's; "" is the
// default device (nil).
func parseDeviceID(s string) (*malgo.DeviceID, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) > len(malgo.DeviceID{}) {
		return nil, fmt.Errorf("%w: %q", ErrBadDeviceID, s)
	}
	id := new(malgo.DeviceID)
	copy(id[:], raw)
	return id, nil
}

// UseDevice moves playback to the device with id (from Devices; "" for
// the default) while audio keeps flowing from the Mixer: the old device
// stops, the new one starts. If the new device cannot be opened, playback
// goes back to the one it was on (or, failing that, to the null backend)
// and the error says why. It fails with ErrBadDeviceID for an id Devices
// could not have returned and ErrClosed after Close.
func (p *Player) UseDevice(id string) error {
	did, err := parseDeviceID(id)
	if err != nil {
		return err
	}
	p.switchMu.Lock()
	defer p.switchMu.Unlock()
	p.mu.Lock()
	closed, timer := p.closed, p.stop != nil
	p.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if timer {
		return fmt.Errorf("%w: no audio backend to switch on", ErrNoAudio)
	}
	prev, wasSpeaker := p.currentID(), p.Speaker()
	p.stopDevice() // joins the old device's thread: one callback at a time
	openErr := p.open(nil, did)
	if openErr == nil {
		p.setSpeaker(true, "")
		return nil
	}
	openErr = fmt.Errorf("%w: %w", ErrNoAudio, openErr)
	if wasSpeaker && p.open(nil, prev) == nil {
		p.setSpeaker(true, "")
		return openErr
	}
	if err := p.open([]malgo.Backend{nullBackend}, nil); err != nil {
		p.log.Warn("no audio output left", "err", err)
	}
	p.setSpeaker(false, "none (null backend)")
	return openErr
}

// setSpeaker records whether a real device plays, and the output's name
// when given.
func (p *Player) setSpeaker(on bool, output string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.speaker = on
	if output != "" {
		p.output = output
	}
}

// currentID is the id of the device played on, nil for the default.
func (p *Player) currentID() *malgo.DeviceID {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dev == nil || !p.speaker {
		return nil
	}
	return p.devID
}

// stopDevice stops and frees the device and its context, if any.
func (p *Player) stopDevice() {
	p.mu.Lock()
	dev, ctx := p.dev, p.ctx
	p.dev, p.ctx = nil, nil
	p.mu.Unlock()
	if dev != nil {
		dev.Uninit() // stops the device and joins its thread
	}
	if ctx != nil {
		_ = ctx.Uninit()
		ctx.Free()
	}
}

// open initialises a context on backends (nil: the platform's list) and
// starts a mono S16 48 kHz playback device on it.
func (p *Player) open(backends []malgo.Backend, id *malgo.DeviceID) error {
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, func(msg string) {
		p.log.Debug("miniaudio", "msg", msg)
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoAudio, err)
	}
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatS16
	cfg.Playback.Channels = 1
	cfg.SampleRate = SampleRate
	cfg.PeriodSizeInMilliseconds = periodMillis
	cfg.Periods = periods
	var cid unsafe.Pointer
	if id != nil {
		cid = id.Pointer() // C memory: miniaudio copies the id during init
		cfg.Playback.DeviceID = cid
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: p.fill})
	if cid != nil {
		C.free(cid)
	}
	if err != nil {
		_ = ctx.Uninit()
		ctx.Free()
		return fmt.Errorf("init device: %w", err)
	}
	if err := dev.Start(); err != nil {
		dev.Uninit()
		_ = ctx.Uninit()
		ctx.Free()
		return fmt.Errorf("start device: %w", err)
	}
	name := deviceName(ctx, id)
	p.mu.Lock()
	p.ctx, p.dev, p.devID = ctx, dev, id
	p.latency = periods * periodMillis * time.Millisecond
	p.output = name
	p.mu.Unlock()
	return nil
}

// deviceName finds the name of the device played on.
func deviceName(ctx *malgo.AllocatedContext, id *malgo.DeviceID) string {
	infos, err := ctx.Devices(malgo.Playback)
	if err != nil {
		return "default"
	}
	for _, in := range infos {
		if (id != nil && in.ID == *id) || (id == nil && in.IsDefault != 0) {
			return in.Name()
		}
	}
	return "default"
}

// fill is miniaudio's data callback: out holds frames mono S16 samples.
func (p *Player) fill(out, _ []byte, frames uint32) {
	n := min(int(frames), len(out)/2)
	if n == 0 {
		return
	}
	p.Mix(unsafe.Slice((*int16)(unsafe.Pointer(&out[0])), n))
	p.pace.consumed(n, time.Now())
}

// pacer holds back an output that takes audio faster than it plays: ALSA's
// "null" device (what a machine without a sound card offers) discards
// samples as fast as they are made, which would spin the mixer on a core
// and drain the jitter buffers. A real device never runs ahead, so it is
// never slowed.
type pacer struct {
	start   time.Time
	samples int64
}

// paceSlack is how far ahead of real time an output may run before the
// callback waits.
const paceSlack = 100 * time.Millisecond

// consumed records n samples taken at now and sleeps while the output is
// more than paceSlack ahead of the clock. Only the audio callback calls it.
func (pc *pacer) consumed(n int, now time.Time) {
	if pc.start.IsZero() {
		pc.start = now
	}
	pc.samples += int64(n)
	played := time.Duration(pc.samples) * time.Second / SampleRate
	if ahead := played - now.Sub(pc.start); ahead > paceSlack {
		time.Sleep(ahead - paceSlack/2)
	} else if ahead < -time.Second {
		// The output fell far behind (a stall): restart the reckoning
		// rather than let it run fast to catch up.
		pc.start, pc.samples = now, 0
	}
}

// tick is the last-resort sink: it mixes one period per period.
func (p *Player) tick() {
	defer close(p.done)
	buf := make([]int16, SampleRate*periodMillis/1000)
	t := time.NewTicker(periodMillis * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.Mix(buf)
		}
	}
}

// Latency is how long mixed audio waits before it is played, as far as
// the player knows: the device's buffer. An echo canceller delays its
// far-end reference by this much (see Mixer.SetReference).
func (p *Player) Latency() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latency
}

// Speaker reports whether audio reaches a real output device.
func (p *Player) Speaker() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speaker
}

// Output names what is played on: the device name, or "none (...)" when
// audio goes nowhere.
func (p *Player) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output
}

// Close stops the device (or the timer) and frees miniaudio. It is
// idempotent; no callback runs after it returns.
func (p *Player) Close() error {
	p.closeOnce.Do(func() {
		p.switchMu.Lock()
		defer p.switchMu.Unlock()
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.stopDevice()
		if p.stop != nil {
			close(p.stop)
			<-p.done
		}
	})
	return nil
}
