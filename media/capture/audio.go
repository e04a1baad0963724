package capture

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices"
	"github.com/pion/mediadevices/pkg/codec/opus"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
)

// DefaultVoiceDBov is the default voice-activity threshold: packets at
// -50 dBov or louder carry V=1 in their RFC 6464 audio level.
const DefaultVoiceDBov = 50

// MicLatency is the chunk length asked of microphones: how old, at
// most, a chunk is when the track reads it. An echo canceller adds it to
// the far end's delay.
const MicLatency = 20 * time.Millisecond

// ProcessingRate is the sample rate an AudioProcessor takes.
const ProcessingRate = 48000

// AudioProcessor is the audio processing stage between the microphone and
// the encoders: echo cancellation, noise suppression, gain control
// (*audioproc.Processor implements it). ProcessCapture gets mono samples
// at ProcessingRate, any number, and processes them in place; the track's
// reader goroutine alone calls it.
type AudioProcessor interface {
	ProcessCapture(pcm []int16) error
}

// meterFallPerSecond is how fast the UI level falls (in meter units, 0..1)
// once the sound stops; it rises at once.
const meterFallPerSecond = 2.5

// AudioTrack is a microphone as a webrtc.TrackLocal. Each Bind gets its own
// Opus encoder (mono, 20 ms frames) fed from the one device reader, and
// every RTP packet it writes carries the RFC 6464 audio level in the header
// extension id the PeerConnection negotiated for media.AudioLevelURI (none
// when it was not negotiated). Packets are built with pion's
// rtp.Packetizer and codecs.OpusPayloader.
//
// Mute with SetMuted: a muted track sends no packets at all (RTP
// timestamps keep advancing, so the stream resumes cleanly with the marker
// bit set) while the device and Level keep running, so the UI can show
// "you are talking while muted". Taking the track off the sender with
// ReplaceTrack(nil) works as well and can be undone with ReplaceTrack(t).
//
// While bound, the track reads (and drops) the sender's RTCP, which keeps
// pion's interceptors fed; do not also read it with RTPSender.ReadRTCP.
//
// All methods are safe for concurrent use.
type AudioTrack struct {
	base
	params   opus.Params
	voiceDB  uint8
	reader   audio.Reader   // the pump's alone
	proc     AudioProcessor // the pump's alone; nil: none
	procWarn bool           // the pump's alone: said why it is skipped
	muted    atomic.Bool
	meter    atomic.Uint64 // float64 bits of the smoothed meter level
	captured atomic.Uint64 // chunks read

	// Guarded by base.mu.
	bindings   bindingSet[*audioBinding]
	sampleRate int
}

// MicOption configures OpenMicrophone.
type MicOption func(*micConfig)

type micConfig struct {
	track   []TrackOption
	voiceDB uint8
	muted   bool
	proc    AudioProcessor
}

// WithMicTrack applies TrackOptions (id, stream id) to the microphone track.
func WithMicTrack(opts ...TrackOption) MicOption {
	return func(m *micConfig) { m.track = append(m.track, opts...) }
}

// WithVoiceThreshold sets the level, in -dBov (0..127), at or above which a
// packet's RFC 6464 V bit says "voice". Default DefaultVoiceDBov (-50 dBov).
func WithVoiceThreshold(dBov uint8) MicOption {
	return func(m *micConfig) { m.voiceDB = min(dBov, media.SilentDBov) }
}

// WithAudioProcessor runs every chunk through p before the level meter and
// the encoders. Chunks that are not mono at ProcessingRate pass
// unprocessed (the track says so once in the log).
func WithAudioProcessor(p AudioProcessor) MicOption {
	return func(m *micConfig) { m.proc = p }
}

// WithStartMuted opens the microphone muted.
func WithStartMuted() MicOption { return func(m *micConfig) { m.muted = true } }

// OpenMicrophone opens the microphone with id (from Devices), or the default
// one when id is "", preferring mono at 48 kHz. It returns when the first
// audio has arrived (or after 5 s without any).
func (c *Capture) OpenMicrophone(id string, opts ...MicOption) (*AudioTrack, error) {
	mc := micConfig{voiceDB: DefaultVoiceDBov}
	for _, o := range opts {
		o(&mc)
	}
	dev, err := c.findDevice(KindMicrophone, id)
	if err != nil {
		return nil, err
	}
	stream, err := mediadevices.GetUserMedia(mediadevices.MediaStreamConstraints{
		Audio: func(m *mediadevices.MediaTrackConstraints) {
			m.DeviceID = prop.StringExact(dev.ID)
			m.ChannelCount = prop.Int(1)
			m.SampleRate = prop.Int(48000)
			m.Latency = prop.Duration(MicLatency)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: microphone %q: %w", ErrOpen, dev.Label, err)
	}
	var md *mediadevices.AudioTrack
	for _, tr := range stream.GetTracks() {
		if a, ok := tr.(*mediadevices.AudioTrack); ok && md == nil {
			md = a
			continue
		}
		tr.Close()
	}
	if md == nil {
		return nil, fmt.Errorf("%w: microphone %q gave no audio track", ErrOpen, dev.Label)
	}
	t := &AudioTrack{
		params:     c.opus,
		voiceDB:    mc.voiceDB,
		reader:     md.NewReader(false),
		proc:       mc.proc,
		bindings:   newBindingSet[*audioBinding](),
		sampleRate: 48000,
	}
	t.init(c, dev, c.trackConfig("microphone", mc.track), webrtc.RTPCodecTypeAudio, md)
	t.muted.Store(mc.muted)
	first := make(chan struct{})
	go t.pump(first)
	select {
	case <-first:
	case <-t.done:
		err := t.Err()
		t.Close()
		return nil, fmt.Errorf("%w: microphone %q: %w", ErrOpen, dev.Label, err)
	case <-time.After(firstFrameTimeout):
		t.log.Warn("no audio yet; going on")
	}
	return t, nil
}

// chunk is one piece of microphone audio with its energy, shared read-only
// by all bindings.
type chunk struct {
	a     wave.Audio
	sumSq float64 // sum of squared samples, full scale = 1
	n     int     // samples summed (frames x channels)
}

// pump is the track's one device reader: it measures the level and hands
// each chunk to every binding's encoder.
func (t *AudioTrack) pump(first chan<- struct{}) {
	defer close(t.done)
	started := false
	for {
		select {
		case <-t.stop:
			return
		default:
		}
		a, release, err := t.reader.Read()
		if err != nil {
			t.fail(err)
			return
		}
		if a == nil {
			continue
		}
		t.captured.Add(1)
		if !started {
			started = true
			close(first)
		}
		if t.proc != nil {
			a = t.process(a)
		}
		c := measure(a)
		t.updateMeter(c, a.ChunkInfo())
		t.mu.Lock()
		if sr := a.ChunkInfo().SamplingRate; sr > 0 {
			t.sampleRate = sr
		}
		sinks := t.bindings.sinks
		t.mu.Unlock()
		for _, s := range sinks {
			s.offer(c)
		}
		if release != nil {
			release()
		}
	}
}

// process runs a chunk through the AudioProcessor into a new chunk (the
// reader's buffer is not ours to change). Chunks it cannot take pass as
// they are.
func (t *AudioTrack) process(a wave.Audio) wave.Audio {
	info := a.ChunkInfo()
	if info.Channels != 1 || info.SamplingRate != ProcessingRate {
		if !t.procWarn {
			t.procWarn = true
			t.log.Warn("microphone audio not processed (no echo cancellation): not mono at 48 kHz",
				"channels", info.Channels, "rate", info.SamplingRate)
		}
		return a
	}
	out := wave.NewInt16Interleaved(wave.ChunkInfo{Len: info.Len, Channels: 1, SamplingRate: info.SamplingRate})
	switch a := a.(type) {
	case *wave.Int16Interleaved:
		copy(out.Data, a.Data)
	case *wave.Float32Interleaved:
		for i, s := range a.Data[:info.Len] {
			out.Data[i] = int16(max(math.MinInt16, min(math.MaxInt16, math.Round(float64(s)*32768))))
		}
	default:
		for i := range info.Len {
			out.Data[i] = int16(wave.Int16SampleFormat.Convert(a.At(i, 0)).(wave.Int16Sample))
		}
	}
	if err := t.proc.ProcessCapture(out.Data); err != nil {
		if !t.procWarn {
			t.procWarn = true
			t.log.Warn("audio processing failed; sending the microphone as is", "err", err)
		}
		return a
	}
	return out
}

// measure sums the energy of a chunk.
func measure(a wave.Audio) chunk {
	c := chunk{a: a}
	switch a := a.(type) {
	case *wave.Int16Interleaved:
		for _, s := range a.Data {
			f := float64(s) / 32768
			c.sumSq += f * f
		}
		c.n = len(a.Data)
	case *wave.Float32Interleaved:
		for _, s := range a.Data {
			f := float64(s)
			c.sumSq += f * f
		}
		c.n = len(a.Data)
	default:
		info := a.ChunkInfo()
		for i := 0; i < info.Len; i++ {
			for ch := 0; ch < info.Channels; ch++ {
				f := float64(wave.Float32SampleFormat.Convert(a.At(i, ch)).(wave.Float32Sample))
				c.sumSq += f * f
			}
		}
		c.n = info.Len * info.Channels
	}
	return c
}

func (t *AudioTrack) updateMeter(c chunk, info wave.ChunkInfo) {
	if c.n == 0 {
		return
	}
	now := media.MeterLevel(math.Sqrt(c.sumSq / float64(c.n)))
	old := math.Float64frombits(t.meter.Load())
	if now < old && info.SamplingRate > 0 {
		dur := float64(info.Len) / float64(info.SamplingRate)
		now = max(now, old-meterFallPerSecond*dur)
	}
	t.meter.Store(math.Float64bits(now))
}

// Level returns the microphone level for a meter, 0..1 (linear in dB from
// -60 dBov to 0 dBov), rising at once and falling smoothly. It keeps
// running while muted.
func (t *AudioTrack) Level() float64 { return math.Float64frombits(t.meter.Load()) }

// SetMuted stops (true) or resumes (false) sending. See AudioTrack.
func (t *AudioTrack) SetMuted(muted bool) { t.muted.Store(muted) }

// Muted reports whether the track is muted.
func (t *AudioTrack) Muted() bool { return t.muted.Load() }

// PacketsSent returns how many RTP packets all bindings together have
// written.
func (t *AudioTrack) PacketsSent() uint64 { return t.sent.Load() }

// ChunksCaptured returns how many audio chunks the device has delivered.
func (t *AudioTrack) ChunksCaptured() uint64 { return t.captured.Load() }

// Bind implements webrtc.TrackLocal: it starts an Opus encoder for the
// sender of ctx. pion calls it; callers do not.
func (t *AudioTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecParams, ok := pickCodec(ctx.CodecParameters(), webrtc.MimeTypeOpus)
	if !ok {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: %s", ErrCodecNotNegotiated, webrtc.MimeTypeOpus)
	}
	var extID uint8
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == media.AudioLevelURI && e.ID > 0 && e.ID < 256 {
			extID = uint8(e.ID)
		}
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return webrtc.RTPCodecParameters{}, ErrClosed
	}
	rate := t.sampleRate
	t.mu.Unlock()

	b, err := newAudioBinding(t, ctx, codecParams, rate, extID)
	if err != nil {
		return webrtc.RTPCodecParameters{}, err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		b.shutdown()
		return webrtc.RTPCodecParameters{}, ErrClosed
	}
	old, replaced := t.bindings.put(ctx.ID(), b)
	b.started = true
	t.rtcp.attach(ctx, b)
	t.mu.Unlock()
	if replaced {
		old.shutdown()
	}
	go b.write(ctx.WriteStream())
	t.log.Debug("bound", "ssrc", ctx.SSRC(), "pt", codecParams.PayloadType, "audio-level-ext", extID)
	return codecParams, nil
}

// Unbind implements webrtc.TrackLocal: it stops the encoder of ctx's
// sender. pion calls it; callers do not.
func (t *AudioTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	t.mu.Lock()
	b, ok := t.bindings.remove(ctx.ID())
	t.rtcp.detach(ctx.ID())
	t.mu.Unlock()
	if ok {
		b.shutdown()
	}
	return nil
}

// Close stops all encoders and releases the microphone. It is idempotent.
func (t *AudioTrack) Close() error {
	return t.close(func() {
		t.mu.Lock()
		bs := t.bindings.takeAll()
		t.mu.Unlock()
		for _, b := range bs {
			b.shutdown()
		}
	})
}
