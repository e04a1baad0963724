package servertest

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/confab/confab/signaling/client"
)

// SynthLayer is one layer of a SynthCamera: its size and bitrate.
type SynthLayer struct {
	Width, Height int
	Bitrate       int // bits per second, keyframes included
}

// DefaultSynthLayers are a VGA camera in three layers (q, h, f).
var DefaultSynthLayers = []SynthLayer{
	{160, 120, 120_000},
	{320, 240, 450_000},
	{640, 480, 1_200_000},
}

// SynthCamera is a client.SimulcastTrack that sends made-up VP8 frames in
// layers: each frame starts with a real VP8 frame tag (and, for a
// keyframe, the keyframe header with the layer's size, RFC 6386 §9.1) and
// is filled with the layer's RID letter ('q', 'h' or 'f'), so a receiver
// tells from any packet which layer it came from. Nothing decodes it: the
// SFU reads only the payload descriptor and the keyframe header. A layer
// sends a keyframe every two seconds and when a PLI or FIR asks for one.
// It implements TrackLocal through its top layer.
type SynthCamera struct {
	*webrtc.TrackLocalStaticSample // the top layer
	layers                         []*synthLayer
	fps                            int
	stop                           chan struct{}
	wg                             sync.WaitGroup
	once                           sync.Once
}

type synthLayer struct {
	*webrtc.TrackLocalStaticSample
	SynthLayer
	mark    byte
	key     atomic.Bool  // send a keyframe next
	bitrate atomic.Int64 // SynthLayer.Bitrate, or what SetBitrate set
	standby atomic.Bool  // not sent (SendLayers)
}

// NewSynthCamera starts a camera with layers, lowest first (at most 3,
// named from the top: f, h, q), sending fps frames a second.
func NewSynthCamera(streamID string, fps int, layers []SynthLayer) *SynthCamera {
	c := &SynthCamera{fps: fps, stop: make(chan struct{})}
	marks := []byte("qhf")[3-len(layers):]
	for i, l := range layers {
		s, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", streamID)
		if err != nil {
			panic(err) // only for a bad codec, which this is not
		}
		sl := &synthLayer{TrackLocalStaticSample: s, SynthLayer: l, mark: marks[i]}
		sl.key.Store(true)
		sl.bitrate.Store(int64(l.Bitrate))
		c.layers = append(c.layers, sl)
	}
	c.TrackLocalStaticSample = c.layers[len(c.layers)-1].TrackLocalStaticSample
	c.wg.Add(1)
	go c.run()
	return c
}

// Layers implements client.SimulcastTrack.
func (c *SynthCamera) Layers() []webrtc.TrackLocal {
	out := make([]webrtc.TrackLocal, len(c.layers))
	for i, l := range c.layers {
		out[i] = l
	}
	return out
}

// SendLayers implements client.StandbyTrack: the layers not named send
// nothing until named again, then start with a keyframe.
func (c *SynthCamera) SendLayers(rids []string) {
	for _, l := range c.layers {
		off := !slices.Contains(rids, string(l.mark))
		if was := l.standby.Swap(off); was && !off {
			l.key.Store(true)
		}
	}
}

// Sending returns the RIDs of the layers being sent, lowest first.
func (c *SynthCamera) Sending() []string {
	var out []string
	for _, l := range c.layers {
		if !l.standby.Load() {
			out = append(out, string(l.mark))
		}
	}
	return out
}

// SetBitrate sets the bitrate of the top layer, as an app sets its
// encoder's from the session's send estimate.
func (c *SynthCamera) SetBitrate(bps int) {
	c.layers[len(c.layers)-1].bitrate.Store(int64(bps))
}

// Close stops the camera.
func (c *SynthCamera) Close() error {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
	return nil
}

// Bind implements webrtc.TrackLocal for the top layer alone (a session
// that cannot send simulcast sends it).
func (c *SynthCamera) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return c.layers[len(c.layers)-1].Bind(ctx)
}

// Bind implements webrtc.TrackLocal: it also reads the sender's RTCP for
// keyframe requests until the sender stops.
func (l *synthLayer) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := l.TrackLocalStaticSample.Bind(ctx)
	if err != nil {
		return codec, err
	}
	l.key.Store(true)
	if r := ctx.RTCPReader(); r != nil {
		go l.readRTCP(r)
	}
	return codec, nil
}

func (l *synthLayer) readRTCP(r interceptor.RTCPReader) {
	buf := make([]byte, 1500)
	for {
		n, _, err := r.Read(buf, interceptor.Attributes{})
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				l.key.Store(true)
			}
		}
	}
}

func (c *SynthCamera) run() {
	defer c.wg.Done()
	every := time.Second / time.Duration(c.fps)
	tick := time.NewTicker(every)
	defer tick.Stop()
	keyEvery := 2 * c.fps
	for n := 0; ; n++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		for _, l := range c.layers {
			if l.standby.Load() {
				continue
			}
			key := l.key.Swap(false) || n%keyEvery == 0
			size := int(l.bitrate.Load()) / 8 / c.fps
			if key {
				size *= 2
			}
			_ = l.WriteSample(media.Sample{Data: synthFrame(key, l.Width, l.Height, size, l.mark), Duration: every})
		}
	}
}

// synthFrame makes a VP8 frame of about size bytes: a frame tag (show
// frame, version 0), for a keyframe the start code and size, then mark.
func synthFrame(key bool, w, h, size int, mark byte) []byte {
	size = max(size, 16)
	b := make([]byte, size)
	tag := byte(0x10) // show_frame
	if !key {
		tag |= 0x01
	}
	copy(b, []byte{tag, 0x02, 0x00})
	i := 3
	if key {
		copy(b[3:], []byte{0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)})
		i = 10
	}
	for ; i < size; i++ {
		b[i] = mark
	}
	return b
}

// SynthMedia is a client.LocalMedia of a SynthCamera (Layers, or the
// default three) and a microphone that sends Opus silence.
type SynthMedia struct {
	StreamID string
	FPS      int // default 15
	Layers   []SynthLayer
	// Plain sends the top layer alone, as a camera that is not
	// simulcast (the LocalTrack has no Layers method).
	Plain bool

	mu   sync.Mutex
	last *SynthCamera
}

// Camera returns the camera opened last.
func (m *SynthMedia) Camera() *SynthCamera {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// OpenCamera implements client.LocalMedia.
func (m *SynthMedia) OpenCamera() (client.LocalTrack, error) {
	layers, fps := m.Layers, m.FPS
	if layers == nil {
		layers = DefaultSynthLayers
	}
	if fps == 0 {
		fps = 15
	}
	c := NewSynthCamera(m.StreamID, fps, layers)
	m.mu.Lock()
	m.last = c
	m.mu.Unlock()
	if m.Plain {
		return plainCamera{TrackLocal: c, c: c}, nil
	}
	return c, nil
}

// plainCamera is a SynthCamera that shows only its top layer.
type plainCamera struct {
	webrtc.TrackLocal
	c *SynthCamera
}

func (p plainCamera) Close() error { return p.c.Close() }

// OpenMicrophone implements client.LocalMedia.
func (m *SynthMedia) OpenMicrophone() (client.LocalTrack, error) { return newSilence(m.StreamID), nil }

// OpenScreen implements client.LocalMedia: there is no screen.
func (m *SynthMedia) OpenScreen() (client.LocalTrack, error) { return nil, client.ErrNoMedia }

// silence sends 20 ms Opus frames of silence.
type silence struct {
	*webrtc.TrackLocalStaticSample
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newSilence(streamID string) *silence {
	s, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "microphone", streamID)
	m := &silence{TrackLocalStaticSample: s, stop: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				_ = m.WriteSample(media.Sample{Data: []byte{0xf8, 0xff, 0xfe}, Duration: 20 * time.Millisecond})
			}
		}
	}()
	return m
}

// Bind implements webrtc.TrackLocal; it also reads the sender's RTCP, as
// a real capture track does: pion's interceptors (the congestion
// controller's feedback among them) see only the RTCP someone reads.
func (m *silence) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := m.TrackLocalStaticSample.Bind(ctx)
	if err == nil && ctx.RTCPReader() != nil {
		go drainRTCP(ctx.RTCPReader())
	}
	return codec, err
}

func drainRTCP(r interceptor.RTCPReader) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf, interceptor.Attributes{}); err != nil {
			return
		}
	}
}

func (m *silence) Close() error {
	m.once.Do(func() { close(m.stop) })
	m.wg.Wait()
	return nil
}
