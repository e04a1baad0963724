package capture

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
)

// opusClockRate is the RTP clock of Opus, whatever the audio's rate
// (RFC 7587, 4.1).
const opusClockRate = 48000

// audioQueue is how many chunks (20 ms each, typically) may wait for an
// encoder before the oldest is dropped.
const audioQueue = 25

// audioBinding is one Opus encoder feeding one sender.
type audioBinding struct {
	encoderRun
	t       *AudioTrack
	opus    codec.ReadCloser
	sw      *streamWriter
	extID   uint8  // negotiated RFC 6464 extension id; 0 = none
	samples uint32 // RTP timestamp increment per packet
	chunks  chan chunk

	// Writer goroutine only (Read runs inside opus.Read).
	sumSq  float64
	n      int
	resume bool // next packet starts a talkspurt: set the marker bit
}

func newAudioBinding(t *AudioTrack, ctx webrtc.TrackLocalContext, cp webrtc.RTPCodecParameters, rate int, extID uint8) (*audioBinding, error) {
	b := &audioBinding{
		t:          t,
		extID:      extID,
		samples:    uint32(time.Duration(t.params.Latency).Seconds() * opusClockRate),
		chunks:     make(chan chunk, audioQueue),
		resume:     true,
		encoderRun: newEncoderRun(&t.mu, t.log, "opus"),
	}
	enc, err := t.params.BuildAudioEncoder(b, prop.Media{
		Audio: prop.Audio{SampleRate: rate, ChannelCount: 1},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: opus encoder: %w", ErrOpen, err)
	}
	b.opus, b.enc = enc, enc
	b.sw = newStreamWriter(&t.cap.senders, ctx.ID(), uint32(ctx.SSRC()), uint8(cp.PayloadType),
		opusClockRate, &codecs.OpusPayloader{})
	return b, nil
}

// offer queues c for the encoder, dropping the oldest chunk when the
// encoder is behind. Called by the pump only; never blocks.
func (b *audioBinding) offer(c chunk) {
	for {
		select {
		case b.chunks <- c:
			return
		default:
		}
		select {
		case <-b.chunks:
		default:
		}
	}
}

// Read implements audio.Reader for the encoder and sums the energy of what
// the encoder consumes, for the packet's audio level.
func (b *audioBinding) Read() (wave.Audio, func(), error) {
	select {
	case c := <-b.chunks:
		b.sumSq += c.sumSq
		b.n += c.n
		return c.a, func() {}, nil
	case <-b.stop:
		return nil, func() {}, io.EOF
	}
}

// level returns the RFC 6464 level of the audio read since the last call.
func (b *audioBinding) level() uint8 {
	if b.n == 0 {
		return media.SilentDBov
	}
	l := media.DBov(math.Sqrt(b.sumSq / float64(b.n)))
	b.sumSq, b.n = 0, 0
	return l
}

// write is the binding's writer goroutine.
func (b *audioBinding) write(w webrtc.TrackLocalWriter) {
	defer close(b.writerDone)
	defer b.sw.save()
	for {
		data, release, err := b.opus.Read()
		if err != nil {
			select {
			case <-b.stop:
			default:
				b.t.log.Warn("opus encode failed; binding stopped", "err", err)
			}
			return
		}
		lvl := b.level()
		if release != nil {
			release()
		}
		if b.t.muted.Load() || len(data) == 0 {
			// Keep the RTP clock running through the gap (RFC 3550, 5.1).
			b.sw.pk.SkipSamples(b.samples)
			b.resume = true
			continue
		}
		pkts := b.sw.pk.Packetize(data, b.samples)
		for _, p := range pkts {
			// RFC 3551, 4.1: the marker bit flags the first packet of a
			// talkspurt, not every packet (the packetizer sets it on the
			// last packet of each payload).
			p.Marker = b.resume
			b.resume = false
			if b.extID != 0 {
				ext, err := rtp.AudioLevelExtension{Level: lvl, Voice: lvl <= b.t.voiceDB}.Marshal()
				if err == nil {
					err = p.Header.SetExtension(b.extID, ext)
				}
				if err != nil {
					b.t.log.Debug("audio level extension", "err", err)
				}
			}
		}
		ok := writePackets(w, pkts, b.t.log)
		b.sw.wrote(pkts)
		if !ok {
			return
		}
		b.t.sent.Add(uint64(len(pkts)))
	}
}

// handleRTCP implements rtcpHandler. Audio needs nothing from RTCP; reading
// it keeps pion's interceptors (reports, NACK) fed.
func (b *audioBinding) handleRTCP([]rtcp.Packet) {}
