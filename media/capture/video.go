package capture

import (
	"fmt"
	"image"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/vp8enc"
)

// firstFrameTimeout bounds how long Open waits for a device's first frame.
const firstFrameTimeout = 5 * time.Second

// stopTimeout bounds how long Close waits for a device read to return
// before closing the device under it.
const stopTimeout = 2 * time.Second

// VideoTrack is a camera or a screen as a webrtc.TrackLocal. Each Bind (one
// per PeerConnection sender) gets its own VP8 encoder fed from the one
// device reader; Unbind (RTPSender.ReplaceTrack(nil), PeerConnection.Close)
// stops that encoder and leaves the device running, so the same VideoTrack
// can be bound again later. Close releases the device.
//
// A camera is also a simulcast source (layers.go): Layers returns up to
// three tracks, each encoding the camera scaled down, that share the
// track's bit rate; binding the VideoTrack itself binds its full-size
// layer. A screen has one layer.
//
// While bound, the track reads the sender's RTCP itself: PLI and FIR force
// a keyframe (of the layer bound there), REMB caps the bit rate. Do not
// also call RTPSender.Read or ReadRTCP on a sender carrying it, or
// keyframe requests get lost.
//
// All methods are safe for concurrent use.
type VideoTrack struct {
	base
	vp8        vp8enc.Config // size and bit rate are set per binding
	maxBitRate atomic.Int64
	configured int // the bit rate the Capture was configured with

	preview   *media.FrameSlot
	previewOn atomic.Bool

	layers []*videoLayer // lowest first; fixed when the track opens

	reader video.Reader // the pump's alone

	// Guarded by base.mu.
	bindings bindingSet[*videoBinding]
	size     image.Point  // size of the last frame read
	ended    vp8enc.Stats // encoders of bindings gone, summed

	captured atomic.Uint64
	thinned  atomic.Uint64 // frames above the rate asked for, left out
	missed   atomic.Uint64 // most frames behind the schedule; the pump's
	stale    atomic.Uint64 // frames replaced unencoded by newer ones
}

// OpenCamera opens the camera with id (from Devices), or the default camera
// when id is "", asking for the Capture's size and frame rate. It returns
// when the first frame has arrived (or after 5 s without one). A device can
// be open once at a time: share the track instead of opening it twice.
func (c *Capture) OpenCamera(id string, opts ...TrackOption) (*VideoTrack, error) {
	dev, err := c.findDevice(KindCamera, id)
	if err != nil {
		return nil, err
	}
	stream, err := mediadevices.GetUserMedia(mediadevices.MediaStreamConstraints{
		Video: func(mc *mediadevices.MediaTrackConstraints) {
			mc.DeviceID = prop.StringExact(dev.ID)
			mc.Width = prop.Int(c.cfg.width)
			mc.Height = prop.Int(c.cfg.height)
			mc.FrameRate = prop.Float(c.cfg.frameRate)
			// Prefer raw YUYV over MJPEG when a camera offers both at the
			// size: it costs no JPEG decode per frame.
			mc.FrameFormat = prop.FrameFormat(frame.FormatYUYV)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: camera %q: %w", ErrOpen, dev.Label, err)
	}
	return c.newVideoTrack(stream, dev, "camera", c.cfg.videoBitRate, c.cfg.frameRate, false, opts)
}

// OpenScreen captures the screen with id (from Devices), or the default
// screen when id is "", at the Capture's screen frame rate and native
// resolution. It needs the mediadevices screen driver registered (X11 on
// Linux: it finds the displays when the program starts, from $DISPLAY).
func (c *Capture) OpenScreen(id string, opts ...TrackOption) (*VideoTrack, error) {
	dev, err := c.findDevice(KindScreen, id)
	if err != nil {
		return nil, err
	}
	stream, err := mediadevices.GetDisplayMedia(mediadevices.MediaStreamConstraints{
		Video: func(mc *mediadevices.MediaTrackConstraints) {
			mc.DeviceID = prop.StringExact(dev.ID)
			mc.FrameRate = prop.Float(c.cfg.screenFrameRate)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: screen %q: %w", ErrOpen, dev.Label, err)
	}
	return c.newVideoTrack(stream, dev, "screen", c.cfg.screenBitRate, c.cfg.screenFrameRate, true, opts)
}

func (c *Capture) newVideoTrack(stream mediadevices.MediaStream, dev Device, defID string,
	bitRate int, fps float32, screen bool, opts []TrackOption,
) (*VideoTrack, error) {
	tracks := stream.GetVideoTracks()
	md, ok := firstVideo(tracks)
	if !ok {
		for _, t := range stream.GetTracks() {
			t.Close()
		}
		return nil, fmt.Errorf("%w: %s %q gave no video track", ErrOpen, dev.Kind, dev.Label)
	}
	t := &VideoTrack{
		vp8:      c.vp8,
		preview:  media.NewFrameSlot(),
		reader:   md.NewReader(false),
		bindings: newBindingSet[*videoBinding](),
		size:     image.Pt(c.cfg.width, c.cfg.height),
	}
	t.init(c, dev, c.trackConfig(defID, opts), webrtc.RTPCodecTypeVideo, md)
	t.vp8.FrameRate = float64(fps)
	t.vp8.Screen = screen
	t.maxBitRate.Store(int64(bitRate))
	t.configured = bitRate
	first := make(chan struct{})
	go t.pump(first)
	select {
	case <-first:
	case <-t.done:
		err := t.Err()
		t.Close()
		return nil, fmt.Errorf("%w: %s %q: %w", ErrOpen, dev.Kind, dev.Label, err)
	case <-time.After(firstFrameTimeout):
		t.log.Warn("no first frame yet; going on", "device", dev.Label)
	}
	n := 1
	if !screen {
		size := t.Size()
		n = layerCount(size.X, size.Y)
	}
	for i := n - 1; i >= 0; i-- {
		l := &videoLayer{t: t, rid: layerRIDs[i], div: 1 << i}
		l.on.Store(true)
		l.rate.Store(int64(bitRate))
		t.layers = append(t.layers, l)
	}
	return t, nil
}

// Layers returns the camera's simulcast layers, lowest first (see
// client.SimulcastTrack): up to three tracks of the camera image at a
// quarter ("q"), half ("h") and its full size ("f") in each dimension,
// as many as leave the smallest at least 160x90. Each is a
// webrtc.TrackLocal with its own encoder per sender it is bound to, and
// its own keyframe requests. A screen has none (nil): it is sent whole.
func (t *VideoTrack) Layers() []webrtc.TrackLocal {
	if t.vp8.Screen {
		return nil
	}
	out := make([]webrtc.TrackLocal, len(t.layers))
	for i, l := range t.layers {
		out[i] = l
	}
	return out
}

// top is the full-size layer.
func (t *VideoTrack) top() *videoLayer { return t.layers[len(t.layers)-1] }

func firstVideo(tracks []mediadevices.Track) (*mediadevices.VideoTrack, bool) {
	for _, tr := range tracks {
		if v, ok := tr.(*mediadevices.VideoTrack); ok {
			return v, true
		}
	}
	return nil, false
}

// pump is the track's one device reader. It feeds the preview slot when
// the preview is on and hands each frame to every binding's encoder.
//
// A device faster than the rate asked for is thinned to it: mediadevices
// takes the rate as a wish, and a camera (or the videotest driver, which
// always runs at 30 fps) may deliver more. A frame is kept when it comes
// no earlier than a quarter period before the next one is due.
func (t *VideoTrack) pump(first chan<- struct{}) {
	defer close(t.done)
	started := false
	period := time.Duration(float64(time.Second) / t.vp8.FrameRate)
	var t0 time.Time  // the first frame's
	var due time.Time // when the next frame is due
	var n int64
	for {
		select {
		case <-t.stop:
			return
		default:
		}
		img, release, err := t.reader.Read()
		if err != nil {
			t.fail(err)
			return
		}
		if img == nil {
			continue
		}
		at := time.Now()
		t.captured.Add(1)
		if !due.IsZero() && at.Before(due.Add(-period/4)) {
			t.thinned.Add(1)
			if release != nil {
				release()
			}
			continue
		}
		switch {
		case due.IsZero(): // the first frame
			due = at.Add(period)
		case due.Add(period).Before(at):
			// Late by more than a period: the schedule starts again
			// here, and the next frame is not held to it, as the device
			// may hand over at once a frame it kept meanwhile.
			due = at
		default:
			due = due.Add(period)
		}
		// Missed: how far the device has fallen behind the schedule of
		// its first frame at the rate asked for, at most.
		if n++; t0.IsZero() {
			t0 = at
		} else if behind := int64((at.Sub(t0)+period/2)/period) + 1 - n; behind > int64(t.missed.Load()) {
			t.missed.Store(uint64(behind))
		}
		if !started {
			started = true
			close(first)
		}
		b := img.Bounds()
		if t.previewOn.Load() {
			t.preview.Put(img) // I420 kept as is, converted only when drawn
		}
		t.mu.Lock()
		t.size = b.Size()
		sinks := t.bindings.sinks
		t.mu.Unlock()
		for _, s := range sinks {
			s.offer(img, at)
		}
		if release != nil {
			release()
		}
	}
}

// Preview turns the local preview on and returns its slot: every captured
// frame, converted to RGBA, whether or not the track is bound. The slot is
// the same on every call.
func (t *VideoTrack) Preview() *media.FrameSlot {
	t.previewOn.Store(true)
	return t.preview
}

// StopPreview stops converting frames for the preview; the slot keeps its
// last frame.
func (t *VideoTrack) StopPreview() { t.previewOn.Store(false) }

// RequestKeyFrame makes every bound encoder send a keyframe next, as a PLI
// would.
func (t *VideoTrack) RequestKeyFrame() {
	t.mu.Lock()
	sinks := t.bindings.sinks
	t.mu.Unlock()
	for _, s := range sinks {
		s.forceKeyFrame()
	}
}

// SetBitRate sets the VP8 target bit rate in bit/s of the track, now and
// later, for a caller running its own congestion control: what all its
// layers bound together may send. The layers share it (layers.go); a
// layer the rate cannot carry is not sent until it can. REMB from the
// receiver can lower an encoder's rate further but never raise it above
// its share. Values below MinVideoBitRate are raised to it.
func (t *VideoTrack) SetBitRate(bps int) {
	bps = max(bps, MinVideoBitRate)
	t.maxBitRate.Store(int64(bps))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.applyRatesLocked()
}

// applyRatesLocked shares the bit rate among the layers bound now and sets
// every binding's encoder to its layer's part; a layer that starts being
// sent again starts with a keyframe. The caller holds t.mu. Nothing here
// blocks: the encoders take their new rate and keyframe requests with
// their next frame.
func (t *VideoTrack) applyRatesLocked() {
	sinks := t.bindings.sinks
	var bound []*videoLayer
	for _, l := range t.layers {
		if l.standby.Load() {
			if l.on.Swap(false) {
				t.log.Info("simulcast layer", "rid", l.rid, "sending", false, "standby", true)
			}
			continue
		}
		for _, b := range sinks {
			if b.layer == l {
				bound = append(bound, l)
				break
			}
		}
	}
	rates := splitRates(int(t.maxBitRate.Load()), bound, t.size.X, t.size.Y)
	resumed := map[*videoLayer]bool{}
	for i, l := range bound {
		was := l.on.Load()
		if rates[i] > 0 {
			l.rate.Store(int64(rates[i]))
		}
		l.on.Store(rates[i] > 0)
		if rates[i] > 0 && !was {
			resumed[l] = true
		}
		if rates[i] > 0 != was {
			t.log.Info("simulcast layer", "rid", l.rid, "sending", rates[i] > 0, "budget", t.maxBitRate.Load())
		}
	}
	for _, b := range sinks {
		b.applyRate()
		if resumed[b.layer] {
			b.forceKeyFrame()
		}
	}
}

// SendLayers implements client.StandbyTrack: the layers not named stop
// being encoded and sent (the server said nobody receives them), and the
// budget is shared among the others; a layer named again starts with a
// keyframe. With none of its layers named, it sends its lowest.
func (t *VideoTrack) SendLayers(rids []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	named := false
	for _, l := range t.layers {
		named = named || slices.Contains(rids, l.rid)
	}
	for i, l := range t.layers {
		// With none of its layers named, the camera sends its lowest.
		l.standby.Store(!slices.Contains(rids, l.rid) && (named || i > 0))
	}
	t.applyRatesLocked()
}

// BitRate returns the target bit rate SetBitRate (or the configuration)
// set last.
func (t *VideoTrack) BitRate() int { return int(t.maxBitRate.Load()) }

// ConfiguredBitRate returns the bit rate the Capture was configured with
// for this kind of track: the most a caller's congestion control should
// give it.
func (t *VideoTrack) ConfiguredBitRate() int { return t.configured }

// FramesCaptured returns how many frames the device has delivered.
func (t *VideoTrack) FramesCaptured() uint64 { return t.captured.Load() }

// VideoStats follows a video track's frames from the device to the wire,
// all bindings together, past ones included.
type VideoStats struct {
	// Captured counts frames the device delivered; Thinned those of them
	// left out because the device ran faster than the rate asked for.
	// Missed is the most
	// frames it has been behind the schedule its first frame set at the
	// rate asked for: a device slower than asked, or a reader held up (the
	// videotest driver's ticker drops the ticks a late reader misses).
	Captured, Thinned, Missed uint64
	// Replaced counts frames an encoder did not take before the next one
	// came (the encoder was behind); each is lost to that binding.
	Replaced uint64
	// Encoded counts frames put through the encoders, Skipped those the
	// rate control left out, Sent those written to senders.
	Encoded, Skipped, Sent uint64
	// EncodeTime is the wall time spent encoding (conversion to I420 and
	// libvpx).
	EncodeTime time.Duration
}

// Stats returns the track's frame counts so far. A binding being torn
// down at the moment may be missing from the encoder counts until it is.
func (t *VideoTrack) Stats() VideoStats {
	t.mu.Lock()
	sinks := t.bindings.sinks
	sum := t.ended
	t.mu.Unlock()
	for _, s := range sinks {
		sum = addStats(sum, s.vp8.Stats())
	}
	return VideoStats{
		Captured: t.captured.Load(), Thinned: t.thinned.Load(), Missed: t.missed.Load(), Replaced: t.stale.Load(),
		Encoded: sum.Frames, Skipped: sum.Dropped, Sent: t.sent.Load(), EncodeTime: sum.EncodeTime,
	}
}

func addStats(a, b vp8enc.Stats) vp8enc.Stats {
	a.Frames += b.Frames
	a.Encoded += b.Encoded
	a.Dropped += b.Dropped
	a.KeyFrames += b.KeyFrames
	a.Bytes += b.Bytes
	a.EncodeTime += b.EncodeTime
	return a
}

// retire shuts b down and keeps its encoder's counts.
func (t *VideoTrack) retire(b *videoBinding) {
	b.shutdown()
	t.mu.Lock()
	t.ended = addStats(t.ended, b.vp8.Stats())
	t.mu.Unlock()
}

// LayerStats describes one layer of a track as it is sent now.
type LayerStats struct {
	RID string // "q", "h" or "f"
	// Width and Height are the size the layer encodes the last frame
	// captured at.
	Width, Height int
	// Sending is false while the bit rate cannot carry the layer;
	// BitRate is its part of the track's rate.
	Sending bool
	BitRate int
	// Bound counts the senders the layer is bound to; VP8 sums their
	// encoders' counts.
	Bound int
	VP8   vp8enc.Stats
}

// LayerStats returns the track's layers as sent now, lowest first.
func (t *VideoTrack) LayerStats() []LayerStats {
	t.mu.Lock()
	sinks := t.bindings.sinks
	size := t.size
	t.mu.Unlock()
	out := make([]LayerStats, len(t.layers))
	for i, l := range t.layers {
		w, h := l.size(size.X, size.Y)
		out[i] = LayerStats{RID: l.rid, Width: w, Height: h, Sending: l.on.Load(), BitRate: int(l.rate.Load())}
		for _, b := range sinks {
			if b.layer == l {
				st := b.vp8.Stats()
				out[i].Bound++
				out[i].VP8 = addStats(out[i].VP8, st)
				out[i].VP8.BitRate = st.BitRate // the encoder's target now
			}
		}
	}
	return out
}

// FramesSent returns how many encoded frames all bindings together have
// written.
func (t *VideoTrack) FramesSent() uint64 { return t.sent.Load() }

// Size returns the size of the last captured frame (before the first: the
// size asked for).
func (t *VideoTrack) Size() image.Point {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.size
}

// Bind implements webrtc.TrackLocal: it starts a VP8 encoder of the
// full-size layer for the sender of ctx. pion calls it; callers do not.
func (t *VideoTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return t.bind(ctx, t.top())
}

// bind starts a VP8 encoder of layer l for the sender of ctx.
func (t *VideoTrack) bind(ctx webrtc.TrackLocalContext, l *videoLayer) (webrtc.RTPCodecParameters, error) {
	codecParams, ok := pickCodec(ctx.CodecParameters(), webrtc.MimeTypeVP8)
	if !ok {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: %s", ErrCodecNotNegotiated, webrtc.MimeTypeVP8)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return webrtc.RTPCodecParameters{}, ErrClosed
	}
	size := t.size
	t.mu.Unlock()

	b, err := newVideoBinding(t, l, ctx, codecParams, size)
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
	t.applyRatesLocked()
	t.mu.Unlock()
	if replaced {
		t.retire(old)
	}
	go b.write(ctx.WriteStream())
	t.log.Debug("bound", "track", t.tc.id, "layer", l.rid, "ssrc", ctx.SSRC(), "pt", codecParams.PayloadType)
	return codecParams, nil
}

// Unbind implements webrtc.TrackLocal: it stops the encoder of ctx's
// sender. pion calls it; callers do not.
func (t *VideoTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	t.mu.Lock()
	b, ok := t.bindings.remove(ctx.ID())
	t.rtcp.detach(ctx.ID())
	if ok {
		t.applyRatesLocked()
	}
	t.mu.Unlock()
	if ok {
		t.retire(b)
		t.log.Debug("unbound", "track", t.tc.id, "ssrc", ctx.SSRC())
	}
	return nil
}

// Close stops all encoders and releases the device (the camera light goes
// off). It is idempotent. pion may still call Unbind afterwards; that is
// harmless.
func (t *VideoTrack) Close() error {
	return t.close(func() {
		t.mu.Lock()
		bs := t.bindings.takeAll()
		t.mu.Unlock()
		for _, b := range bs {
			t.retire(b)
		}
		st := t.Stats()
		t.log.Info("video track closed", "captured", st.Captured, "thinned", st.Thinned, "missed", st.Missed, "replaced", st.Replaced,
			"encoded", st.Encoded, "skipped", st.Skipped, "sent", st.Sent, "encode_ms_per_frame", msPerFrame(st))
	})
}

// msPerFrame is the mean encode time per frame in milliseconds.
func msPerFrame(st VideoStats) float64 {
	if st.Encoded == 0 {
		return 0
	}
	return float64(st.EncodeTime.Microseconds()) / 1000 / float64(st.Encoded)
}
