package sfu

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Hysteresis of the Allocator: a layer is given up at once when the
// estimate no longer holds it, and taken only after the estimate has held
// it for upHold (longer, up to maxUpHold, after a layer taken was given up
// again within failWindow: the link could not carry it).
const (
	upHold     = 3 * time.Second
	maxUpHold  = 48 * time.Second
	failWindow = 10 * time.Second
	calmAfter  = 30 * time.Second // a hold shrinks back to upHold after this long without a failure
	// keepSlack is how far over what is left of the estimate a layer
	// being sent may measure before it is given up (keyframes make a
	// layer's bitrate jump; the estimate wanders): a new layer must fit.
	keepSlack = 0.25
)

// nominalBitrate is what a layer is assumed to need until it has been
// measured: a quarter, half and full VGA camera.
var nominalBitrate = [MaxLayers]int{150_000, 500_000, 1_500_000}

// Preference is what a subscriber asked for one video track (the
// set_layer message, PROTOCOL.md §5.1).
type Preference struct {
	// Paused asks for nothing at all (a hidden tile).
	Paused bool
	// MaxLayer is the highest layer wanted (0 q, 1 h, 2 f); -1: any.
	MaxLayer int
	// Width and Height are the size the video is shown at, in pixels;
	// used when MaxLayer is -1. The layer chosen is the smallest one at
	// least this wide or this tall; 0 means no limit.
	Width, Height int
}

// DefaultPreference is the preference of a track nothing was asked for:
// the highest layer the bandwidth allows.
var DefaultPreference = Preference{MaxLayer: -1}

// allocState is the Allocator's bookkeeping for one DownTrack.
type allocState struct {
	pref     Preference
	eager    bool      // the next decision may go up without waiting (new track, new preference)
	target   int       // the layer decided
	want     int       // the layer the estimate allows now
	upSince  time.Time // since when want has been above target
	hold     time.Duration
	upAt     time.Time // when target last went up
	failedAt time.Time // when a layer taken was last given up quickly
}

// Allocator decides, for one subscriber, which layer of each simulcast
// track it receives: the highest layer each preference allows whose
// measured bitrate fits in the subscriber's bandwidth estimate, after
// what the tracks that are not simulcast take. Tick is called
// periodically by the subscriber's owner (every 500 ms); the other
// methods from any goroutine.
type Allocator struct {
	estimate func() int // bits per second; nil: unlimited

	mu      sync.Mutex
	downs   map[*DownTrack]struct{}
	fixed   map[*Track]struct{}
	lastEst int
}

// NewAllocator returns an Allocator that reads the subscriber's bandwidth
// estimate (bits per second) from estimate; nil means unlimited.
func NewAllocator(estimate func() int) *Allocator {
	return &Allocator{estimate: estimate, downs: map[*DownTrack]struct{}{}, fixed: map[*Track]struct{}{}}
}

// Add starts allocating for d, with preference pref, and decides its
// first layer at once.
func (a *Allocator) Add(d *DownTrack, pref Preference) {
	a.mu.Lock()
	d.alloc = allocState{pref: pref, eager: true, target: -1, want: -1, hold: upHold}
	a.downs[d] = struct{}{}
	a.mu.Unlock()
	a.Tick(time.Now())
}

// AddFixed counts t, a track that is not simulcast, as forwarded to the
// subscriber: its bitrate comes off the estimate first.
func (a *Allocator) AddFixed(t *Track) {
	a.mu.Lock()
	a.fixed[t] = struct{}{}
	a.mu.Unlock()
}

// Remove stops allocating for d or t.
func (a *Allocator) Remove(d *DownTrack, t *Track) {
	a.mu.Lock()
	delete(a.downs, d)
	delete(a.fixed, t)
	a.mu.Unlock()
}

// SetPreference changes what the subscriber asked for d and decides again
// at once; a higher layer asked for is taken without the usual wait when
// the estimate allows it.
func (a *Allocator) SetPreference(d *DownTrack, pref Preference) {
	a.mu.Lock()
	if _, ok := a.downs[d]; !ok {
		a.mu.Unlock()
		return
	}
	d.alloc.pref, d.alloc.eager = pref, true
	a.mu.Unlock()
	a.Tick(time.Now())
}

// Estimate is the bandwidth estimate last used, in bits per second.
func (a *Allocator) Estimate() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastEst
}

// Tick decides every DownTrack's layer again and starts the switches.
func (a *Allocator) Tick(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	est := math.MaxInt32
	if a.estimate != nil {
		est = a.estimate()
	}
	a.lastEst = est
	avail := est
	for t := range a.fixed {
		avail -= t.Bitrate(now)
	}
	type cand struct {
		d      *DownTrack
		layers [MaxLayers]LayerInfo
		cap    int // highest layer index allowed
		want   int
	}
	var cands []*cand
	for d := range a.downs {
		c := &cand{d: d, layers: d.track.Layers(), want: -1}
		st := &d.alloc
		lowest := -1
		for i, l := range c.layers {
			if l.Usable() {
				lowest = i
				break
			}
		}
		if lowest < 0 {
			continue // nothing arrives yet (or any more): leave it be
		}
		if st.pref.Paused {
			c.want, c.cap = -1, -1
		} else {
			c.cap = capFor(st.pref, &c.layers)
			c.want = lowest // always some video while it is wanted
			avail -= rateOf(&c.layers, lowest)
		}
		cands = append(cands, c)
	}
	// Go up one layer at a time, the tracks wanted largest first (a
	// pinned tile before thumbnails), while the estimate has room.
	slices.SortFunc(cands, func(x, y *cand) int {
		if x.cap != y.cap {
			return y.cap - x.cap
		}
		px, py := x.d.alloc.pref, y.d.alloc.pref
		if ax, ay := px.Width*px.Height, py.Width*py.Height; ax != ay {
			return ay - ax
		}
		switch {
		case x.d.track.ID < y.d.track.ID:
			return -1
		case x.d.track.ID > y.d.track.ID:
			return 1
		}
		return 0
	})
	for grew := true; grew; {
		grew = false
		for _, c := range cands {
			if c.want < 0 {
				continue
			}
			next := -1
			for i := c.want + 1; i <= c.cap && i < MaxLayers; i++ {
				if c.layers[i].Usable() {
					next = i
					break
				}
			}
			if next < 0 {
				continue
			}
			room := avail
			if next <= c.d.alloc.target {
				room += int(keepSlack * float64(rateOf(&c.layers, next)))
			}
			if delta := rateOf(&c.layers, next) - rateOf(&c.layers, c.want); delta <= room {
				avail -= delta
				c.want = next
				grew = true
			}
		}
	}
	for _, c := range cands {
		a.decide(c.d, c.want, c.layers, now)
	}
}

// decide applies the hysteresis to want and sets d's target.
func (a *Allocator) decide(d *DownTrack, want int, layers [MaxLayers]LayerInfo, now time.Time) {
	st := &d.alloc
	st.want = want
	target := st.target
	// The layer being sent may have stopped arriving: move off it now.
	if target >= 0 && !layers[target].Usable() {
		target = -1
	}
	eager := false
	switch {
	case want < 0:
		target = -1
	case target < 0 || st.eager:
		// A layer in standby sends nothing yet: meanwhile keep the layer
		// being sent, or start with the best one below want that arrives,
		// and take want at the first tick it arrives.
		if !layers[want].Active {
			if target < 0 {
				for i := want - 1; i >= 0 && target < 0; i-- {
					if layers[i].Active {
						target = i
					}
				}
			}
			eager = target >= 0
		}
		if !eager {
			target = want
		}
	case want < target:
		if now.Sub(st.upAt) < failWindow {
			st.failedAt = now
			st.hold = min(2*st.hold, maxUpHold)
		}
		target = want
	case want > target:
		if st.upSince.IsZero() {
			st.upSince = now
		}
		if now.Sub(st.upSince) >= st.hold {
			target = want
		}
	}
	if want <= target {
		st.upSince = time.Time{}
	}
	if !st.failedAt.IsZero() && now.Sub(st.failedAt) > calmAfter {
		st.hold, st.failedAt = upHold, time.Time{}
	}
	if target > st.target && st.target >= 0 {
		st.upAt = now
	}
	st.eager = eager
	st.target = target
	d.SetTarget(target)
	d.retry(now)
	d.noteNeed(want, target)
}

// rateOf is a layer's measured bitrate, or its nominal one until measured.
func rateOf(layers *[MaxLayers]LayerInfo, i int) int {
	if r := layers[i].Bitrate; r > 0 {
		return r
	}
	return nominalBitrate[i]
}

// capFor returns the highest layer index pref allows.
func capFor(pref Preference, layers *[MaxLayers]LayerInfo) int {
	if pref.MaxLayer >= 0 {
		return min(pref.MaxLayer, MaxLayers-1)
	}
	if pref.Width <= 0 && pref.Height <= 0 {
		return MaxLayers - 1
	}
	sizes := layerSizes(layers)
	top := -1
	for i := range MaxLayers {
		if !layers[i].Usable() {
			continue
		}
		top = i
		w, h := sizes[i][0], sizes[i][1]
		if (pref.Width > 0 && w >= pref.Width) || (pref.Height > 0 && h >= pref.Height) {
			return i
		}
	}
	if top < 0 {
		return MaxLayers - 1
	}
	return top
}

// layerSizes returns each layer's size: as measured from its keyframes,
// or else derived from a measured layer by the protocol's ratio (each
// layer twice the size of the one below), or else a VGA "f".
func layerSizes(layers *[MaxLayers]LayerInfo) [MaxLayers][2]int {
	ref, rw, rh := MaxLayers-1, 640, 480
	for i := MaxLayers - 1; i >= 0; i-- {
		if layers[i].Width > 0 && layers[i].Height > 0 {
			ref, rw, rh = i, layers[i].Width, layers[i].Height
			break
		}
	}
	var out [MaxLayers][2]int
	for i := range MaxLayers {
		if layers[i].Width > 0 && layers[i].Height > 0 {
			out[i] = [2]int{layers[i].Width, layers[i].Height}
			continue
		}
		w, h := rw, rh
		for j := ref; j < i; j++ {
			w, h = w*2, h*2
		}
		for j := ref; j > i; j-- {
			w, h = w/2, h/2
		}
		out[i] = [2]int{w, h}
	}
	return out
}
