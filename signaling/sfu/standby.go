package sfu

import "time"

// Standby layers (PROTOCOL.md §5.3 publish_layers): a simulcast layer
// that no subscriber receives, or is about to, costs its publisher an
// encoder and upload for nothing. The publisher's owner asks NeededLayers
// every tick, tells a publisher that agreed to it which layers to send,
// and marks the others with SetStandby. A layer in standby stays one a
// subscriber's allocator may choose (LayerInfo.Standby): choosing it makes
// it needed again, and the publisher starts it again with a keyframe, at
// which the subscriber's DownTrack switches, as for any switch.

// standbyAfter is how long a layer must have been needed by nobody before
// it is put in standby: a subscriber whose estimate wavers between two
// layers does not make its publisher start and stop one all the time.
const standbyAfter = 5 * time.Second

// Usable reports whether a subscriber may be given the layer: it
// arrives, or it is in standby and can be asked for.
func (l LayerInfo) Usable() bool { return l.Active || l.Standby }

// noteNeed records the layers d's allocator wants and targets, and the
// one d sends, for its track's NeededLayers. It is called by the
// Allocator (under its mu).
func (d *DownTrack) noteNeed(want, target int) {
	cur, _ := d.Layer()
	var bits uint32
	for _, l := range [...]int{want, target, cur} {
		if l >= 0 && l < MaxLayers {
			bits |= 1 << l
		}
	}
	d.need.Store(bits)
}

// NeededLayers returns, as bits by layer index (bit i: layer i), the
// layers of a simulcast track its publisher should send now:
//   - every layer a subscriber's allocator wants or targets, or that a
//     subscriber receives, and every layer that was one within
//     standbyAfter;
//   - the lowest layer that has arrived, always: a new subscriber, or one
//     whose bandwidth drops, gets video at once;
//   - the top layer that has arrived while the track is tapped (a
//     recording keeps the best picture);
//   - every layer that has not arrived (yet): only what was seen is put in
//     standby.
//
// For a track that is not simulcast it returns 0.
func (t *Track) NeededLayers(now time.Time) uint32 {
	if !t.Simulcast {
		return 0
	}
	var need uint32
	for _, d := range *t.sim.downs.Load() {
		need |= d.need.Load()
	}
	var have [MaxLayers]*Layer
	for _, l := range t.sim.snapshot() {
		have[l.index] = l
	}
	lowest, top := -1, -1
	for i, l := range have {
		if l == nil {
			continue
		}
		if lowest < 0 {
			lowest = i
		}
		top = i
	}
	var out uint32
	for i, l := range have {
		if l == nil {
			out |= 1 << i
			continue
		}
		// Measured also while nobody receives the track, so that a layer
		// put in standby is known to need what it sent (SetStandby).
		l.rate.bitrate(now)
		if need&(1<<i) != 0 || i == lowest || (i == top && t.tap.p.Load() != nil) {
			l.neededAt.Store(now.UnixNano())
		}
		if now.Sub(time.Unix(0, l.neededAt.Load())) < standbyAfter {
			out |= 1 << i
		}
	}
	return out
}

// SetStandby marks the layers of standby (bits by layer index) as ones
// the publisher was asked to stop sending, and the others as ones it
// sends: a layer taken out of standby counts as usable for layerIdle
// more, the time its publisher has to start it again. A layer in standby
// is taken to need the bitrate it measured when it was put there.
func (t *Track) SetStandby(standby uint32, now time.Time) {
	for _, l := range t.sim.snapshot() {
		on := standby&(1<<l.index) != 0
		if on && !l.standby.Load() {
			l.standbyRate.Store(int64(l.rate.bitrate(now)))
		}
		if was := l.standby.Swap(on); was && !on {
			l.resumedAt.Store(now.UnixNano())
		}
	}
}
