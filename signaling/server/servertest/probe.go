package servertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// Probe is a subscriber written from PROTOCOL.md with plain pion: it joins
// a room (receive-only), answers every offer, sends set_layer when told,
// and records, per forwarded video track, what arrives: packets, frames,
// keyframe sizes, and every break in the stream (sequence gaps, time going
// back, a layer change that is not at a keyframe). It sends TWCC feedback
// (pion's default interceptors), so the server's estimate of its link is
// real.
type Probe struct {
	t   testing.TB
	ws  *websocket.Conn
	pc  *webrtc.PeerConnection
	id  string
	wmu sync.Mutex // one writer on ws

	mu     sync.Mutex
	routes map[string]wire.TrackRef // mid -> track, latest offer
	videos map[string]*VideoStats   // by track id
	layers []wire.LayerChanged
	errs   []wire.Error
	closed bool
	wg     sync.WaitGroup
}

// VideoStats is what a Probe received on one video track.
type VideoStats struct {
	Packets   int
	Frames    int // frames completed (marker bit)
	Keyframes int
	// Width and Height are the size in the latest keyframe header.
	Width, Height int
	// Sizes lists each keyframe size change, "WxH", in order.
	Sizes []string
	// Mark is the layer letter of a SynthCamera packet ('q', 'h', 'f'),
	// 0 for other video; MarkChanges counts changes of it.
	Mark        byte
	MarkChanges int
	// Breaks in the stream as one stream: sequence numbers not one more
	// than the one before, a timestamp before the one before, a VP8
	// PictureID that does not go on by one per frame, and a change of
	// layer (Mark) at a packet that is not the start of a keyframe.
	SeqBreaks, TSBackwards, PictureIDBreaks, SwitchesOffKeyframe int
	// TSRepeats counts frames with the timestamp of the frame before (a
	// browser sometimes sends one; the SFU never makes one).
	TSRepeats int
	// Notes describe the first breaks.
	Notes       []string
	First, Last time.Time
	// FrameTimes are the arrival times of the last frames (at most 2000).
	FrameTimes []time.Time

	lastSeq, lastPID uint16
	lastTS           uint32
	media            int // packets with a payload
	lastMarker       bool
	hasPID           bool
}

// FPS is the frame rate over the last d before until.
func (v VideoStats) FPS(until time.Time, d time.Duration) float64 {
	n := 0
	for _, at := range v.FrameTimes {
		if at.After(until.Add(-d)) && !at.After(until) {
			n++
		}
	}
	return float64(n) / d.Seconds()
}

// ProbeOptions configure a Probe.
type ProbeOptions struct {
	// Loopback keeps its candidates on 127.0.0.1 (tests in one process).
	Loopback bool
	// Token admits it; empty asks the server's /api/token (open mode).
	Token string
	// NoFeedback sends no transport-wide congestion control feedback, so
	// the server's estimate of the probe's link stays at its initial
	// value (sfu.InitialEstimate): then what a test asks for decides the
	// layer, not how quickly a loaded machine lets the probe read (late
	// reads look like a congested link and, with the allocator's
	// hysteresis, kept the top layer away for over 45 s at load 11).
	NoFeedback bool
}

// NewProbe joins room on the server at base (http://host:port) as name.
func NewProbe(t testing.TB, base, room, name string, opts ProbeOptions) *Probe {
	t.Helper()
	tok := opts.Token
	if tok == "" {
		var err error
		if tok, err = openToken(base, room, name); err != nil {
			t.Fatal(err)
		}
	}
	me, ir, err := sfu.NewMediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	if opts.NoFeedback {
		if me, ir, err = noFeedbackEngine(); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	sfu.ConfigureCandidates(&se, opts.Loopback, nil)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	p := &Probe{t: t, ws: ws, pc: pc, routes: map[string]wire.TrackRef{}, videos: map[string]*VideoStats{}}
	pc.OnTrack(p.onTrack)
	p.send(wire.TypeJoin, wire.Join{Token: tok, Room: room})
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			p.Close()
			t.Fatalf("probe %s: join: %v", name, err)
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil || env.Type == wire.TypeError {
			p.Close()
			t.Fatalf("probe %s: join refused: %s %v", name, b, err)
		}
		if env.Type == wire.TypeJoined {
			var j wire.Joined
			_ = wire.DecodeData(env, &j)
			p.id = j.You.ID
			break
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	p.wg.Add(1)
	go p.readLoop()
	t.Cleanup(p.Close)
	return p
}

func openToken(base, room, name string) (string, error) {
	resp, err := http.Get(base + "/api/token?" + url.Values{"room": {room}, "name": {name}}.Encode())
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tr struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tr) != nil || tr.Token == "" {
		return "", fmt.Errorf("token: %s %s", resp.Status, b)
	}
	return tr.Token, nil
}

// ID is the probe's participant id.
func (p *Probe) ID() string { return p.id }

func (p *Probe) send(typ string, v any) {
	b, _ := wire.Encode(typ, v)
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = p.ws.WriteMessage(websocket.TextMessage, b)
}

// SetLayer sends set_layer.
func (p *Probe) SetLayer(sl wire.SetLayer) { p.send(wire.TypeSetLayer, sl) }

// Close leaves and waits for the probe's goroutines.
func (p *Probe) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.send(wire.TypeLeave, nil)
	p.ws.Close()
	p.pc.Close()
	p.wg.Wait()
}

func (p *Probe) readLoop() {
	defer p.wg.Done()
	for {
		_, b, err := p.ws.ReadMessage()
		if err != nil {
			return
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			continue
		}
		switch env.Type {
		case wire.TypeOffer:
			var o wire.Offer
			if wire.DecodeData(env, &o) == nil {
				p.answer(o)
			}
		case wire.TypeLayer:
			var lc wire.LayerChanged
			if wire.DecodeData(env, &lc) == nil {
				p.mu.Lock()
				p.layers = append(p.layers, lc)
				p.mu.Unlock()
			}
		case wire.TypeError:
			var e wire.Error
			if wire.DecodeData(env, &e) == nil {
				p.mu.Lock()
				p.errs = append(p.errs, e)
				p.mu.Unlock()
			}
		}
	}
}

func (p *Probe) answer(o wire.Offer) {
	p.mu.Lock()
	p.routes = o.Tracks
	p.mu.Unlock()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		p.failed("offer", err)
		return
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(ans)
	}
	if err != nil {
		p.failed("answer", err)
		return
	}
	select {
	case <-webrtc.GatheringCompletePromise(p.pc):
	case <-time.After(5 * time.Second):
	}
	p.send(wire.TypeAnswer, wire.Answer{SDP: p.pc.LocalDescription().SDP})
}

// failed reports a negotiation failure, unless the probe is closing.
func (p *Probe) failed(what string, err error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		p.t.Errorf("probe: %s: %v", what, err)
	}
}

func (p *Probe) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()
	mid := ""
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
		}
	}
	p.mu.Lock()
	ref, ok := p.routes[mid]
	p.mu.Unlock()
	if !ok || remote.Kind() != webrtc.RTPCodecTypeVideo {
		for {
			if _, _, err := remote.ReadRTP(); err != nil {
				return
			}
		}
	}
	id := wire.TrackID(ref.Participant, ref.Source)
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		p.mu.Lock()
		v := p.videos[id]
		if v == nil {
			v = &VideoStats{}
			p.videos[id] = v
		}
		v.add(pkt, time.Now())
		p.mu.Unlock()
	}
}

func (v *VideoStats) note(format string, args ...any) {
	if len(v.Notes) < 5 {
		v.Notes = append(v.Notes, fmt.Sprintf(format, args...))
	}
}

func (v *VideoStats) add(pkt *rtp.Packet, now time.Time) {
	var vp8 codecs.VP8Packet
	body, err := vp8.Unmarshal(pkt.Payload)
	start := err == nil && vp8.S == 1 && vp8.PID == 0
	key := start && len(body) > 0 && body[0]&1 == 0
	if len(pkt.Payload) == 0 { // padding only (a sender probing its bandwidth)
		if v.Packets > 0 && pkt.SequenceNumber != v.lastSeq+1 {
			v.SeqBreaks++
		}
		v.Packets++
		v.lastSeq = pkt.SequenceNumber
		return
	}
	if v.media == 0 {
		v.First = now
	} else {
		dt := int32(pkt.Timestamp - v.lastTS)
		if dt < 0 {
			v.TSBackwards++
			v.note("timestamp %d after %d (seq %d, keyframe %v, start %v, after marker %v)", pkt.Timestamp, v.lastTS, pkt.SequenceNumber, key, start, v.lastMarker)
		}
		if v.lastMarker && dt == 0 {
			v.TSRepeats++
		}
	}
	if v.Packets > 0 && pkt.SequenceNumber != v.lastSeq+1 {
		v.SeqBreaks++
	}
	v.media++
	if err == nil && vp8.I == 1 {
		pid := vp8.PictureID
		if v.hasPID {
			// The next frame has the next id; so does a keyframe the
			// SFU switched layers at, which may cut the frame before it
			// short (that frame is dropped by the receiver).
			want := v.lastPID
			if v.lastMarker || key {
				want++
			}
			mask := uint16(0x7f)
			if pkt.Payload[2]&0x80 != 0 { // M: a 15-bit PictureID
				mask = 0x7fff
			}
			if pid&mask != want&mask {
				v.PictureIDBreaks++
			}
		}
		v.lastPID, v.hasPID = pid, true
	}
	if key && len(body) >= 10 {
		w := int(uint16(body[6])|uint16(body[7])<<8) & 0x3fff
		h := int(uint16(body[8])|uint16(body[9])<<8) & 0x3fff
		if w != v.Width || h != v.Height {
			v.Sizes = append(v.Sizes, fmt.Sprintf("%dx%d", w, h))
		}
		v.Width, v.Height = w, h
		v.Keyframes++
	}
	if n := len(body); n > 0 {
		if m := body[n-1]; m == 'q' || m == 'h' || m == 'f' {
			if v.Mark != 0 && m != v.Mark {
				v.MarkChanges++
				if !key {
					v.SwitchesOffKeyframe++
				}
			}
			v.Mark = m
		}
	}
	if pkt.Marker {
		v.Frames++
		v.FrameTimes = append(v.FrameTimes, now)
		if len(v.FrameTimes) > 2000 {
			v.FrameTimes = v.FrameTimes[len(v.FrameTimes)-2000:]
		}
	}
	v.Packets++
	v.Last = now
	v.lastSeq, v.lastTS, v.lastMarker = pkt.SequenceNumber, pkt.Timestamp, pkt.Marker
}

// Video returns a copy of what arrived on track id (zero before any).
func (p *Probe) Video(id string) VideoStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.videos[id]; v != nil {
		c := *v
		c.Sizes = append([]string(nil), v.Sizes...)
		c.Notes = append([]string(nil), v.Notes...)
		c.FrameTimes = append([]time.Time(nil), v.FrameTimes...)
		return c
	}
	return VideoStats{}
}

// LayerMessages returns the layer messages received so far.
func (p *Probe) LayerMessages() []wire.LayerChanged {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]wire.LayerChanged(nil), p.layers...)
}

// Errors returns the error messages received so far.
func (p *Probe) Errors() []wire.Error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]wire.Error(nil), p.errs...)
}

// WaitVideo waits up to d for cond on track id's stats and fails the test
// with what says why when it does not come.
func (p *Probe) WaitVideo(id, what string, d time.Duration, cond func(VideoStats) bool) VideoStats {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		v := p.Video(id)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("probe %s: %s: not within %v; got %+v; layer messages %+v; errors %+v", p.id, what, d,
				summary(v), p.LayerMessages(), p.Errors())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func summary(v VideoStats) string {
	return fmt.Sprintf("packets %d frames %d keyframes %d size %dx%d sizes %v mark %q changes %d breaks seq %d ts %d pid %d off-keyframe %d; repeated timestamps %d; %v",
		v.Packets, v.Frames, v.Keyframes, v.Width, v.Height, v.Sizes, v.Mark, v.MarkChanges, v.SeqBreaks, v.TSBackwards, v.PictureIDBreaks, v.SwitchesOffKeyframe, v.TSRepeats, v.Notes)
}

// Summary describes v in one line, for logs.
func (v VideoStats) Summary() string { return summary(v) }

// noFeedbackEngine is sfu.NewMediaEngine's codecs with pion's default
// interceptors but the TWCC sender: no transport-cc in the answer, no
// feedback sent.
func noFeedbackEngine() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(me, ir); err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return nil, nil, err
	}
	return me, ir, nil
}
