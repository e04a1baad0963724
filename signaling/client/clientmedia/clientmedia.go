// Package clientmedia connects a client session to the local media
// pipeline: it opens devices through media/capture, decodes remote tracks
// with media/decode and plays them through media/playout. It implements
// client.LocalMedia, client.Decoders and client.AudioSink.
//
// The mains register the mediadevices drivers (camera, microphone, screen,
// or the videotest and audiotest drivers); this package imports none.
package clientmedia

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/audioproc"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/decode"
	"github.com/confab/confab/media/playout"
	"github.com/confab/confab/signaling/client"
)

// ErrNoTestDevice means test devices were asked for and none is registered.
var ErrNoTestDevice = errors.New("clientmedia: no test device registered")

// Options chooses devices and settings.
type Options struct {
	// CameraID, MicID and SpeakerID choose devices ("" = default).
	CameraID, MicID, SpeakerID string
	// Fake uses the test pattern camera and test tone microphone (the
	// videotest and audiotest drivers must be registered); TestCamera only
	// the test pattern.
	Fake, TestCamera bool
	// NoSpeaker plays into a silent real-time sink instead of a device.
	NoSpeaker bool
	// NoEchoCancel, NoNoiseSuppression and NoGainControl turn off a stage
	// of the microphone's audio processing (all on by default; see
	// media/audioproc). SetEchoCancel and friends change them in a call.
	NoEchoCancel, NoNoiseSuppression, NoGainControl bool
	// PreviewAtOnce starts the camera's preview as soon as it opens, so
	// the own video shows the moment the call screen does (the app);
	// otherwise it starts when first looked at (a bot never pays for it).
	PreviewAtOnce bool
	// Capture options (size, frame rate, bit rates).
	Capture []capture.Option
	Logger  *slog.Logger
}

// Media is the local side of a call. Its methods are safe for concurrent use.
type Media struct {
	opts   Options
	cap    *capture.Capture
	player *playout.Player
	proc   *audioproc.Processor // nil when the stage could not start

	mu        sync.Mutex
	camera    *capture.VideoTrack // the camera and screen opened last,
	screen    *capture.VideoTrack // for SetSendBudget
	cameraID  string
	micID     string
	screenID  string
	speakerOn bool
}

// New prepares capture and opens the speaker (or its silent stand-in).
func New(opts Options) (*Media, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	capOpts := append([]capture.Option{capture.WithLogger(opts.Logger)}, opts.Capture...)
	c, err := capture.New(capOpts...)
	if err != nil {
		return nil, err
	}
	m := &Media{opts: opts, cap: c, cameraID: opts.CameraID, micID: opts.MicID}
	if opts.Fake || opts.TestCamera {
		if m.cameraID, err = TestDevice(c, capture.KindCamera); err != nil {
			return nil, err
		}
	}
	if opts.Fake {
		if m.micID, err = TestDevice(c, capture.KindMicrophone); err != nil {
			return nil, err
		}
	}
	popts := []playout.Option{playout.WithLogger(opts.Logger)}
	if opts.NoSpeaker {
		popts = append(popts, playout.WithoutSpeaker())
	} else if opts.SpeakerID != "" {
		popts = append(popts, playout.WithDevice(opts.SpeakerID))
	}
	if m.player, err = playout.New(popts...); err != nil {
		return nil, err
	}
	m.startAudioProcessing()
	return m, nil
}

// startAudioProcessing puts the echo canceller, noise suppression and gain
// control between the microphone and the encoder, with what the speaker
// plays as the canceller's far end. Without it the call goes on with the
// raw microphone.
func (m *Media) startAudioProcessing() {
	s := audioproc.Defaults()
	s.AEC, s.NS, s.AGC = !m.opts.NoEchoCancel, !m.opts.NoNoiseSuppression, !m.opts.NoGainControl
	p, err := audioproc.New(audioproc.WithSettings(s))
	if err != nil {
		m.opts.Logger.Warn("no audio processing (echo cancellation, noise suppression, gain control)", "err", err)
		return
	}
	p.SetRenderDelay(m.player.Latency())
	p.SetCaptureDelay(capture.MicLatency)
	m.player.Mixer.SetReference(p)
	m.proc = p
}

// AudioProcessing returns which stages of the microphone's processing are
// on (all false when the stage could not start).
func (m *Media) AudioProcessing() audioproc.Settings {
	if m.proc == nil {
		return audioproc.Settings{}
	}
	return m.proc.Settings()
}

// AudioProcessingStats returns the stage's counters (zero without it).
func (m *Media) AudioProcessingStats() audioproc.Stats {
	if m.proc == nil {
		return audioproc.Stats{}
	}
	return m.proc.Stats()
}

// SetEchoCancel turns echo cancellation on or off, at once, in a call or
// not. People with headsets may turn it off.
func (m *Media) SetEchoCancel(on bool) {
	if m.proc != nil {
		m.proc.SetAEC(on)
	}
}

// SetNoiseSuppression turns noise suppression on or off, at once.
func (m *Media) SetNoiseSuppression(on bool) {
	if m.proc != nil {
		m.proc.SetNS(on)
	}
}

// SetGainControl turns automatic gain control on or off, at once.
func (m *Media) SetGainControl(on bool) {
	if m.proc != nil {
		m.proc.SetAGC(on)
	}
}

// TestDevice returns the id of the test pattern camera or test tone
// microphone (the mediadevices videotest and audiotest drivers).
func TestDevice(c *capture.Capture, kind capture.Kind) (string, error) {
	for _, d := range c.Devices() {
		if d.Kind == kind && IsTestDevice(d) {
			return d.ID, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNoTestDevice, kind)
}

// IsTestDevice reports whether d is a test driver rather than hardware.
func IsTestDevice(d capture.Device) bool {
	return strings.EqualFold(d.Label, "VideoTest") || strings.EqualFold(d.Label, "AudioTest")
}

// Capture returns the capture settings and device list.
func (m *Media) Capture() *capture.Capture { return m.cap }

// Speaker reports whether sound goes to a real output device.
func (m *Media) Speaker() bool { return m.player.Speaker() }

// Close stops the speaker and the audio processing.
func (m *Media) Close() error {
	err := m.player.Close()
	if m.proc != nil {
		m.player.Mixer.SetReference(nil)
		_ = m.proc.Close()
	}
	return err
}

// OpenMicrophone opens the chosen microphone.
func (m *Media) OpenMicrophone() (client.LocalTrack, error) {
	m.mu.Lock()
	id := m.micID
	m.mu.Unlock()
	var opts []capture.MicOption
	if m.proc != nil {
		opts = append(opts, capture.WithAudioProcessor(m.proc))
	}
	return m.cap.OpenMicrophone(id, opts...)
}

// OpenCamera opens the chosen camera.
func (m *Media) OpenCamera() (client.LocalTrack, error) {
	m.mu.Lock()
	id := m.cameraID
	m.mu.Unlock()
	t, err := m.cap.OpenCamera(id)
	if err != nil {
		return nil, err
	}
	if m.opts.PreviewAtOnce {
		t.Preview()
	}
	m.mu.Lock()
	m.camera = t
	m.mu.Unlock()
	return videoTrack{t}, nil
}

// Camera returns the camera opened last (nil before the first), for its
// statistics (VideoTrack.Stats, VideoTrack.LayerStats); it may be closed.
func (m *Media) Camera() *capture.VideoTrack {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.camera
}

// OpenScreen opens the default screen.
func (m *Media) OpenScreen() (client.LocalTrack, error) {
	m.mu.Lock()
	id := m.screenID
	m.mu.Unlock()
	t, err := m.cap.OpenScreen(id)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.screen = t
	m.mu.Unlock()
	return videoTrack{t}, nil
}

// videoTrack shows a capture track's preview as the session's local video.
// A camera's layers can be put in standby by the server.
type videoTrack struct{ *capture.VideoTrack }

var _ client.StandbyTrack = videoTrack{}

// Preview returns a source that starts copying preview frames only when
// someone first looks at it: a headless participant pays nothing for it.
func (v videoTrack) Preview() client.VideoSource { return &lazyPreview{track: v.VideoTrack} }

type lazyPreview struct {
	track *capture.VideoTrack
	once  sync.Once
	slot  *media.FrameSlot
}

func (p *lazyPreview) get() *media.FrameSlot {
	p.once.Do(func() { p.slot = p.track.Preview() })
	return p.slot
}

func (p *lazyPreview) Seq() uint64 { return p.get().Seq() }

func (p *lazyPreview) Render(dst *image.RGBA, width, height int, mirror bool) (*image.RGBA, image.Point, uint64) {
	return p.get().Render(dst, width, height, mirror)
}

// NewVideoDecoder decodes one remote video into a fresh frame slot.
func (m *Media) NewVideoDecoder(requestKeyframe func()) (client.VideoDecoder, error) {
	slot := media.NewFrameSlot()
	d, err := decode.NewVideoDecoder(slot, decode.WithKeyFrameRequest(requestKeyframe, 300*time.Millisecond),
		decode.WithVideoLogger(m.opts.Logger))
	if err != nil {
		return nil, err
	}
	return videoDecoder{d, slot}, nil
}

type videoDecoder struct {
	*decode.VideoDecoder
	slot *media.FrameSlot
}

func (v videoDecoder) Source() client.VideoSource { return v.slot }

// NewAudioDecoder makes a jitter buffer and Opus decoder for one remote track.
func (m *Media) NewAudioDecoder() (client.AudioDecoder, error) {
	d, err := decode.NewAudioDecoder(decode.WithAudioLogger(m.opts.Logger))
	if err != nil {
		return nil, err
	}
	return audioDecoder{d}, nil
}

type audioDecoder struct{ *decode.AudioDecoder }

func (a audioDecoder) Decoded() uint64 { return a.Stats().Decoded }

// Add starts playing a participant's audio.
func (m *Media) Add(participant string, dec client.AudioDecoder) {
	if a, ok := dec.(audioDecoder); ok {
		m.player.Mixer.Add(participant, a.AudioDecoder)
	}
}

// Remove stops playing a participant's audio.
func (m *Media) Remove(participant string) { m.player.Mixer.Remove(participant) }
