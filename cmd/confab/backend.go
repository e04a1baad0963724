package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/playout"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/ui"
)

// ErrDeviceInUse means a call holds the camera and microphone; the entry
// screen waits for the call to release them.
var ErrDeviceInUse = ui.ErrDevicesInUse

// backend is the app's ui.Backend: it joins rooms with the client session
// and the local media pipeline, and previews devices on the entry screen.
type backend struct {
	log      *slog.Logger
	fake     bool
	embedded *embedded
	cap      *capture.Capture
	// capture adjusts the call's camera (tests and benchmarks lower the
	// frame rate); nil keeps the defaults, 640x480 at 30 fps.
	capture []capture.Option

	// devMu serializes opening devices: a camera or microphone opens once,
	// so the entry screen's preview and meter must be closed before a call
	// opens them, and must not reopen while a call runs.
	devMu sync.Mutex
	inUse int // joins in progress and calls open; guarded by devMu

	mu    sync.Mutex
	entry map[capture.Kind]func() // stops the entry screen's preview and mic meter
	calls map[*call]bool
	audio ui.AudioSettings // the microphone's sound processing, for calls and joins
	// cameraOpens counts the cameras calls opened (calls.go): an audio
	// call between people opens none.
	cameraOpens atomic.Int64

	// agentFile is where the agent sign-in is remembered (support.go);
	// "" is the user's config dir.
	agentFile string

	// The take-over of another app's built-in server (takeover.go).
	takeoverMu    sync.Mutex // one take-over attempt at a time
	quit          chan struct{}
	stopped       bool
	watchers      sync.WaitGroup
	serverChanged func()
}

func newBackend(log *slog.Logger, fake bool) *backend {
	c, err := capture.New(capture.WithLogger(log))
	if err != nil {
		log.Error("capture", "err", err)
	}
	return &backend{log: log, fake: fake, cap: c, entry: map[capture.Kind]func(){}, calls: map[*call]bool{},
		audio: ui.AudioSettings{EchoCancel: true, NoiseSuppression: true, GainControl: true}}
}

// Devices lists hardware devices; the test drivers are offered through the
// test pattern choice instead.
func (b *backend) Devices() ui.Devices {
	var d ui.Devices
	if b.cap == nil {
		return d
	}
	for _, dev := range b.cap.Devices() {
		if dev.Kind == capture.KindScreen {
			d.Screens = append(d.Screens, ui.Device{ID: dev.ID, Label: dev.Label})
			continue
		}
		if clientmedia.IsTestDevice(dev) != b.fake {
			continue
		}
		item := ui.Device{ID: dev.ID, Label: dev.Label}
		switch dev.Kind {
		case capture.KindCamera:
			d.Cameras = append(d.Cameras, item)
		case capture.KindMicrophone:
			d.Microphones = append(d.Microphones, item)
		}
	}
	if speakers, err := playout.Devices(); err == nil {
		for _, s := range speakers {
			d.Speakers = append(d.Speakers, ui.Device{ID: s.ID, Label: s.Name})
		}
	}
	return d
}

// server returns the built-in server, nil when the app joins another one.
func (b *backend) server() *embedded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.embedded
}

// stopServer stops the built-in server, if any, and the watcher that
// would take it over.
func (b *backend) stopServer() {
	b.mu.Lock()
	if !b.stopped {
		b.stopped = true
		if b.quit != nil {
			close(b.quit)
		}
	}
	b.mu.Unlock()
	b.watchers.Wait()
	if e := b.server(); e != nil {
		e.Stop()
	}
}

// ServerHint says which server an empty server field means.
func (b *backend) ServerHint() string {
	if e := b.server(); e != nil {
		return e.hint()
	}
	return ""
}

// NetworkAccess reports whether the built-in server takes others on the
// network.
func (b *backend) NetworkAccess() bool {
	e := b.server()
	return e != nil && !e.loopback && !e.Shared
}

// SetNetworkAccess restarts the built-in server on all interfaces (on) or
// on loopback only, at the same port. It refuses during a call, and puts
// the old server back if the new one cannot start.
func (b *backend) SetNetworkAccess(on bool) error {
	b.devMu.Lock() // no join starts meanwhile
	defer b.devMu.Unlock()
	old := b.server()
	switch {
	case old == nil:
		return errors.New("this app joins another server; it hosts none")
	case old.Shared:
		return errors.New("another Confab on this computer hosts the server; change it there")
	case b.inUse > 0:
		return errors.New("leave the call first")
	case on == !old.loopback:
		return nil
	}
	_, port, _ := net.SplitHostPort(old.Listen)
	host := "127.0.0.1"
	if on {
		host = "0.0.0.0"
	}
	old.Stop()
	next, err := startEmbedded(net.JoinHostPort(host, port), old.dataDir, old.log)
	if err != nil {
		back, berr := startEmbedded(old.Listen, old.dataDir, old.log)
		if berr != nil {
			b.log.Error("built-in server could not be restarted", "err", berr)
			return fmt.Errorf("%w; and the server could not be restarted: %w", err, berr)
		}
		next = back
	}
	b.mu.Lock()
	b.embedded = next
	b.mu.Unlock()
	return err
}

// Preview opens a camera (or the test pattern) for the entry screen.
func (b *backend) Preview(cameraID string, testPattern bool) (client.VideoSource, func(), error) {
	c, stop, err := b.openForEntry(capture.KindCamera, cameraID, testPattern, func(id string) (io.Closer, error) {
		return b.cap.OpenCamera(id)
	})
	if err != nil {
		return nil, nil, err
	}
	return c.(*capture.VideoTrack).Preview(), stop, nil
}

// MicLevel opens a microphone for the entry screen's level meter.
func (b *backend) MicLevel(micID string) (func() float64, func(), error) {
	c, stop, err := b.openForEntry(capture.KindMicrophone, micID, false, func(id string) (io.Closer, error) {
		return b.cap.OpenMicrophone(id)
	})
	if err != nil {
		return nil, nil, err
	}
	return c.(*capture.AudioTrack).Level, stop, nil
}

// openForEntry opens a device for the entry screen with open: it refuses
// while a call holds the devices, closes the entry screen's previous device
// of that kind, and uses the test device when asked (or with --fake-devices).
// The returned func closes the device, once.
func (b *backend) openForEntry(kind capture.Kind, id string, test bool, open func(id string) (io.Closer, error)) (io.Closer, func(), error) {
	if b.cap == nil {
		return nil, nil, fmt.Errorf("no capture")
	}
	b.devMu.Lock()
	defer b.devMu.Unlock()
	if b.inUse > 0 {
		return nil, nil, ErrDeviceInUse
	}
	b.stopEntry(kind)
	if test || b.fake {
		tid, err := clientmedia.TestDevice(b.cap, kind)
		if err != nil {
			return nil, nil, err
		}
		id = tid
	}
	c, err := open(id)
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	stop := func() { once.Do(func() { c.Close() }) }
	b.mu.Lock()
	b.entry[kind] = stop
	b.mu.Unlock()
	return c, stop, nil
}

// stopEntry closes the entry screen's device of kind, if open.
func (b *backend) stopEntry(kind capture.Kind) {
	b.mu.Lock()
	stop := b.entry[kind]
	delete(b.entry, kind)
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Join enters a room. The entry screen's preview and meter are released
// first: a device can be open once.
func (b *backend) Join(ctx context.Context, req ui.JoinRequest) (ui.Call, error) {
	b.devMu.Lock()
	b.inUse++
	b.stopEntry(capture.KindCamera)
	b.stopEntry(capture.KindMicrophone)
	b.devMu.Unlock()
	c, err := b.join(ctx, req)
	if err != nil {
		b.log.Warn("join failed", "room", req.Room, "err", err)
		b.release()
	}
	return c, err
}

// release ends one join attempt or call's claim on the devices.
func (b *backend) release() {
	b.devMu.Lock()
	b.inUse--
	b.devMu.Unlock()
}

func (b *backend) join(ctx context.Context, req ui.JoinRequest) (ui.Call, error) {
	serverURL := strings.TrimSpace(req.Server)
	recordDir := ""
	if serverURL == "" {
		b.ensureServer()
		e := b.server()
		if e == nil {
			return nil, fmt.Errorf("%w: no server given", client.ErrUnreachable)
		}
		serverURL = e.URL
		// On the server it hosts, the app's user may record (recording.go).
		if req.Token == "" && !e.Shared {
			tok, err := e.hostToken(req.Room, req.Name)
			if err != nil {
				return nil, err
			}
			req.Token, recordDir = tok, e.recordDir
		}
	}
	b.mu.Lock()
	audio := b.audio
	b.mu.Unlock()
	m, err := clientmedia.New(clientmedia.Options{
		CameraID: req.CameraID, MicID: req.MicID, SpeakerID: req.SpeakerID,
		Fake: b.fake, TestCamera: req.UseTestPattern, Logger: b.log, Capture: b.capture, PreviewAtOnce: true,
		NoEchoCancel: !audio.EchoCancel, NoNoiseSuppression: !audio.NoiseSuppression, NoGainControl: !audio.GainControl,
	})
	if err != nil {
		return nil, err
	}
	s, err := client.Join(ctx, client.Config{
		Server: serverURL, Token: req.Token, Room: req.Room, Name: req.Name, Mic: !req.MicOff, Camera: !req.CameraOff,
		Media: cameraCounter{m, &b.cameraOpens}, Decoders: m, Audio: m, LoopbackOnly: isLoopback(serverURL), Logger: b.log,
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	// The encoders follow what the connection can carry (the congestion
	// controller's estimate over the server's TWCC feedback).
	s.OnSendEstimate(m.SetSendBudget)
	c := &call{Session: s, media: m, b: b, recordDir: recordDir}
	b.mu.Lock()
	b.calls[c] = true
	c.setAudio(b.audio) // it may have changed while joining
	b.mu.Unlock()
	return c, nil
}

// SetAudioProcessing turns the microphone's echo cancellation, noise
// suppression and automatic gain control on or off, at once in the calls
// in progress and for the next join (ui.AudioProcessing). It does not
// block: the capture side picks the change up before its next chunk.
func (b *backend) SetAudioProcessing(s ui.AudioSettings) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.audio = s
	for c := range b.calls {
		c.setAudio(s)
	}
}

// shutdown leaves any call still open (the window was closed) and releases
// the entry screen's devices.
func (b *backend) shutdown() {
	b.stopEntry(capture.KindCamera)
	b.stopEntry(capture.KindMicrophone)
	b.mu.Lock()
	var open []*call
	for c := range b.calls {
		open = append(open, c)
	}
	b.mu.Unlock()
	for _, c := range open {
		c.Leave()
	}
	ringers.Wait() // the ring tone stops with the window (calls.go)
}

// call is a joined room: the session plus the media it owns.
type call struct {
	*client.Session
	media *clientmedia.Media
	b     *backend
	once  sync.Once
	// recordDir holds the recordings of the built-in server the call is
	// on; "" on another server (RecordingFolder, recording.go).
	recordDir string
}

// Leave ends the session and closes the speaker; what was received from
// each participant is logged (make bench reads it).
func (c *call) Leave() error {
	err := c.Session.Leave()
	for _, st := range c.Session.Stats() {
		c.b.log.Info("received", "from", st.Name, "frames", st.Frames, "video_packets", st.VideoPackets,
			"audio_packets", st.AudioPackets, "audio_decoded", st.AudioDecoded)
	}
	c.once.Do(func() {
		c.media.Close()
		c.b.mu.Lock()
		delete(c.b.calls, c)
		c.b.mu.Unlock()
		c.b.release()
	})
	return err
}

// UseCamera makes the camera's next start use device id.
func (c *call) UseCamera(id string) { c.media.SetCameraID(id) }

// UseMicrophone makes the microphone's next start use device id.
func (c *call) UseMicrophone(id string) { c.media.SetMicID(id) }

// UseScreen makes the next screen share show screen id.
func (c *call) UseScreen(id string) { c.media.SetScreenID(id) }

// setAudio applies the sound processing settings to the call's
// microphone.
func (c *call) setAudio(s ui.AudioSettings) {
	c.media.SetEchoCancel(s.EchoCancel)
	c.media.SetNoiseSuppression(s.NoiseSuppression)
	c.media.SetGainControl(s.GainControl)
}

// PlaySound plays one of the app's sounds (assets/sounds) on the call's
// speaker.
func (c *call) PlaySound(name string) { c.media.PlaySound(sounds.PCM(name)) }

// isLoopback reports whether a server URL points at this machine's
// loopback, so media can stay on 127.0.0.1.
func isLoopback(server string) bool {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
