package client

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// Simulcast publishing (PROTOCOL.md §5.3): the camera may be sent in up
// to three layers on its one m-line. Receiving: layers.go.

// SimulcastTrack is a local camera that encodes itself in several layers.
// When LocalMedia.OpenCamera returns one and the server's offer allows
// simulcast on the camera m-line, the session sends every layer on that
// m-line, each as an RTP stream with its RID; otherwise it sends the
// highest layer alone. Its own TrackLocal methods are not used for
// sending (an implementation may embed its highest layer); Close closes
// every layer.
type SimulcastTrack interface {
	LocalTrack
	// Layers returns one track per layer, the lowest resolution first, at
	// most three: each a quarter, half or the full size of the camera
	// image in each dimension (RIDs "q", "h", "f"; with two layers "h"
	// and "f"; with one "f"). Every layer must have the codec of the
	// camera m-line (VP8). Each is bound to its own RTP stream like any
	// TrackLocal, and unbound when the camera is turned off. The result
	// must not change while the track is open.
	Layers() []webrtc.TrackLocal
}

// ErrBadLayers is returned when a SimulcastTrack cannot be sent.
var ErrBadLayers = errors.New("client: simulcast layers unusable")

// layersFor returns the RIDs for n layers, lowest first, from the RIDs
// the offer receives (lowest first): the top n of them.
func layersFor(n int, offered []string) []string {
	if n > len(offered) {
		n = len(offered)
	}
	return offered[len(offered)-n:]
}

// offeredRIDs reads, for each m-line of an offer, the RIDs its
// a=simulcast:recv names, in the order the protocol ranks them (q, h, f).
func offeredRIDs(offer string) map[string][]string {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(offer) != nil {
		return nil
	}
	out := map[string][]string{}
	for _, m := range sd.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		v, ok := m.Attribute("simulcast")
		dir, list, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || dir != "recv" {
			continue
		}
		named := map[string]bool{}
		for _, r := range strings.Split(list, ";") {
			named[strings.TrimPrefix(r, "~")] = true
		}
		var rids []string
		for _, r := range wire.Layers {
			if named[r] {
				rids = append(rids, r)
			}
		}
		out[mid] = rids
	}
	return out
}

// cleanAnswer drops from an answer what pion, answering an offer that
// receives simulcast, echoes there: "a=rid:<id> recv" lines and
// "a=simulcast:recv". The answer keeps what this side sends (RFC 8853).
func cleanAnswer(s string) string {
	lines := strings.SplitAfter(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if v, ok := strings.CutPrefix(t, "a=rid:"); ok {
			if f := strings.Fields(v); len(f) > 1 && f[1] == "recv" {
				continue
			}
		}
		if strings.HasPrefix(t, "a=simulcast:recv") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// layerSlot is one RID's encoding on a simulcast sender: pion binds it
// once, for the connection, and the camera's layer track is bound to it
// (and unbound when the camera goes off, rebound when it comes back)
// through it, since pion cannot replace the tracks of a simulcast sender.
// It adds the mid and rtp-stream-id header extensions (RFC 8843, RFC
// 8852) to every packet, which pion does not, and by which the server
// tells the layers apart; and it keeps the encoding's RTP stream one
// stream when a new camera track takes over (sfu.Splicer).
type layerSlot struct {
	rid, id, streamID string
	tr                *webrtc.RTPTransceiver

	mu    sync.Mutex
	inner webrtc.TrackLocal
	ctx   *ridContext // while pion has it bound
}

func (l *layerSlot) ID() string                { return l.id }
func (l *layerSlot) RID() string               { return l.rid }
func (l *layerSlot) StreamID() string          { return l.streamID }
func (l *layerSlot) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// Bind implements webrtc.TrackLocal: it binds the current layer track.
func (l *layerSlot) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rc := newRIDContext(ctx, l.tr.Mid(), l.rid)
	l.ctx = rc
	if l.inner == nil {
		for _, c := range ctx.CodecParameters() {
			if strings.EqualFold(c.MimeType, webrtc.MimeTypeVP8) {
				return c, nil
			}
		}
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	return l.inner.Bind(rc)
}

// Unbind implements webrtc.TrackLocal.
func (l *layerSlot) Unbind(webrtc.TrackLocalContext) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if l.inner != nil && l.ctx != nil {
		err = l.inner.Unbind(l.ctx)
	}
	l.ctx = nil
	return err
}

// swap makes inner (nil: nothing) the track sent in this slot.
func (l *layerSlot) swap(inner webrtc.TrackLocal) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if inner == l.inner {
		return nil
	}
	var err error
	if l.inner != nil && l.ctx != nil {
		err = l.inner.Unbind(l.ctx)
	}
	l.inner = inner
	if l.ctx != nil {
		l.ctx.w.splice.Restart()
	}
	if inner != nil && l.ctx != nil {
		if _, berr := inner.Bind(l.ctx); berr != nil {
			err = errors.Join(err, berr)
		}
	}
	return err
}

// ridContext is a bind context whose writer adds the mid and RID header
// extensions. Its ID is the sender's and the RID: pion gives every
// encoding of a sender the sender's id, and a track that keeps state per
// bind context (the capture tracks' RTCP loops and stream positions)
// must tell the layers apart.
type ridContext struct {
	webrtc.TrackLocalContext
	w ridWriter
}

// ID implements webrtc.TrackLocalContext.
func (c *ridContext) ID() string { return c.TrackLocalContext.ID() + ":" + string(c.w.rid) }

func newRIDContext(ctx webrtc.TrackLocalContext, mid, rid string) *ridContext {
	rc := &ridContext{TrackLocalContext: ctx, w: ridWriter{w: ctx.WriteStream(), mid: []byte(mid), rid: []byte(rid)}}
	for _, e := range ctx.HeaderExtensions() {
		switch e.URI {
		case sdp.SDESMidURI:
			rc.w.midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			rc.w.ridID = uint8(e.ID)
		}
	}
	return rc
}

// WriteStream implements webrtc.TrackLocalContext.
func (c *ridContext) WriteStream() webrtc.TrackLocalWriter { return &c.w }

type ridWriter struct {
	w            webrtc.TrackLocalWriter
	midID, ridID uint8
	mid, rid     []byte
	splice       sfu.Splicer
}

// WriteRTP writes a copy of header with the extensions added, on the
// encoding's one stream.
func (w *ridWriter) WriteRTP(header *rtp.Header, payload []byte) (int, error) {
	h := *header
	h.Extensions = append(make([]rtp.Extension, 0, len(header.Extensions)+2), header.Extensions...)
	if w.midID != 0 && len(w.mid) > 0 {
		_ = h.SetExtension(w.midID, w.mid)
	}
	if w.ridID != 0 {
		_ = h.SetExtension(w.ridID, w.rid)
	}
	return w.splice.Write(&h, payload, time.Now(), w.w.WriteRTP)
}

// Write implements webrtc.TrackLocalWriter for marshalled packets.
func (w *ridWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	if _, err := w.WriteRTP(&p.Header, p.Payload); err != nil {
		return 0, err
	}
	return len(b), nil
}

// attachSimulcast makes tr send the layers of t, one encoding per RID the
// offer receives there; c.pcMu must be held.
func (c *conn) attachSimulcast(tr *webrtc.RTPTransceiver, t SimulcastTrack, source string) error {
	layers := t.Layers()
	rids := layersFor(len(layers), c.offered[tr.Mid()])
	layers = layers[len(layers)-len(rids):]
	slots := make([]*layerSlot, len(rids))
	for i, rid := range rids {
		if layers[i] == nil || layers[i].Kind() != webrtc.RTPCodecTypeVideo {
			return fmt.Errorf("%w: layer %d is not video", ErrBadLayers, i)
		}
		slots[i] = &layerSlot{rid: rid, id: layers[0].ID(), streamID: layers[0].StreamID(), tr: tr, inner: layers[i]}
	}
	// The sender is set on tr before the other encodings are added: that
	// replaces the sender's track, which pion refuses once a sender has
	// more than one encoding.
	sender, err := c.newSender(tr, slots[0])
	if err != nil {
		return err
	}
	for _, sl := range slots[1:] {
		if err := sender.AddEncoding(sl); err != nil {
			return err
		}
	}
	c.sim[source] = slots
	return nil
}

// newSender makes tr send t with a new RTPSender; c.pcMu must be held.
// The sender is made by the PeerConnection (AddTrack) when it would put
// it on tr, so that the PeerConnection's interceptors handle what it
// sends: NACK answers, sender reports, transport-wide sequence numbers
// (and with them the send estimate, bwe.go). A sender made by the API
// (API.NewRTPSender) has none of them. AddTrack takes the first
// transceiver of t's kind with no sender that the server receives on, so
// it is used only when that is tr; otherwise (a screen shared while the
// camera is off) the sender is the API's.
func (c *conn) newSender(tr *webrtc.RTPTransceiver, t webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	first := c.firstFreePublish(t.Kind())
	if first == tr {
		sender, err := c.pc.AddTrack(t)
		if err != nil {
			return nil, err
		}
		if tr.Sender() == sender {
			return sender, nil
		}
		// Not where it was expected: take it back and go the other way.
		_ = c.pc.RemoveTrack(sender)
		c.s.log.Warn("AddTrack chose another m-line", "mid", tr.Mid())
	}
	sender, err := c.s.api.NewRTPSender(t, c.pc.SCTP().Transport())
	if err != nil {
		return nil, err
	}
	return sender, tr.SetSender(sender, t)
}

// firstFreePublish returns the first transceiver of kind with no sender
// on a publish m-line (the server receives there), in the
// PeerConnection's order: the one AddTrack picks (subscriber m-lines,
// which the server sends on or made inactive, it skips).
func (c *conn) firstFreePublish(kind webrtc.RTPCodecType) *webrtc.RTPTransceiver {
	publish := map[*webrtc.RTPTransceiver]bool{}
	for _, tr := range c.slots {
		publish[tr] = true
	}
	for _, tr := range c.pc.GetTransceivers() {
		switch {
		case tr.Kind() != kind || tr.Sender() != nil:
		case publish[tr]:
			return tr
		case tr.Mid() == "":
			return nil // not negotiated: AddTrack could take it
		}
		// Any other m-line the server sends on or made inactive.
	}
	return nil
}

// replace makes the sender of tr, which exists, send t (nil: nothing)
// for source; c.pcMu must be held. A simulcast sender keeps its encodings
// and gets t's layers (a camera that is not simulcast goes to the top
// one); a plain sender gets t, or t's top layer.
func (c *conn) replace(tr *webrtc.RTPTransceiver, source string, t LocalTrack) error {
	var layers []webrtc.TrackLocal
	if st, ok := t.(SimulcastTrack); ok {
		layers = st.Layers()
	}
	slots := c.sim[source]
	if len(slots) == 0 {
		var next webrtc.TrackLocal
		switch old := tr.Sender().Track(); {
		case t != nil:
			next = t
			if n := len(layers); n > 0 {
				next = layers[n-1]
			}
		case old != nil:
			// Off: a stand-in that sends nothing keeps the stream in the
			// answers made meanwhile. With no track at all, an answer made
			// while off (someone joined) declared no stream, the server
			// stopped receiving on the m-line, and after unmuting nobody
			// heard the user.
			next = silentTrack{id: old.ID(), streamID: old.StreamID(), kind: old.Kind()}
		}
		return tr.Sender().ReplaceTrack(next)
	}
	if t != nil && len(layers) == 0 {
		layers = []webrtc.TrackLocal{t}
	}
	var err error
	for i, sl := range slots {
		var inner webrtc.TrackLocal
		if j := len(layers) - len(slots) + i; t != nil && j >= 0 {
			inner = layers[j]
		}
		err = errors.Join(err, sl.swap(inner))
	}
	return err
}

// attachLocal is attach for a source's track; it sends a SimulcastTrack's
// layers when the offer receives simulcast on tr, its top layer when not.
// c.pcMu must be held.
func (c *conn) attachLocal(tr *webrtc.RTPTransceiver, source string, t LocalTrack) error {
	st, ok := t.(SimulcastTrack)
	if !ok {
		return c.attachPlain(tr, t)
	}
	layers := st.Layers()
	switch {
	case len(layers) == 0:
		return c.attachPlain(tr, t)
	case len(c.offered[tr.Mid()]) == 0:
		return c.attachPlain(tr, layers[len(layers)-1])
	}
	return c.attachSimulcast(tr, st, source)
}

// silentTrack stands in for a source that is off: it binds to the
// sender's codec like the real track would, and writes nothing.
type silentTrack struct {
	id, streamID string
	kind         webrtc.RTPCodecType
}

func (s silentTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	if len(codecs) == 0 {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	return codecs[0], nil
}

func (silentTrack) Unbind(webrtc.TrackLocalContext) error { return nil }
func (s silentTrack) ID() string                          { return s.id }
func (silentTrack) RID() string                           { return "" }
func (s silentTrack) StreamID() string                    { return s.streamID }
func (s silentTrack) Kind() webrtc.RTPCodecType           { return s.kind }
