package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestStandbyLayers: a layer no subscriber needs is put in standby only
// after standbyAfter; the lowest layer never is; a subscriber whose tile
// grows wants the top layer although it is in standby (the allocator
// counts it as usable), which makes it needed again, and keeps the layer
// it has until the top layer arrives and its keyframe comes; a new
// subscriber starts with a layer that arrives; a layer
// out of standby that does not come back within layerIdle stops counting
// as usable; a tapped track keeps its top layer.
func TestStandbyLayers(t *testing.T) {
	tr := testSimTrack()
	d, _ := tr.NewDownTrack(nil)
	out := &recorder{}
	d.out = out
	a := NewAllocator(func() int { return 5_000_000 })
	a.Add(d, Preference{MaxLayer: -1, Width: 160, Height: 120})
	t0 := time.Now()
	all := uint32(0b111)
	if got := tr.NeededLayers(t0); got != all {
		t.Fatalf("at first: needed %03b, want %03b (the layers' first %v)", got, all, standbyAfter)
	}
	// The thumbnail takes q; h and f go on standby after standbyAfter.
	q, f := &layerSource{idx: 0, w: 160, h: 120}, &layerSource{idx: 2, seq: 5000, w: 640, h: 480}
	q.send(tr, true, time.Now())
	if cur, tg := d.Layer(); tg != 0 || cur != 0 {
		t.Fatalf("thumbnail: layer %d (target %d), want 0", cur, tg)
	}
	if got := tr.NeededLayers(t0.Add(standbyAfter / 2)); got != all {
		t.Fatalf("after %v: needed %03b, want %03b", standbyAfter/2, got, all)
	}
	later := t0.Add(standbyAfter + time.Second)
	if got := tr.NeededLayers(later); got != 0b001 {
		t.Fatalf("after %v: needed %03b, want 001", standbyAfter+time.Second, got)
	}
	tr.SetStandby(0b110, later)
	// They send nothing from now on: the layers go idle.
	idle := time.Now().Add(-layerIdle - time.Second).UnixNano()
	tr.sim.layers[1].last.Store(idle)
	tr.sim.layers[2].last.Store(idle)
	info := tr.Layers()
	if info[2].Active || !info[2].Standby || !info[2].Usable() {
		t.Fatalf("f in standby: %+v", info[2])
	}

	// The tile grows (a set_layer for a larger size): the allocator wants
	// f, which makes it needed again, and keeps q, the best layer that
	// arrives, until f does.
	a.SetPreference(d, Preference{MaxLayer: -1, Width: 640, Height: 480})
	if _, tg := d.Layer(); tg != 0 {
		t.Fatalf("large tile with f in standby: target %d, want 0 until f arrives", tg)
	}
	if got := tr.NeededLayers(later.Add(time.Second)); got&0b100 == 0 {
		t.Fatalf("large tile: needed %03b, want f", got)
	}
	q.send(tr, false, time.Now())
	if cur, _ := d.Layer(); cur != 0 || len(out.pkts) != 4 {
		t.Fatalf("waiting for f: sending layer %d, %d packets; want q, 4", cur, len(out.pkts))
	}
	// f starts again: the next tick takes it without the usual hold, and
	// the switch comes at its keyframe, on the same stream.
	tr.SetStandby(0b010, time.Now())
	tr.sim.layers[2].last.Store(time.Now().UnixNano())
	a.Tick(time.Now())
	if _, tg := d.Layer(); tg != 2 {
		t.Fatalf("f arriving: target %d, want 2 at once", tg)
	}
	f.send(tr, true, time.Now())
	if cur, _ := d.Layer(); cur != 2 {
		t.Fatalf("after f's keyframe: sending layer %d, want 2", cur)
	}
	if p := out.pkts[len(out.pkts)-1]; p.SequenceNumber != out.pkts[3].SequenceNumber+2 {
		t.Fatalf("switch broke the sequence: %d after %d", p.SequenceNumber, out.pkts[3].SequenceNumber)
	}

	// The tile shrinks to h, which is in standby: f goes on being sent
	// until h arrives.
	a.SetPreference(d, Preference{MaxLayer: 1})
	if _, tg := d.Layer(); tg != 2 {
		t.Fatalf("shrunk to h in standby: target %d, want 2 until h arrives", tg)
	}
	tr.SetStandby(0, time.Now())
	tr.sim.layers[1].last.Store(time.Now().UnixNano())
	a.Tick(time.Now())
	if _, tg := d.Layer(); tg != 1 {
		t.Fatalf("h arriving: target %d, want 1", tg)
	}
	tr.sim.layers[1].last.Store(idle)

	// A new subscriber while f is in standby and q arrives: video starts
	// with q at once, and f is needed.
	tr.SetStandby(0b100, time.Now())
	tr.sim.layers[2].last.Store(idle)
	d2, _ := tr.NewDownTrack(nil)
	d2.out = &recorder{}
	a2 := NewAllocator(func() int { return 5_000_000 })
	a2.Add(d2, DefaultPreference)
	if _, tg := d2.Layer(); tg != 0 {
		t.Fatalf("new subscriber with f in standby: target %d, want 0", tg)
	}
	if got := d2.need.Load(); got != 0b101 {
		t.Fatalf("new subscriber: needs %03b, want 101 (q sent, f wanted)", got)
	}
	a2.Remove(d2, nil)
	d2.Close()

	// A layer asked for again that does not come: usable for layerIdle,
	// then not.
	tr.SetStandby(0, time.Now())
	tr.sim.layers[1].resumedAt.Store(time.Now().Add(-layerIdle - time.Second).UnixNano())
	if info := tr.Layers(); info[1].Usable() {
		t.Fatalf("h asked for again %v ago and silent: %+v", layerIdle+time.Second, info[1])
	}

	// The subscriber pauses the track: only q (the lowest) stays needed,
	// unless the track is tapped: then f too.
	a.SetPreference(d, Preference{Paused: true})
	far := time.Now().Add(4 * standbyAfter)
	tr.NeededLayers(time.Now())
	if got := tr.NeededLayers(far); got != 0b001 {
		t.Fatalf("paused: needed %03b, want 001", got)
	}
	remove := tr.Tap(func(int, *rtp.Packet) {})
	if got := tr.NeededLayers(far); got != 0b101 {
		t.Fatalf("tapped: needed %03b, want 101", got)
	}
	remove()
}

// TestStandbyUnseenLayers: a layer that has never arrived is never put in
// standby (the publisher may be starting it), and a track that is not
// simulcast needs nothing.
func TestStandbyUnseenLayers(t *testing.T) {
	tr := testSimTrack()
	tr.sim.layers[2] = nil
	if got := tr.NeededLayers(time.Now().Add(2 * standbyAfter)); got != 0b101 {
		t.Fatalf("no f yet, nobody subscribed: needed %03b, want 101", got)
	}
	plain := &Track{ID: "screen:p"}
	if got := plain.NeededLayers(time.Now()); got != 0 {
		t.Fatalf("plain track: %03b", got)
	}
}
