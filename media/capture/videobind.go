package capture

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/vp8enc"
)

// rtpMTU is the largest RTP packet the tracks write, leaving room for SRTP
// and header extensions under a 1280-byte path MTU (as mediadevices does).
const rtpMTU = 1200

// videoClockRate is the RTP clock of VP8 (RFC 7741).
const videoClockRate = 90000

// frameBuffers is how many raw frames a binding owns: one being encoded,
// one queued, one being filled.
const frameBuffers = 3

// frameBuf is one raw frame copied (and scaled to the layer's size) for
// an encoder.
type frameBuf struct {
	img *image.YCbCr // 4:2:0, from media.Scaler; nil until first filled
	at  time.Time    // capture time
}

// videoBinding is one VP8 encoder of one layer feeding one sender. The
// pump offers it frames, which it scales to its layer's size; its writer
// goroutine encodes the newest, packetizes and writes; the RTCP loop and
// SetBitRate reach the encoder through its goroutine-safe ForceKeyFrame
// and SetBitRate.
type videoBinding struct {
	encoderRun
	t      *VideoTrack
	layer  *videoLayer
	vp8    *vp8enc.Encoder
	sw     *streamWriter
	scaler media.Scaler // the pump's alone
	free   chan *frameBuf
	frames chan *frameBuf
	remb   atomic.Int64 // the receiver's latest REMB, bit/s; 0 none
}

func newVideoBinding(t *VideoTrack, l *videoLayer, ctx webrtc.TrackLocalContext, cp webrtc.RTPCodecParameters, size image.Point) (*videoBinding, error) {
	b := &videoBinding{
		t:          t,
		layer:      l,
		free:       make(chan *frameBuf, frameBuffers),
		frames:     make(chan *frameBuf, 1),
		encoderRun: newEncoderRun(&t.mu, t.log, "vp8"),
	}
	for range frameBuffers {
		b.free <- &frameBuf{}
	}
	cfg := t.vp8
	cfg.Width, cfg.Height = l.size(size.X, size.Y)
	cfg.BitRate = max(vp8enc.MinBitRate, int(l.rate.Load()))
	enc, err := vp8enc.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: vp8 encoder: %w", ErrOpen, err)
	}
	b.vp8, b.enc = enc, enc
	b.sw = newStreamWriter(&t.cap.senders, ctx.ID(), uint32(ctx.SSRC()), uint8(cp.PayloadType),
		videoClockRate, &codecs.VP8Payloader{EnablePictureID: true})
	return b, nil
}

// offer copies img, scaled to the layer's size, for the encoder,
// replacing a queued frame the encoder has not taken yet; nothing while
// the layer is not sent. Called by the pump only; never blocks.
func (b *videoBinding) offer(img image.Image, at time.Time) {
	if !b.layer.on.Load() {
		return
	}
	var buf *frameBuf
	select {
	case buf = <-b.free:
	default:
		select {
		case buf = <-b.frames: // stale: the encoder is behind
			b.t.stale.Add(1)
		default:
			return
		}
	}
	r := img.Bounds()
	w, h := b.layer.size(r.Dx(), r.Dy())
	buf.img = b.scaler.Scale(buf.img, img, w, h)
	buf.at = at
	select {
	case b.frames <- buf:
	default:
		b.free <- buf
	}
}

// write is the binding's writer goroutine: it encodes each frame offered,
// newest first, until the binding stops.
func (b *videoBinding) write(w webrtc.TrackLocalWriter) {
	defer close(b.writerDone)
	defer b.sw.save()
	var prevAt time.Time
	for {
		var buf *frameBuf
		select {
		case buf = <-b.frames:
		case <-b.stop:
			return
		}
		at := buf.at
		f, err := b.vp8.Encode(buf.img, at)
		b.free <- buf // libvpx has copied the frame
		if err != nil {
			b.t.log.Warn("vp8 encode failed; binding stopped", "err", err)
			return
		}
		if len(f.Data) == 0 {
			continue // skipped by the rate control
		}
		// RTP timestamps follow the capture clock (RFC 3550, 5.1): advance
		// by the time since the previous frame, then packetize at it.
		if !prevAt.IsZero() && at.After(prevAt) {
			b.sw.pk.SkipSamples(uint32(at.Sub(prevAt).Seconds()*videoClockRate + 0.5))
		}
		prevAt = at
		pkts := b.sw.pk.Packetize(f.Data, 0)
		ok := writePackets(w, pkts, b.t.log)
		b.sw.wrote(pkts)
		if !ok {
			return
		}
		b.t.sent.Add(1)
	}
}

// writePackets writes pkts and reports whether the sender is still open.
func writePackets(w webrtc.TrackLocalWriter, pkts []*rtp.Packet, log *slog.Logger) bool {
	for _, p := range pkts {
		if _, err := w.WriteRTP(&p.Header, p.Payload); err != nil {
			if errors.Is(err, io.ErrClosedPipe) || errors.Is(err, io.EOF) {
				return false
			}
			log.Debug("write rtp", "err", err)
		}
	}
	return true
}

// handleRTCP implements rtcpHandler: PLI and FIR ask for a keyframe of
// this layer (RFC 4585 6.3.1, RFC 5104 4.3.1); REMB lowers its bit rate.
func (b *videoBinding) handleRTCP(pkts []rtcp.Packet) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			b.forceKeyFrame()
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			b.remb.Store(int64(max(MinVideoBitRate, int(p.Bitrate))))
			b.applyRate()
		}
	}
}

func (b *videoBinding) forceKeyFrame() { b.vp8.ForceKeyFrame() }

// applyRate sets the encoder to its layer's part of the budget, or the
// receiver's REMB when that is lower.
func (b *videoBinding) applyRate() {
	bps := int(b.layer.rate.Load())
	if remb := int(b.remb.Load()); remb > 0 {
		bps = min(bps, remb)
	}
	b.vp8.SetBitRate(bps)
}
