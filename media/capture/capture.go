// Package capture opens cameras, microphones and screens through
// pion/mediadevices and turns them into webrtc.TrackLocal values that encode
// with libvpx (VP8) and libopus (Opus) for each PeerConnection they are bound
// to.
//
// A Capture carries the encoder settings; its Open methods return tracks:
//
//	c, _ := capture.New()
//	me, _ := c.MediaEngine()           // VP8, Opus, RFC 6464 audio level
//	cam, _ := c.OpenCamera("")         // default camera, 640x480 @ 30 fps
//	mic, _ := c.OpenMicrophone("")
//	pc.AddTrack(cam); pc.AddTrack(mic)
//
// Each track reads its device in one goroutine of its own and fans the raw
// frames out to a preview slot and to one encoder per binding, so a camera
// opens once no matter how many previews and PeerConnections use it.
//
// The package registers no drivers: the mains blank-import
// mediadevices/pkg/driver/camera, .../microphone and .../screen (the app) or
// .../videotest and .../audiotest (the bot, tests).
package capture

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/pion/mediadevices/pkg/codec/opus"
	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/vp8enc"
)

// Default encoder and capture settings.
const (
	DefaultWidth            = 640
	DefaultHeight           = 480
	DefaultFrameRate        = 30
	DefaultVideoBitRate     = 800_000
	DefaultKeyFrameInterval = 300 // frames: 10 s at 30 fps; receivers ask with PLI sooner
	DefaultScreenFrameRate  = 10
	DefaultScreenBitRate    = 1_500_000
	DefaultAudioBitRate     = 32_000
	// MinVideoBitRate is the floor REMB feedback can push a video encoder to.
	MinVideoBitRate = 100_000
)

// config is what the options set.
type config struct {
	width, height    int
	frameRate        float32
	videoBitRate     int
	keyFrameInterval int
	screenFrameRate  float32
	screenBitRate    int
	audioBitRate     int
	streamID         string
	log              *slog.Logger
}

// Option configures a Capture.
type Option func(*config)

// WithVideoSize sets the camera resolution asked for (the camera's closest
// mode wins). Default 640x480.
func WithVideoSize(width, height int) Option {
	return func(c *config) { c.width, c.height = width, height }
}

// WithFrameRate sets the camera frame rate asked for. Default 30.
func WithFrameRate(fps float32) Option { return func(c *config) { c.frameRate = fps } }

// WithVideoBitRate sets the camera's VP8 target bit rate in bit/s. Default
// 800 kbit/s.
func WithVideoBitRate(bps int) Option { return func(c *config) { c.videoBitRate = bps } }

// WithKeyFrameInterval sets the longest gap between VP8 keyframes, in
// frames, for camera and screen. Default 300. Keyframes are also sent at
// once when a receiver asks with PLI or FIR (the server asks for every new
// subscriber), so the interval only bounds how long a receiver whose
// requests are lost waits.
func WithKeyFrameInterval(frames int) Option {
	return func(c *config) { c.keyFrameInterval = frames }
}

// WithScreenFrameRate sets the screen capture rate. Default 10 fps.
func WithScreenFrameRate(fps float32) Option { return func(c *config) { c.screenFrameRate = fps } }

// WithScreenBitRate sets the screen's VP8 target bit rate in bit/s.
// Default 1.5 Mbit/s.
func WithScreenBitRate(bps int) Option { return func(c *config) { c.screenBitRate = bps } }

// WithAudioBitRate sets the Opus target bit rate in bit/s. Default 32 kbit/s.
func WithAudioBitRate(bps int) Option { return func(c *config) { c.audioBitRate = bps } }

// WithStreamID sets the default WebRTC stream id (the msid group) of opened
// tracks; a TrackOption can override it per track. Default "confab".
func WithStreamID(id string) Option { return func(c *config) { c.streamID = id } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// Capture opens devices as tracks with one set of encoder settings. It is
// safe for concurrent use and holds no device itself.
type Capture struct {
	cfg     config
	vp8     vp8enc.Config // the tracks fill in size, rate and content
	opus    opus.Params
	log     *slog.Logger
	senders senderPositions
}

// New returns a Capture with the given options over the defaults. It fails
// with ErrConfig on out-of-range options.
func New(opts ...Option) (*Capture, error) {
	cfg := config{
		width: DefaultWidth, height: DefaultHeight, frameRate: DefaultFrameRate,
		videoBitRate: DefaultVideoBitRate, keyFrameInterval: DefaultKeyFrameInterval,
		screenFrameRate: DefaultScreenFrameRate, screenBitRate: DefaultScreenBitRate,
		audioBitRate: DefaultAudioBitRate, streamID: "confab",
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.width <= 0 || cfg.height <= 0 || cfg.width > 7680 || cfg.height > 4320:
		return nil, fmt.Errorf("%w: video size %dx%d", ErrConfig, cfg.width, cfg.height)
	case cfg.frameRate <= 0 || cfg.frameRate > 120 || cfg.screenFrameRate <= 0 || cfg.screenFrameRate > 60:
		return nil, fmt.Errorf("%w: frame rate", ErrConfig)
	case cfg.videoBitRate < MinVideoBitRate || cfg.screenBitRate < MinVideoBitRate:
		return nil, fmt.Errorf("%w: video bit rate below %d", ErrConfig, MinVideoBitRate)
	case cfg.keyFrameInterval <= 0:
		return nil, fmt.Errorf("%w: keyframe interval %d", ErrConfig, cfg.keyFrameInterval)
	case cfg.audioBitRate < 6000 || cfg.audioBitRate > 510_000:
		return nil, fmt.Errorf("%w: opus bit rate %d", ErrConfig, cfg.audioBitRate)
	case cfg.streamID == "":
		return nil, fmt.Errorf("%w: empty stream id", ErrConfig)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}

	// VP8 for calls (package vp8enc): realtime deadline, speed by
	// resolution, threads by cores, error resilient, CBR that never skips
	// frames.
	vp8 := vp8enc.Config{KeyFrameInterval: cfg.keyFrameInterval}

	op, err := opus.NewParams()
	if err != nil {
		return nil, fmt.Errorf("%w: opus: %w", ErrConfig, err)
	}
	op.BitRate = cfg.audioBitRate
	op.Latency = opus.Latency20ms

	return &Capture{cfg: cfg, vp8: vp8, opus: op, log: cfg.log}, nil
}

// NewMediaEngine is New followed by MediaEngine, for callers that want both.
func NewMediaEngine(opts ...Option) (*webrtc.MediaEngine, *Capture, error) {
	c, err := New(opts...)
	if err != nil {
		return nil, nil, err
	}
	me, err := c.MediaEngine()
	if err != nil {
		return nil, nil, err
	}
	return me, c, nil
}

// MediaEngine returns a new MediaEngine with the codecs the tracks encode
// (VP8, Opus, with the feedback of media.VP8Codec and media.OpusCodec) and
// the RFC 6464 audio-level extension registered; see media.RegisterCodecs.
// The codec parameters are registered directly rather than through a
// mediadevices.CodecSelector because the selector's parameters carry no
// RTCP feedback, and without "nack pli" in the SDP browsers never ask for
// keyframes.
func (c *Capture) MediaEngine() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	if err := media.RegisterCodecs(me); err != nil {
		return nil, err
	}
	return me, nil
}

// Kind says what a Device captures.
type Kind int

// Device kinds.
const (
	KindCamera Kind = iota + 1
	KindMicrophone
	KindScreen
)

// String returns "camera", "microphone" or "screen".
func (k Kind) String() string {
	switch k {
	case KindCamera:
		return "camera"
	case KindMicrophone:
		return "microphone"
	case KindScreen:
		return "screen"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Device is one capture device for a picker.
type Device struct {
	// ID opens the device with OpenCamera, OpenMicrophone or OpenScreen.
	// mediadevices makes it up when the driver registers, so it is stable
	// for the life of the process only; remember Label across runs.
	ID string
	// Label is the human name (the driver's name when it has one).
	Label string
	Kind  Kind
	// Default marks the device mediadevices picks when no ID is given.
	Default bool
}

// Devices lists the registered cameras, microphones and screens, sorted by
// kind, then default first, then label. It is empty when no drivers are
// registered.
func (c *Capture) Devices() []Device {
	drivers := driver.GetManager().Query(func(driver.Driver) bool { return true })
	out := make([]Device, 0, len(drivers))
	for _, d := range drivers {
		kind, ok := kindOf(d)
		if !ok {
			continue
		}
		info := d.Info()
		out = append(out, Device{
			ID:      d.ID(),
			Label:   labelOf(info),
			Kind:    kind,
			Default: info.Priority >= driver.PriorityHigh,
		})
	}
	slices.SortFunc(out, func(a, b Device) int {
		if a.Kind != b.Kind {
			return cmp.Compare(a.Kind, b.Kind)
		}
		if a.Default != b.Default {
			if a.Default {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// kindOf classifies a registered driver.
func kindOf(d driver.Driver) (Kind, bool) {
	switch {
	case driver.FilterVideoRecorder()(d) && d.Info().DeviceType == driver.Screen:
		return KindScreen, true
	case driver.FilterVideoRecorder()(d):
		return KindCamera, true
	case driver.FilterAudioRecorder()(d):
		return KindMicrophone, true
	}
	return 0, false
}

// labelOf picks the friendliest name a driver offers. The camera driver
// joins name and bus with ";" (camera.LabelSeparator); only the name is
// kept.
func labelOf(info driver.Info) string {
	name := info.Name
	if name == "" {
		name = info.Label
	}
	if i := strings.Index(name, ";"); i > 0 {
		name = name[:i]
	}
	return name
}

// findDevice returns the registered device of kind with id, or the first
// of kind in Devices order (the default) when id is empty.
func (c *Capture) findDevice(kind Kind, id string) (Device, error) {
	for _, d := range c.Devices() {
		if d.Kind == kind && (id == "" || d.ID == id) {
			return d, nil
		}
	}
	if id == "" {
		return Device{}, fmt.Errorf("%w: no %s registered", ErrNoDevice, kind)
	}
	return Device{}, fmt.Errorf("%w: no %s with id %q", ErrNoDevice, kind, id)
}

// trackConfig is what TrackOptions set.
type trackConfig struct {
	id, streamID string
}

// TrackOption configures one opened track.
type TrackOption func(*trackConfig)

// WithTrackID sets the track's WebRTC id. Defaults: "camera", "screen",
// "microphone".
func WithTrackID(id string) TrackOption { return func(t *trackConfig) { t.id = id } }

// WithTrackStreamID sets the track's WebRTC stream id, overriding the
// Capture's WithStreamID.
func WithTrackStreamID(id string) TrackOption { return func(t *trackConfig) { t.streamID = id } }

func (c *Capture) trackConfig(defID string, opts []TrackOption) trackConfig {
	tc := trackConfig{id: defID, streamID: c.cfg.streamID}
	for _, o := range opts {
		o(&tc)
	}
	if tc.id == "" {
		tc.id = defID
	}
	if tc.streamID == "" {
		tc.streamID = c.cfg.streamID
	}
	return tc
}
