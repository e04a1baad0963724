package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Gate is one subscriber's view of a video track that is not simulcast:
// the track's fan-out (Local) bound through a writer that the subscriber
// can pause (a hidden tile, a minimised window: PROTOCOL.md §5.1
// set_layer "paused"). While paused nothing is sent; on resuming, the
// publisher is asked for a keyframe and packets are sent again from its
// first packet on, spliced onto the stream sent before (Splicer): the
// subscriber sees one stream without a gap in sequence numbers, so it
// neither asks for the packets it did not get nor takes them as lost.
// Its methods are safe from any goroutine.
type Gate struct {
	t *Track

	mu      sync.Mutex
	paused  bool
	waitKey bool // resumed: waiting for the first packet of a keyframe
	splice  Splicer
}

// NewGate returns a gate on t, open.
func NewGate(t *Track) *Gate { return &Gate{t: t} }

// SetPaused pauses or resumes what the gate sends. Resuming asks the
// publisher for a keyframe (PLI) and sends from its first packet on.
func (g *Gate) SetPaused(paused bool) {
	g.mu.Lock()
	if g.paused == paused {
		g.mu.Unlock()
		return
	}
	g.paused = paused
	resumed := !paused
	if resumed {
		g.waitKey = true
	}
	g.mu.Unlock()
	if resumed {
		g.t.RequestKeyframe()
	}
}

// Paused reports whether the gate is paused.
func (g *Gate) Paused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// ID implements webrtc.TrackLocal.
func (g *Gate) ID() string { return g.t.Local.ID() }

// RID implements webrtc.TrackLocal.
func (g *Gate) RID() string { return g.t.Local.RID() }

// StreamID implements webrtc.TrackLocal.
func (g *Gate) StreamID() string { return g.t.Local.StreamID() }

// Kind implements webrtc.TrackLocal.
func (g *Gate) Kind() webrtc.RTPCodecType { return g.t.Local.Kind() }

// Bind implements webrtc.TrackLocal: it binds the track's fan-out with a
// writer that passes through the gate.
func (g *Gate) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return g.t.Local.Bind(&gateContext{TrackLocalContext: ctx, w: gateWriter{g: g, w: ctx.WriteStream()}})
}

// Unbind implements webrtc.TrackLocal (the fan-out tells bindings apart
// by the context's ID, which the gate's context keeps).
func (g *Gate) Unbind(ctx webrtc.TrackLocalContext) error { return g.t.Local.Unbind(ctx) }

type gateContext struct {
	webrtc.TrackLocalContext
	w gateWriter
}

// WriteStream implements webrtc.TrackLocalContext.
func (c *gateContext) WriteStream() webrtc.TrackLocalWriter { return &c.w }

type gateWriter struct {
	g *Gate
	w webrtc.TrackLocalWriter
}

// WriteRTP implements webrtc.TrackLocalWriter. The fan-out hands every
// subscriber the same header: the Splicer copies it before changing it.
func (w *gateWriter) WriteRTP(header *rtp.Header, payload []byte) (int, error) {
	return w.writeRTPAt(header, payload, time.Time{})
}

// writeRTPAt is WriteRTP at now, the fan-out's time (timedWriter; zero:
// the clock is read here).
func (w *gateWriter) writeRTPAt(header *rtp.Header, payload []byte, now time.Time) (int, error) {
	g := w.g
	g.mu.Lock()
	if g.paused {
		g.mu.Unlock()
		return len(payload), nil
	}
	if g.waitKey {
		if vi, ok := parseVP8(payload); !ok || !vi.keyframe {
			g.mu.Unlock()
			return len(payload), nil
		}
		g.waitKey = false
		g.splice.Restart()
	}
	g.mu.Unlock()
	if now.IsZero() {
		now = time.Now()
	}
	return g.splice.Write(header, payload, now, w.w.WriteRTP)
}

// origSeq maps a sequence number the gate sent back to the track's own,
// for a NACK (remapper, feedback.go); false while paused or for one from
// before the last resume.
func (w *gateWriter) origSeq(out uint16) (uint16, bool) {
	g := w.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused || g.waitKey {
		return 0, false
	}
	return g.splice.orig(out)
}

// outTS maps a track timestamp to the one the gate sends (a sender
// report's RTP time, remapper).
func (w *gateWriter) outTS(in uint32) uint32 { return w.g.splice.ts(in) }

// Write implements webrtc.TrackLocalWriter for marshalled packets.
func (w *gateWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	if _, err := w.WriteRTP(&p.Header, p.Payload); err != nil {
		return 0, err
	}
	return len(b), nil
}
