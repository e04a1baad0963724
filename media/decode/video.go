// Package decode turns received RTP into pictures and sound: VP8 into I420
// frames in a media.FrameSlot, Opus into 48 kHz PCM behind a small jitter
// buffer.
//
// Both decoders take *rtp.Packet as TrackRemote.ReadRTP returns them. The
// video decoder copies what it keeps, so its caller may read every packet
// into the same buffer; the audio decoder keeps the packet (its payload is
// not copied): pass each packet once and do not reuse its memory.
package decode

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/confab/confab/media"
)

// Sentinel errors of package decode; match them with errors.Is.
var (
	// ErrNeedKeyFrame means frames are being dropped until a keyframe
	// arrives (at the start, after loss or after a decode error). The
	// caller should send a PLI (RFC 4585, 6.3.1), rate-limited, or let the
	// decoder do it with WithKeyFrameRequest.
	ErrNeedKeyFrame = errors.New("decode: waiting for a keyframe")
	// ErrDecode means libvpx or libopus rejected the data.
	ErrDecode = errors.New("decode: corrupt data")
	// ErrFrameTooLarge means a reassembled frame exceeds MaxFrameSize.
	ErrFrameTooLarge = errors.New("decode: frame too large")
	// ErrClosed means the decoder has been closed.
	ErrClosed = errors.New("decode: closed")
)

// MaxFrameSize is the largest VP8 frame the decoder accepts: 1 MiB, far
// above what a 4K keyframe at a call's bit rates takes.
const MaxFrameSize = 1 << 20

// Defaults of the video decoder.
const (
	DefaultMaxLatePackets      = 100
	DefaultMaxDelay            = 250 * time.Millisecond
	DefaultMaxWidth            = 3840
	DefaultMaxHeight           = 2160
	DefaultKeyFrameRequestGap  = 500 * time.Millisecond
	vp8ClockRate               = 90000
	vp8KeyFrameStartCodeOffset = 3
)

// VideoOption configures a VideoDecoder.
type VideoOption func(*videoConfig)

type videoConfig struct {
	maxW     int
	maxH     int
	maxLate  uint16
	maxDelay time.Duration
	keyReq   func()
	keyGap   time.Duration
	log      *slog.Logger
}

// WithKeyFrameRequest has the decoder call request (from the goroutine
// calling Push) whenever it needs a keyframe, at most once per gap. request
// typically writes a PLI for the track's SSRC.
func WithKeyFrameRequest(request func(), gap time.Duration) VideoOption {
	return func(c *videoConfig) { c.keyReq, c.keyGap = request, gap }
}

// WithReorder sets how many packets (at most MaxReorderPackets) and how
// much time (in RTP timestamps) the depacketizer waits for a missing
// packet before giving up on a frame. Defaults: 100 packets, 250 ms; past
// them the frame is dropped and a keyframe asked for.
func WithReorder(packets uint16, delay time.Duration) VideoOption {
	return func(c *videoConfig) { c.maxLate, c.maxDelay = packets, delay }
}

// WithMaxSize sets the largest picture accepted; keyframes announcing a
// larger one are rejected before libvpx allocates for them. Default
// 3840x2160.
func WithMaxSize(width, height int) VideoOption {
	return func(c *videoConfig) { c.maxW, c.maxH = width, height }
}

// WithVideoLogger sets the logger. Default: discard.
func WithVideoLogger(l *slog.Logger) VideoOption { return func(c *videoConfig) { c.log = l } }

// VideoStats counts what a VideoDecoder did.
type VideoStats struct {
	Packets          uint64 // RTP packets pushed
	Frames           uint64 // frames decoded into the slot
	KeyFrames        uint64 // keyframes among them
	Skipped          uint64 // frames dropped while waiting for a keyframe
	Errors           uint64 // frames libvpx rejected
	KeyFrameRequests uint64 // times a keyframe was asked for
}

// VideoDecoder reassembles VP8 frames from RTP (RFC 7741) in a
// frameAssembler, decodes them with libvpx and copies each picture, still
// I420, into a media.FrameSlot: conversion to RGBA happens only when a
// view draws the frame (media.FrameSlot.Render). Once its buffers have
// grown to the stream's frames, a packet in and a picture out allocate
// nothing.
//
// One goroutine calls Push (the track's ReadRTP loop); Stats, NeedKeyFrame
// and Close may be called from any goroutine.
type VideoDecoder struct {
	slot *media.FrameSlot
	cfg  videoConfig

	mu       sync.Mutex
	asm      *frameAssembler
	dec      *vp8Decoder
	closed   bool
	lastReq  time.Time
	needKey  atomic.Bool
	stats    VideoStats
	statsMu  sync.Mutex
	lastSize image.Point
}

// NewVideoDecoder returns a decoder that puts frames into slot.
func NewVideoDecoder(slot *media.FrameSlot, opts ...VideoOption) (*VideoDecoder, error) {
	if slot == nil {
		return nil, fmt.Errorf("decode: nil frame slot")
	}
	cfg := videoConfig{
		maxW: DefaultMaxWidth, maxH: DefaultMaxHeight,
		maxLate: DefaultMaxLatePackets, maxDelay: DefaultMaxDelay, keyGap: DefaultKeyFrameRequestGap,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	d := &VideoDecoder{slot: slot, cfg: cfg}
	d.asm = newFrameAssembler(cfg.maxLate, uint32(cfg.maxDelay.Seconds()*vp8ClockRate))
	dec, err := newVP8Decoder()
	if err != nil {
		return nil, fmt.Errorf("decode: vp8 decoder: %w", err)
	}
	d.dec = dec
	d.needKey.Store(true)
	return d, nil
}

// Push feeds one RTP packet and decodes every frame it completes. It
// returns nil, or (for the first failing frame) an error wrapping
// ErrNeedKeyFrame, ErrDecode, ErrFrameTooLarge or ErrClosed. Errors are
// per frame: keep pushing. The decoder copies what it keeps of pkt: the
// caller may reuse pkt and its payload once Push returns.
func (d *VideoDecoder) Push(pkt *rtp.Packet) error {
	if pkt == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.count(func(s *VideoStats) { s.Packets++ })
	d.asm.push(pkt)
	var first error
	for f, ok := d.asm.pop(); ok; f, ok = d.asm.pop() {
		err := d.decodeFrame(f)
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// decodeFrame decodes one reassembled frame. The caller holds mu.
func (d *VideoDecoder) decodeFrame(f asmFrame) error {
	if f.tooLarge {
		d.needKey.Store(true)
		d.requestKeyFrame()
		return fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, MaxFrameSize)
	}
	data := f.data
	if len(data) == 0 {
		if f.gap {
			d.needKey.Store(true)
		}
		return nil // nothing but descriptors
	}
	key := isKeyFrame(data)
	if f.gap && !key {
		d.needKey.Store(true)
	}
	if d.needKey.Load() && !key {
		d.count(func(s *VideoStats) { s.Skipped++ })
		d.requestKeyFrame()
		return ErrNeedKeyFrame
	}
	if key {
		if w, h := keyFrameSize(data); w == 0 || h == 0 || w > d.cfg.maxW || h > d.cfg.maxH {
			d.needKey.Store(true)
			d.count(func(s *VideoStats) { s.Errors++ })
			d.requestKeyFrame()
			return fmt.Errorf("%w: keyframe size %dx%d", ErrFrameTooLarge, w, h)
		}
	}
	size, err := d.dec.decode(data, d.slot)
	if err != nil {
		d.needKey.Store(true)
		d.count(func(s *VideoStats) { s.Errors++ })
		d.requestKeyFrame()
		return fmt.Errorf("%w: vp8: %w", ErrDecode, err)
	}
	if key {
		d.needKey.Store(false)
	}
	if size == (image.Point{}) {
		return nil // a frame that is not shown (golden/altref update)
	}
	if size != d.lastSize {
		d.cfg.log.Debug("video size", "width", size.X, "height", size.Y)
		d.lastSize = size
	}
	d.count(func(s *VideoStats) {
		s.Frames++
		if key {
			s.KeyFrames++
		}
	})
	return nil
}

// isKeyFrame reads the VP8 frame tag (RFC 6386, 9.1): bit 0 of the first
// byte is 0 for a keyframe, which then carries the start code 9d 01 2a.
func isKeyFrame(b []byte) bool {
	return len(b) >= 10 && b[0]&0x01 == 0 &&
		b[vp8KeyFrameStartCodeOffset] == 0x9d && b[4] == 0x01 && b[5] == 0x2a
}

// keyFrameSize reads a keyframe's picture size (RFC 6386, 9.1): 14 bits
// each, little-endian, after the start code; the top two bits are scaling.
func keyFrameSize(b []byte) (w, h int) {
	return int(b[6]) | int(b[7]&0x3f)<<8, int(b[8]) | int(b[9]&0x3f)<<8
}

// requestKeyFrame calls the configured request at most once per gap.
func (d *VideoDecoder) requestKeyFrame() {
	if d.cfg.keyReq == nil {
		return
	}
	now := time.Now()
	if !d.lastReq.IsZero() && now.Sub(d.lastReq) < d.cfg.keyGap {
		return
	}
	d.lastReq = now
	d.count(func(s *VideoStats) { s.KeyFrameRequests++ })
	d.cfg.keyReq()
}

func (d *VideoDecoder) count(f func(*VideoStats)) {
	d.statsMu.Lock()
	f(&d.stats)
	d.statsMu.Unlock()
}

// NeedKeyFrame reports whether the decoder is dropping frames until a
// keyframe arrives.
func (d *VideoDecoder) NeedKeyFrame() bool { return d.needKey.Load() }

// Stats returns the counters so far.
func (d *VideoDecoder) Stats() VideoStats {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	return d.stats
}

// FramesDecoded returns how many frames reached the slot.
func (d *VideoDecoder) FramesDecoded() uint64 { return d.Stats().Frames }

// Close frees the libvpx decoder. It is idempotent; Push after Close
// returns ErrClosed.
func (d *VideoDecoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	d.dec.close()
	return nil
}
