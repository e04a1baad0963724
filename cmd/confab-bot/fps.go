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
	recent float64 // the rate reported with this mark
}

// minRecent is the shortest span a recent rate is measured over: the
// final report comes moments after the last interim one, and a few
// frames over a few milliseconds would read as hundreds a second.
const minRecent = 250 * time.Millisecond

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
		d := now.Sub(p.at)
		if d < minRecent && p.frames > 0 {
			return round1(overall), p.recent // too soon: keep the last rate and its mark
		}
		if d > 0 {
			recent = float64(frames-p.frames) / d.Seconds()
		}
	}
	m.prev[id] = frameMark{frames: frames, at: now, recent: round1(recent)}
	return round1(overall), round1(recent)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
