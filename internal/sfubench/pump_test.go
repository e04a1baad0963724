package sfubench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// pump sends the clip on a publisher's track, looping it, at a chosen
// frame rate; its sequence numbers and timestamps run on across calls.
type pump struct {
	track *webrtc.TrackLocalStaticRTP
	clip  []clipFrame
	seq   uint16
	ts    uint32
	next  int
	sent  atomic.Uint64 // RTP packets written
}

// run sends frames at fps until ctx ends or, with frames > 0, that many
// frames were sent. It keeps to the schedule: a late frame is sent at
// once, not skipped.
func (p *pump) run(ctx context.Context, fps float64, frames int) {
	start := time.Now()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}}
	for k := 0; frames <= 0 || k < frames; k++ {
		due := start.Add(time.Duration(float64(k) * float64(time.Second) / fps))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		f := p.clip[p.next]
		p.next = (p.next + 1) % len(p.clip)
		for i, pl := range f.payloads {
			pkt.SequenceNumber = p.seq
			pkt.Timestamp = p.ts
			pkt.Marker = i == len(f.payloads)-1
			pkt.Payload = pl
			p.seq++
			if err := p.track.WriteRTP(&pkt); err == nil {
				p.sent.Add(1)
			}
		}
		p.ts += 90000 / clipFPS
	}
}

// subscriber is one receiving participant.
type subscriber interface {
	// Packets is how many video RTP packets arrived.
	Packets() uint64
	// First is when the first one did (zero before).
	First() time.Time
	Close()
}

// counter counts the video packets of one subscriber.
type counter struct {
	n     atomic.Uint64
	first atomic.Int64
}

func (c *counter) add() {
	if c.n.Add(1) == 1 {
		c.first.Store(time.Now().UnixNano())
	}
}

func (c *counter) Packets() uint64 { return c.n.Load() }

func (c *counter) First() time.Time {
	if ns := c.first.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
