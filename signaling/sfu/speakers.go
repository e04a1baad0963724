package sfu

import (
	"slices"
	"sync"
	"time"
)

// SpeakerDetector turns per-packet audio levels into a list of active
// speakers. Observe is called from the forwarding goroutines; Active from
// any goroutine.
type SpeakerDetector struct {
	mu     sync.Mutex
	levels map[string]*speakerLevel
	// Threshold is the smoothed loudness (0..1) above which someone speaks.
	Threshold float64
	// Hold is how long a silent speaker stays listed after the last sound.
	Hold time.Duration
}

type speakerLevel struct {
	smooth float64
	heard  time.Time
}

// NewSpeakerDetector returns a detector with a threshold of about -50 dBov.
func NewSpeakerDetector() *SpeakerDetector {
	return &SpeakerDetector{levels: make(map[string]*speakerLevel), Threshold: 0.6, Hold: 600 * time.Millisecond}
}

// Observe records one RFC 6464 level (0 = 0 dBov, 127 = -127 dBov) for id.
func (d *SpeakerDetector) Observe(id string, level uint8, now time.Time) {
	loud := float64(127-min(level, 127)) / 127
	d.mu.Lock()
	l := d.levels[id]
	if l == nil {
		l = &speakerLevel{}
		d.levels[id] = l
	}
	l.smooth = 0.8*l.smooth + 0.2*loud
	if l.smooth >= d.Threshold {
		l.heard = now
	}
	d.mu.Unlock()
}

// Forget drops id, for a participant who left.
func (d *SpeakerDetector) Forget(id string) {
	d.mu.Lock()
	delete(d.levels, id)
	d.mu.Unlock()
}

// SpeakerLevel is one active speaker.
type SpeakerLevel struct {
	ID    string
	Level float64
}

// Active returns who spoke within Hold of now, loudest first.
func (d *SpeakerDetector) Active(now time.Time) []SpeakerLevel {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []SpeakerLevel
	for id, l := range d.levels {
		if !l.heard.IsZero() && now.Sub(l.heard) <= d.Hold {
			out = append(out, SpeakerLevel{ID: id, Level: l.smooth})
		}
	}
	slices.SortFunc(out, func(a, b SpeakerLevel) int {
		switch {
		case a.Level > b.Level:
			return -1
		case a.Level < b.Level:
			return 1
		}
		return 0
	})
	return out
}
