package main

import (
	"math"
	"time"
)

// fpsMeter turns the decoded-frame counts of the remote participants into
// frame rates: over the whole stay since their first frame, and since the
// previous report (the --progress interval). Only the goroutine filling
// reports uses it.
type fpsMeter struct {
	prev map[string]frameMark
}

type frameMark struct {
	frames uint64
	at     time.Time
}

// rates returns participant id's frame rates given frames decoded so far,
// the first of them decoded at first, as of now.
func (m *fpsMeter) rates(id string, frames uint64, first, now time.Time) (overall, recent float64) {
	if m.prev == nil {
		m.prev = map[string]frameMark{}
	}
	if !first.IsZero() && frames > 1 {
		if d := now.Sub(first).Seconds(); d > 0 {
			overall = float64(frames-1) / d
		}
	}
	recent = overall
	if p, ok := m.prev[id]; ok && frames >= p.frames {
		if d := now.Sub(p.at).Seconds(); d > 0 {
			recent = float64(frames-p.frames) / d
		}
	}
	m.prev[id] = frameMark{frames: frames, at: now}
	return round1(overall), round1(recent)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
