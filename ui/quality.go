package ui

import (
	"fmt"
	"time"

	"github.com/confab/confab/signaling/client"
)

// StatsSource is implemented by a Call that counts what it receives from
// each participant; the call screen turns the counts into a connection
// quality mark on each tile.
type StatsSource interface {
	Stats() []client.RemoteStats
}

// Quality is how well a participant's video arrives.
type Quality int

// Quality levels; QualityUnknown shows no mark.
const (
	QualityUnknown Quality = iota
	QualityPoor
	QualityFair
	QualityGood
)

// qualityEvery is how often the call screen looks at the stats.
const qualityEvery = 2 * time.Second

// qualityMeter turns growing frame counts into a quality per participant.
// It is owned by the UI goroutine.
type qualityMeter struct {
	last      map[string]uint64
	lastFrame map[string]time.Time // when their frame count last grew
	at        time.Time
}

func newQualityMeter() *qualityMeter {
	return &qualityMeter{last: map[string]uint64{}, lastFrame: map[string]time.Time{}}
}

// measure compares stats taken at now with the previous ones and returns
// each participant's quality and a tooltip saying why.
func (q *qualityMeter) measure(stats []client.RemoteStats, now time.Time) map[string]qualityMark {
	out := map[string]qualityMark{}
	dt := now.Sub(q.at).Seconds()
	for _, st := range stats {
		prev, seen := q.last[st.ID]
		q.last[st.ID] = st.Frames
		if st.Frames > prev || !seen {
			q.lastFrame[st.ID] = now
		}
		if !seen || q.at.IsZero() || dt <= 0 {
			continue
		}
		fps := float64(st.Frames-prev) / dt
		stalled := now.Sub(q.lastFrame[st.ID])
		switch {
		case st.Frames == 0:
			continue // no video from them yet
		case stalled >= 3*time.Second:
			out[st.ID] = qualityMark{QualityPoor, fmt.Sprintf("Poor connection: no video for %d s", int(stalled.Seconds()))}
		case fps >= 8:
			out[st.ID] = qualityMark{QualityGood, fmt.Sprintf("Good connection: %.0f frames a second", fps)}
		case fps >= 3:
			out[st.ID] = qualityMark{QualityFair, fmt.Sprintf("Fair connection: %.0f frames a second", fps)}
		default:
			out[st.ID] = qualityMark{QualityPoor, fmt.Sprintf("Poor connection: %.0f frames a second", fps)}
		}
	}
	q.at = now
	return out
}

// qualityMark is a tile's quality and its tooltip.
type qualityMark struct {
	level Quality
	tip   string
}

// updateQuality reads the call's stats and marks the tiles; the video
// ticker calls it every qualityEvery.
func (cs *CallScreen) updateQuality(now time.Time) {
	ss, ok := cs.call.(StatsSource)
	if !ok || cs.detached {
		return
	}
	marks := cs.quality.measure(ss.Stats(), now)
	for _, t := range cs.order {
		m := marks[t.ParticipantID]
		if t.self || t.screen || t.cameraOff {
			m = qualityMark{}
		}
		t.setQuality(m)
	}
}
