package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// vp8Packet builds a VP8 RTP payload with a 15-bit PictureID and a
// TL0PICIDX; a keyframe start carries a keyframe header of w x h.
func vp8Packet(start, key bool, picID uint16, tl0 uint8, w, h int) []byte {
	b0 := byte(0x80)
	if start {
		b0 |= 0x10
	}
	p := []byte{b0, 0x80 | 0x40 | 0x20, 0x80 | byte(picID>>8), byte(picID), tl0, 0x00}
	if !start {
		return append(p, 0xaa, 0xbb, 0xcc)
	}
	tag := byte(0x01) // inter frame
	if key {
		tag = 0x00
	}
	p = append(p, tag|0x10, 0x02, 0x00)
	if key {
		p = append(p, 0x9d, 0x01, 0x2a, byte(w), byte(w>>8), byte(h), byte(h>>8))
	}
	return append(p, 0x11, 0x22, 0x33)
}

func TestParseVP8(t *testing.T) {
	p := vp8Packet(true, true, 0x1234, 7, 640, 480)
	vi, ok := parseVP8(p)
	if !ok || !vi.start || !vi.keyframe || vi.width != 640 || vi.height != 480 {
		t.Fatalf("keyframe start: %+v ok=%v", vi, ok)
	}
	if got := vi.pictureID(p); got != 0x1234 || p[vi.tl0] != 7 {
		t.Fatalf("picture id %#x tl0 %d", got, p[vi.tl0])
	}
	vi.setPictureID(p, 0x7fff)
	if got := vi.pictureID(p); got != 0x7fff {
		t.Fatalf("set picture id: %#x", got)
	}
	if vi, _ := parseVP8(vp8Packet(true, false, 1, 1, 0, 0)); !vi.start || vi.keyframe {
		t.Fatalf("delta frame start: %+v", vi)
	}
	if vi, _ := parseVP8(vp8Packet(false, false, 1, 1, 0, 0)); vi.start || vi.keyframe {
		t.Fatalf("continuation: %+v", vi)
	}
	for _, short := range [][]byte{nil, {0x80}, {0x80, 0x80}, {0x80, 0xc0, 0x81}} {
		if _, ok := parseVP8(short); ok {
			t.Errorf("%x parsed", short)
		}
	}
	// No descriptor extension at all: nothing to rewrite.
	if vi, ok := parseVP8([]byte{0x10, 0x00, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}); !ok || !vi.keyframe || vi.width != 320 || vi.height != 240 || vi.picID != -1 {
		t.Fatalf("plain keyframe: %+v", vi)
	}
}

type recorder struct {
	mu   sync.Mutex
	pkts []rtp.Packet
}

func (r *recorder) WriteRTP(p *rtp.Packet) error {
	c := *p
	c.Payload = append([]byte(nil), p.Payload...)
	r.mu.Lock()
	r.pkts = append(r.pkts, c)
	r.mu.Unlock()
	return nil
}

// testSimTrack is a simulcast track with three layers and no PeerConnection.
func testSimTrack() *Track {
	t := &Track{ID: "camera:p", Publisher: "p", Kind: webrtc.RTPCodecTypeVideo, Simulcast: true, stats: &Stats{}, done: make(chan struct{})}
	empty := []*DownTrack{}
	t.sim.downs.Store(&empty)
	for i := range MaxLayers {
		l := &Layer{index: i, ssrc: uint32(100 + i)}
		l.last.Store(time.Now().UnixNano())
		l.neededAt.Store(time.Now().UnixNano())
		t.sim.layers[i] = l
	}
	return t
}

// layerSource writes frames of one layer: its own sequence numbers,
// timestamps and picture ids, as a publisher's encoder does.
type layerSource struct {
	idx   int
	seq   uint16
	ts    uint32
	pid   uint16
	tl0   uint8
	w, h  int
	frame int
}

// frame sends one frame of two packets to the track's down tracks.
func (s *layerSource) send(t *Track, key bool, now time.Time) {
	s.frame++
	for i := range 2 {
		p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: s.seq, Timestamp: s.ts, PayloadType: 96, Marker: i == 1}}
		p.Payload = vp8Packet(i == 0, key, s.pid, s.tl0, s.w, s.h)
		vi, _ := parseVP8(p.Payload)
		for _, d := range *t.sim.downs.Load() {
			d.write(s.idx, &p, &vi, now)
		}
		s.seq++
	}
	s.ts += 3000
	s.pid = (s.pid + 1) & 0x7fff
	s.tl0++
}

// TestDownTrackSwitchesAtKeyframe: a down track switches layers only at a
// keyframe of the target layer and its output stays one stream: sequence
// numbers without a gap, timestamps and picture ids moving forward.
func TestDownTrackSwitchesAtKeyframe(t *testing.T) {
	tr := testSimTrack()
	var events []int
	d, err := tr.NewDownTrack(func(layer, w, h int) { events = append(events, layer) })
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	d.out = rec
	q := &layerSource{idx: 0, seq: 60000, ts: 1 << 31, pid: 32760, tl0: 250, w: 160, h: 120}
	f := &layerSource{idx: 2, seq: 100, ts: 5000, pid: 10, tl0: 3, w: 640, h: 480}
	now := time.Now()
	step := func(qKey, fKey bool) {
		now = now.Add(33 * time.Millisecond)
		q.send(tr, qKey, now)
		f.send(tr, fKey, now)
	}
	d.SetTarget(0)
	step(false, false) // no keyframe of q yet: nothing is sent
	if len(rec.pkts) != 0 {
		t.Fatalf("%d packets sent before a keyframe", len(rec.pkts))
	}
	step(true, false)
	for range 20 {
		step(false, false)
	}
	d.SetTarget(2)
	step(false, false) // f has no keyframe yet: q goes on
	if cur, _ := d.Layer(); cur != 0 {
		t.Fatalf("switched to %d before f's keyframe", cur)
	}
	nq := len(rec.pkts)
	step(false, true)
	for range 10 {
		step(false, false)
	}
	d.SetTarget(0)
	step(false, false)
	step(true, false)
	for range 5 {
		step(false, false)
	}
	if got := []int{0, 2, 0}; len(events) != 3 || events[0] != got[0] || events[1] != got[1] || events[2] != got[2] {
		t.Fatalf("switch events %v, want %v", events, got)
	}
	pk := rec.pkts
	if len(pk) <= nq {
		t.Fatalf("nothing sent after the switch to f")
	}
	for i := 1; i < len(pk); i++ {
		a, b := pk[i-1], pk[i]
		if b.SequenceNumber != a.SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, b.SequenceNumber, a.SequenceNumber)
		}
		if dt := int32(b.Timestamp - a.Timestamp); dt < 0 || (a.Marker && dt == 0) {
			t.Fatalf("packet %d: timestamp %d after %d", i, b.Timestamp, a.Timestamp)
		}
		va, _ := parseVP8(a.Payload)
		vb, _ := parseVP8(b.Payload)
		pa, pb := va.pictureID(a.Payload), vb.pictureID(b.Payload)
		want := pa
		if a.Marker {
			want = (pa + 1) & 0x7fff
		}
		if pb != want {
			t.Fatalf("packet %d: picture id %d after %d", i, pb, pa)
		}
		ta, tb := a.Payload[va.tl0], b.Payload[vb.tl0]
		if a.Marker && tb != ta+1 || !a.Marker && tb != ta {
			t.Fatalf("packet %d: tl0picidx %d after %d", i, tb, ta)
		}
	}
	// The output switched at keyframes only: the first packet and the
	// first of each new layer are keyframe starts of the right size.
	sizes := []int{}
	for _, p := range pk {
		if vi, _ := parseVP8(p.Payload); vi.keyframe {
			sizes = append(sizes, vi.width)
		}
	}
	if len(sizes) != 3 || sizes[0] != 160 || sizes[1] != 640 || sizes[2] != 160 {
		t.Fatalf("keyframe widths sent %v, want [160 640 160]", sizes)
	}
	// Pausing stops at once; nothing more is sent.
	d.SetTarget(-1)
	n := len(rec.pkts)
	step(true, true)
	if len(rec.pkts) != n || events[len(events)-1] != -1 {
		t.Fatalf("sent %d packets while paused; events %v", len(rec.pkts)-n, events)
	}
}

// TestDownTrackDropsLateOldPackets: a packet of the new layer from before
// the keyframe switched at (reordered on the way) is not sent: it would
// take a sequence number of the old layer.
func TestDownTrackDropsLateOldPackets(t *testing.T) {
	tr := testSimTrack()
	d, _ := tr.NewDownTrack(nil)
	rec := &recorder{}
	d.out = rec
	d.SetTarget(1)
	now := time.Now()
	key := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 10, Timestamp: 1000}, Payload: vp8Packet(true, true, 5, 1, 320, 240)}
	late := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 9, Timestamp: 900}, Payload: vp8Packet(false, false, 4, 0, 0, 0)}
	for _, p := range []*rtp.Packet{&key, &late} {
		vi, _ := parseVP8(p.Payload)
		d.write(1, p, &vi, now)
	}
	if len(rec.pkts) != 1 {
		t.Fatalf("%d packets sent, want the keyframe only", len(rec.pkts))
	}
}

func TestCapFor(t *testing.T) {
	var layers [MaxLayers]LayerInfo
	for i, s := range [][2]int{{160, 120}, {320, 240}, {640, 480}} {
		layers[i] = LayerInfo{Present: true, Active: true, Width: s[0], Height: s[1]}
	}
	for _, c := range []struct {
		pref Preference
		want int
	}{
		{DefaultPreference, 2},
		{Preference{MaxLayer: 0}, 0},
		{Preference{MaxLayer: 1}, 1},
		{Preference{MaxLayer: -1, Width: 160, Height: 90}, 0},
		{Preference{MaxLayer: -1, Width: 200, Height: 150}, 1},
		{Preference{MaxLayer: -1, Width: 1920, Height: 1080}, 2},
		{Preference{MaxLayer: -1, Width: 300, Height: 100}, 0}, // shown letterboxed at 133x100
		{Preference{MaxLayer: -1, Width: 300, Height: 230}, 1}, // shown at 300x225
		{Preference{MaxLayer: -1, Height: 400}, 2},
	} {
		if got := capFor(c.pref, &layers); got != c.want {
			t.Errorf("%+v: layer %d, want %d", c.pref, got, c.want)
		}
	}
	// Sizes not seen yet follow from the protocol's ratios.
	layers[0].Width, layers[0].Height, layers[1].Width, layers[1].Height = 0, 0, 0, 0
	if got := capFor(Preference{MaxLayer: -1, Width: 300, Height: 200}, &layers); got != 1 {
		t.Errorf("derived sizes: layer %d, want 1", got)
	}
}

// TestAllocatorHysteresis: the estimate moves a down track down at once
// and up only after it has held for upHold; a request for a smaller size
// moves it down at once, for a larger one up at once when it fits.
func TestAllocatorHysteresis(t *testing.T) {
	tr := testSimTrack()
	d, _ := tr.NewDownTrack(nil)
	d.out = &recorder{}
	est := 2_000_000
	a := NewAllocator(func() int { return est })
	a.Add(d, DefaultPreference)
	target := func() int { _, tg := d.Layer(); return tg }
	if got := target(); got != 2 {
		t.Fatalf("first layer %d, want 2 (nominal rates fit 2 Mbit/s)", got)
	}
	now := time.Now()
	est = 300_000
	a.Tick(now)
	if got := target(); got != 0 {
		t.Fatalf("at 300 kbit/s: layer %d, want 0", got)
	}
	est = 3_000_000
	for i := range 5 { // 2 s: not yet
		a.Tick(now.Add(time.Duration(i) * 500 * time.Millisecond))
	}
	if got := target(); got != 0 {
		t.Fatalf("went up to %d within 2 s", got)
	}
	a.Tick(now.Add(upHold + time.Second))
	// A failure (down within failWindow of an up) doubles the hold.
	if got := target(); got != 2 {
		t.Fatalf("after the hold: layer %d, want 2", got)
	}
	now = now.Add(upHold + 2*time.Second)
	est = 300_000
	a.Tick(now)
	est = 3_000_000
	a.Tick(now.Add(time.Second))
	a.Tick(now.Add(time.Second + upHold + 100*time.Millisecond))
	if got := target(); got != 0 {
		t.Fatalf("went up again after %v although the last try failed", upHold)
	}
	a.Tick(now.Add(time.Second + 2*upHold + time.Second))
	if got := target(); got != 2 {
		t.Fatalf("after the doubled hold: layer %d, want 2", got)
	}
	a.SetPreference(d, Preference{MaxLayer: -1, Width: 160, Height: 120})
	if got := target(); got != 0 {
		t.Fatalf("thumbnail: layer %d, want 0", got)
	}
	a.SetPreference(d, Preference{MaxLayer: -1, Width: 1280, Height: 720})
	if got := target(); got != 2 {
		t.Fatalf("pinned: layer %d, want 2 at once", got)
	}
	a.SetPreference(d, Preference{Paused: true})
	if got := target(); got != -1 {
		t.Fatalf("paused: layer %d", got)
	}
}

// TestAllocatorSharesTheEstimate: two tracks, one pinned and one a
// thumbnail, share what the estimate allows; the pinned one gets the
// larger layer.
func TestAllocatorSharesTheEstimate(t *testing.T) {
	a1, a2 := testSimTrack(), testSimTrack()
	a2.ID = "camera:z"
	d1, _ := a1.NewDownTrack(nil)
	d2, _ := a2.NewDownTrack(nil)
	d1.out, d2.out = &recorder{}, &recorder{}
	a := NewAllocator(func() int { return 1_000_000 })
	a.Add(d1, Preference{MaxLayer: -1, Width: 200, Height: 150})
	a.Add(d2, Preference{MaxLayer: -1, Width: 1280, Height: 720})
	a.Tick(time.Now())
	_, t1 := d1.Layer()
	_, t2 := d2.Layer()
	// 1 Mbit/s: q 150k for both, then h for the pinned one (+350k) and
	// the thumbnail (+350k) leave 150k: not enough for f.
	if t1 != 1 || t2 != 1 {
		t.Fatalf("layers %d (thumbnail) and %d (pinned), want 1 and 1", t1, t2)
	}
	a3 := NewAllocator(func() int { return 2_000_000 })
	d1.Close()
	d1, _ = a1.NewDownTrack(nil)
	d2b, _ := a2.NewDownTrack(nil)
	d1.out, d2b.out = &recorder{}, &recorder{}
	a3.Add(d1, Preference{MaxLayer: -1, Width: 200, Height: 150})
	a3.Add(d2b, Preference{MaxLayer: -1, Width: 1280, Height: 720})
	a3.Tick(time.Now())
	_, t1 = d1.Layer()
	_, t2 = d2b.Layer()
	if t1 != 1 || t2 != 2 {
		t.Fatalf("at 2 Mbit/s: layers %d (thumbnail) and %d (pinned), want 1 and 2", t1, t2)
	}
}

// TestDownTrackLayerStartsOver: when the layer being sent starts over
// with new sequence numbers, timestamps and picture ids (a pion publisher
// swapped in a new camera track), the down track waits for its keyframe
// and goes on from there on the same stream, with no layer message.
func TestDownTrackLayerStartsOver(t *testing.T) {
	tr := testSimTrack()
	var events []int
	d, _ := tr.NewDownTrack(func(layer, w, h int) { events = append(events, layer) })
	rec := &recorder{}
	d.out = rec
	d.SetTarget(0)
	now := time.Now()
	a := &layerSource{idx: 0, seq: 100, ts: 1000, pid: 7, tl0: 1, w: 160, h: 120}
	for i := range 10 {
		now = now.Add(66 * time.Millisecond)
		a.send(tr, i == 0, now)
	}
	b := &layerSource{idx: 0, seq: 40000, ts: 77, pid: 30000, tl0: 200, w: 160, h: 120}
	for i := range 10 {
		now = now.Add(66 * time.Millisecond)
		b.send(tr, i == 5, now)
	}
	pk := rec.pkts
	if len(pk) != 2*10+2*5 {
		t.Fatalf("%d packets sent, want 20 of the old numbering and 10 from the keyframe of the new", len(pk))
	}
	for i := 1; i < len(pk); i++ {
		if pk[i].SequenceNumber != pk[i-1].SequenceNumber+1 || int32(pk[i].Timestamp-pk[i-1].Timestamp) < 0 {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, pk[i].SequenceNumber, pk[i].Timestamp, pk[i-1].SequenceNumber, pk[i-1].Timestamp)
		}
	}
	va, _ := parseVP8(pk[19].Payload)
	vb, _ := parseVP8(pk[20].Payload)
	if !vb.keyframe || vb.pictureID(pk[20].Payload) != va.pictureID(pk[19].Payload)+1 {
		t.Fatalf("after the restart: keyframe %v, picture id %d after %d", vb.keyframe, vb.pictureID(pk[20].Payload), va.pictureID(pk[19].Payload))
	}
	if len(events) != 1 {
		t.Fatalf("layer events %v, want one", events)
	}
}

// TestSplicer: a stream whose source restarts with new numbering goes on
// from where it was: sequence numbers, timestamps and picture ids.
func TestSplicer(t *testing.T) {
	var s Splicer
	var out []rtp.Packet
	send := func(h *rtp.Header, p []byte) (int, error) {
		out = append(out, rtp.Packet{Header: *h, Payload: append([]byte(nil), p...)})
		return len(p), nil
	}
	now := time.Now()
	emit := func(src *layerSource, frames int, keyFirst bool) {
		for i := range frames {
			now = now.Add(66 * time.Millisecond)
			for j := range 2 {
				h := rtp.Header{Version: 2, SequenceNumber: src.seq, Timestamp: src.ts, Marker: j == 1}
				p := vp8Packet(j == 0, keyFirst && i == 0, src.pid, src.tl0, 320, 240)
				if _, err := s.Write(&h, p, now, send); err != nil {
					t.Fatal(err)
				}
				src.seq++
			}
			src.ts += 6000
			src.pid = (src.pid + 1) & 0x7fff
			src.tl0++
		}
	}
	emit(&layerSource{seq: 65000, ts: 10, pid: 32000, tl0: 9}, 5, true)
	s.Restart()
	emit(&layerSource{seq: 3, ts: 999999, pid: 4, tl0: 200}, 5, true)
	for i := 1; i < len(out); i++ {
		a, b := out[i-1], out[i]
		va, _ := parseVP8(a.Payload)
		vb, _ := parseVP8(b.Payload)
		wantPID := va.pictureID(a.Payload)
		if a.Marker {
			wantPID = (wantPID + 1) & 0x7fff
		}
		if b.SequenceNumber != a.SequenceNumber+1 || int32(b.Timestamp-a.Timestamp) < 0 || vb.pictureID(b.Payload) != wantPID {
			t.Fatalf("packet %d: seq %d ts %d pid %d after seq %d ts %d pid %d", i, b.SequenceNumber, b.Timestamp,
				vb.pictureID(b.Payload), a.SequenceNumber, a.Timestamp, va.pictureID(a.Payload))
		}
	}
}
