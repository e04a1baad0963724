package decode

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"gopkg.in/hraban/opus.v2"

	"github.com/confab/confab/media"
)

// Audio output format: what ReadPCM delivers.
const (
	// SampleRate is the PCM rate of AudioDecoder output, Opus's native rate.
	SampleRate = 48000
	// Channels is the channel count of AudioDecoder output: mono. Voice
	// needs no more, and libopus downmixes stereo streams.
	Channels = 1
)

// Jitter buffer defaults.
const (
	DefaultJitterTarget = 60 * time.Millisecond
	DefaultJitterMax    = 200 * time.Millisecond
	// jitterSlots bounds the buffer: packets further ahead than this
	// restart it.
	jitterSlots = 256
	// maxFrameSamples is Opus's longest frame, 120 ms at 48 kHz.
	maxFrameSamples = 5760
	// defaultFrameSamples is 20 ms, the usual WebRTC Opus frame.
	defaultFrameSamples = 960
	// maxConcealed is how many lost frames in a row get packet loss
	// concealment before the stream goes quiet.
	maxConcealed = 5
)

// AudioOption configures an AudioDecoder.
type AudioOption func(*audioConfig)

type audioConfig struct {
	target, max time.Duration
	log         *slog.Logger
}

// WithJitter sets how much audio the jitter buffer collects before playing
// (target) and the most it holds before dropping the oldest to catch up
// (max). Defaults 60 ms and 200 ms.
func WithJitter(target, max time.Duration) AudioOption {
	return func(c *audioConfig) { c.target, c.max = target, max }
}

// WithAudioLogger sets the logger. Default: discard.
func WithAudioLogger(l *slog.Logger) AudioOption { return func(c *audioConfig) { c.log = l } }

// AudioStats counts what an AudioDecoder did.
type AudioStats struct {
	Received  uint64 // packets pushed
	Decoded   uint64 // packets decoded
	Late      uint64 // packets that came after their turn to play, dropped
	Duplicate uint64 // packets already buffered, dropped
	Lost      uint64 // packets never received when their turn came
	Concealed uint64 // frames synthesised for lost ones (FEC or PLC)
	Dropped   uint64 // packets dropped to bring the delay back to target
	Errors    uint64 // packets libopus rejected
	Underruns uint64 // times the buffer ran dry and had to refill
}

// AudioDecoder is a jitter buffer and an Opus decoder for one remote
// stream. Packets are ordered by RTP sequence number; playback starts once
// the target delay is buffered; a packet arriving after its turn is
// dropped; a missing packet is recovered from the next packet's in-band
// FEC when there is one, else concealed by libopus (PLC); when the buffer
// runs dry the stream goes silent and refills to the target.
//
// Push is called by the network goroutine (ReadRTP loop), ReadPCM by the
// playout goroutine (the mixer); they may run concurrently. Stats, Level
// and Close are safe from any goroutine.
type AudioDecoder struct {
	cfg          audioConfig
	frameSamples atomic.Int64 // samples per packet, learnt from decoding

	mu      sync.Mutex // guards the jitter buffer below
	slots   [jitterSlots]*rtp.Packet
	next    uint16 // sequence number to play next
	count   int    // packets buffered
	synced  bool   // next is meaningful
	playing bool   // target reached; playing out
	closed  bool

	// Playout goroutine only.
	dec       *opus.Decoder
	pcm       []int16
	pending   []int16
	concealed int

	level atomic.Uint64 // float64 bits, meter level of the latest frame
	stats struct {
		sync.Mutex
		AudioStats
	}
}

// NewAudioDecoder returns a decoder producing mono 48 kHz PCM.
func NewAudioDecoder(opts ...AudioOption) (*AudioDecoder, error) {
	cfg := audioConfig{target: DefaultJitterTarget, max: DefaultJitterMax}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.target < 0 || cfg.max < cfg.target {
		return nil, fmt.Errorf("decode: jitter target %v above max %v", cfg.target, cfg.max)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	dec, err := opus.NewDecoder(SampleRate, Channels)
	if err != nil {
		return nil, fmt.Errorf("decode: opus decoder: %w", err)
	}
	d := &AudioDecoder{cfg: cfg, dec: dec, pcm: make([]int16, maxFrameSamples*Channels)}
	d.frameSamples.Store(defaultFrameSamples)
	return d, nil
}

// seqBefore reports whether a comes before b in sequence-number order
// (RFC 3550, A.1 wrap-around arithmetic).
func seqBefore(a, b uint16) bool { return int16(a-b) < 0 }

// packetsFor converts a duration to a packet count at the current frame
// size.
func (d *AudioDecoder) packetsFor(t time.Duration) int {
	fs := d.frameSamples.Load()
	return int((t.Nanoseconds()*SampleRate/int64(time.Second) + fs - 1) / fs)
}

// Push adds one RTP packet to the jitter buffer; the decoder keeps pkt. It
// never blocks on decoding.
func (d *AudioDecoder) Push(pkt *rtp.Packet) {
	if pkt == nil {
		return
	}
	d.addStat(func(s *AudioStats) { s.Received++ })
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	seq := pkt.SequenceNumber
	switch {
	case !d.synced:
		d.next, d.synced = seq, true
	case seqBefore(seq, d.next):
		switch behind := uint16(d.next - seq); {
		case behind >= jitterSlots/2:
			d.resetLocked(seq) // far behind: the sender restarted
		case d.playing:
			d.addStat(func(s *AudioStats) { s.Late++ })
			return
		default:
			d.next = seq // still buffering: an earlier packet came late
		}
	case uint16(seq-d.next) >= jitterSlots:
		d.resetLocked(seq) // far ahead: a long gap, start over
	}
	i := seq % jitterSlots
	if old := d.slots[i]; old != nil {
		if old.SequenceNumber == seq {
			d.addStat(func(s *AudioStats) { s.Duplicate++ })
			return
		}
		d.count-- // a stale packet from a wrapped window
	}
	d.slots[i] = pkt
	d.count++
	// Too much delay: drop the oldest until back at the target.
	if limit := d.packetsFor(d.cfg.max); d.playing && d.count > limit {
		target := max(d.packetsFor(d.cfg.target), 1)
		for d.count > target {
			if p := d.takeLocked(); p != nil {
				d.addStat(func(s *AudioStats) { s.Dropped++ })
			}
		}
	}
}

// resetLocked empties the buffer and restarts at seq. The caller holds mu.
func (d *AudioDecoder) resetLocked(seq uint16) {
	d.slots = [jitterSlots]*rtp.Packet{}
	d.count = 0
	d.next = seq
	d.playing = false
}

// takeLocked removes and returns the packet at next (nil when missing)
// and advances next. The caller holds mu.
func (d *AudioDecoder) takeLocked() *rtp.Packet {
	i := d.next % jitterSlots
	p := d.slots[i]
	if p != nil && p.SequenceNumber == d.next {
		d.slots[i] = nil
		d.count--
	} else {
		p = nil
	}
	d.next++
	return p
}

// peekLocked returns the packet after next, if buffered. The caller
// holds mu.
func (d *AudioDecoder) peekLocked() *rtp.Packet {
	s := d.next
	p := d.slots[s%jitterSlots]
	if p != nil && p.SequenceNumber == s {
		return p
	}
	return nil
}

// ReadPCM fills dst with mono 48 kHz samples and returns how many it wrote,
// from 0 (nothing to play: not started, or run dry) to len(dst). It is
// for the playout goroutine.
func (d *AudioDecoder) ReadPCM(dst []int16) int {
	n := 0
	for n < len(dst) {
		if len(d.pending) > 0 {
			c := copy(dst[n:], d.pending)
			d.pending = d.pending[c:]
			n += c
			continue
		}
		if !d.nextFrame() {
			break
		}
	}
	return n
}

// nextFrame decodes the next frame into pending and reports whether there
// was one to play.
func (d *AudioDecoder) nextFrame() bool {
	d.mu.Lock()
	if d.closed || !d.synced {
		d.mu.Unlock()
		return false
	}
	if !d.playing {
		if d.count < max(d.packetsFor(d.cfg.target), 1) {
			d.mu.Unlock()
			return false
		}
		d.playing = true
		// Start at the oldest buffered packet.
		for d.peekLocked() == nil {
			d.next++
		}
	}
	if d.count == 0 {
		d.playing = false
		d.mu.Unlock()
		d.addStat(func(s *AudioStats) { s.Underruns++ })
		return false
	}
	p := d.takeLocked()
	var fec []byte
	if p == nil {
		if nx := d.peekLocked(); nx != nil {
			fec = nx.Payload
		}
	}
	d.mu.Unlock()

	if p != nil {
		return d.decodePacket(p.Payload)
	}
	d.addStat(func(s *AudioStats) { s.Lost++ })
	return d.conceal(fec)
}

// decodePacket decodes one packet's payload into pending.
func (d *AudioDecoder) decodePacket(payload []byte) bool {
	if len(payload) == 0 {
		return true // nothing to play for this one; move on
	}
	n, err := d.dec.Decode(payload, d.pcm)
	if err != nil || n <= 0 {
		d.addStat(func(s *AudioStats) { s.Errors++ })
		return d.conceal(nil)
	}
	d.concealed = 0
	d.frameSamples.Store(int64(n))
	d.addStat(func(s *AudioStats) { s.Decoded++ })
	d.setFrame(d.pcm[:n*Channels])
	return true
}

// conceal synthesises one lost frame: from fec (the next packet's in-band
// FEC data, RFC 7587 section 3.2) when given, else by libopus PLC. After
// maxConcealed frames in a row it plays silence instead.
func (d *AudioDecoder) conceal(fec []byte) bool {
	fs := int(d.frameSamples.Load())
	out := d.pcm[:fs*Channels]
	d.concealed++
	var err error
	switch {
	case d.concealed > maxConcealed:
		clear(out)
	case fec != nil:
		if err = d.dec.DecodeFEC(fec, out); err != nil {
			err = d.dec.DecodePLC(out)
		}
	default:
		err = d.dec.DecodePLC(out)
	}
	if err != nil {
		clear(out)
	}
	d.addStat(func(s *AudioStats) { s.Concealed++ })
	d.setFrame(out)
	return true
}

func (d *AudioDecoder) setFrame(pcm []int16) {
	d.pending = pcm
	d.level.Store(math.Float64bits(media.MeterLevel(media.RMSInt16(pcm))))
}

// Level returns the level of the last frame played, 0..1 as
// media.MeterLevel maps it, for a speaking indicator.
func (d *AudioDecoder) Level() float64 { return math.Float64frombits(d.level.Load()) }

// Stats returns the counters so far.
func (d *AudioDecoder) Stats() AudioStats {
	d.stats.Lock()
	defer d.stats.Unlock()
	return d.stats.AudioStats
}

func (d *AudioDecoder) addStat(f func(*AudioStats)) {
	d.stats.Lock()
	f(&d.stats.AudioStats)
	d.stats.Unlock()
}

// Close drops buffered packets; later Push calls are ignored and ReadPCM
// returns 0. It is idempotent. The Opus decoder is freed by the garbage
// collector (hraban/opus keeps it in Go memory).
func (d *AudioDecoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.slots = [jitterSlots]*rtp.Packet{}
	d.count = 0
	return nil
}
