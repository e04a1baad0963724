package ui

import (
	"fmt"
	"strings"
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

// qualityMeter turns growing reception counts into a quality per
// participant: how much of what they send is lost on the way (RTCP-level
// loss), the round-trip time to the server, and the frame rate of their
// video. It is owned by the UI goroutine.
type qualityMeter struct {
	last      map[string]client.RemoteStats
	lastFrame map[string]time.Time // when their frame count last grew
	at        time.Time
}

func newQualityMeter() *qualityMeter {
	return &qualityMeter{last: map[string]client.RemoteStats{}, lastFrame: map[string]time.Time{}}
}

// Thresholds of the quality marks, close to what Meet and Zoom show:
// loss above a few percent is visible as freezes, above ten percent video
// falls apart; a round trip over 300 ms makes people talk over each other.
const (
	fairLoss, poorLoss = 0.03, 0.10
	fairRTT, poorRTT   = 300 * time.Millisecond, 800 * time.Millisecond
	fairFPS, poorFPS   = 8, 3
	stallAfter         = 3 * time.Second
)

// measure compares stats taken at now with the previous ones and returns
// each participant's quality and a tooltip saying why.
func (q *qualityMeter) measure(stats []client.RemoteStats, now time.Time) map[string]qualityMark {
	out := map[string]qualityMark{}
	dt := now.Sub(q.at).Seconds()
	for _, st := range stats {
		prev, seen := q.last[st.ID]
		q.last[st.ID] = st
		if st.Frames > prev.Frames || !seen {
			q.lastFrame[st.ID] = now
		}
		if !seen || q.at.IsZero() || dt <= 0 || (st.Frames == 0 && st.PacketsReceived == 0) {
			continue // nothing from them yet
		}
		out[st.ID] = grade(prev, st, dt, now.Sub(q.lastFrame[st.ID]))
	}
	q.at = now
	return out
}

// grade rates one participant from two readings dt seconds apart; stalled
// is how long their frame count has not grown.
func grade(prev, st client.RemoteStats, dt float64, stalled time.Duration) qualityMark {
	level := QualityGood
	worse := func(l Quality) {
		if l < level {
			level = l
		}
	}
	var facts []string
	// Loss over the interval, when both readings are of one connection.
	if st.Connection == prev.Connection && st.Connection != 0 {
		lost := st.PacketsLost - prev.PacketsLost
		got := int64(st.PacketsReceived) - int64(prev.PacketsReceived)
		if lost < 0 {
			lost = 0
		}
		if got >= 0 && lost+got > 0 {
			loss := float64(lost) / float64(lost+got)
			switch {
			case loss >= poorLoss:
				worse(QualityPoor)
			case loss >= fairLoss:
				worse(QualityFair)
			}
			facts = append(facts, fmt.Sprintf("%.0f%% packet loss", 100*loss))
		}
	}
	if st.RTT > 0 {
		switch {
		case st.RTT >= poorRTT:
			worse(QualityPoor)
		case st.RTT >= fairRTT:
			worse(QualityFair)
		}
		facts = append(facts, fmt.Sprintf("%d ms round trip", st.RTT.Milliseconds()))
	}
	if st.Frames > 0 {
		fps := float64(st.Frames-prev.Frames) / dt
		switch {
		case stalled >= stallAfter:
			worse(QualityPoor)
			facts = append(facts, fmt.Sprintf("no video for %d s", int(stalled.Seconds())))
		case fps < poorFPS:
			worse(QualityPoor)
			facts = append(facts, fmt.Sprintf("%.0f frames a second", fps))
		case fps < fairFPS:
			worse(QualityFair)
			facts = append(facts, fmt.Sprintf("%.0f frames a second", fps))
		default:
			facts = append(facts, fmt.Sprintf("%.0f frames a second", fps))
		}
	}
	head := map[Quality]string{QualityGood: "Good connection", QualityFair: "Fair connection", QualityPoor: "Poor connection"}[level]
	if len(facts) == 0 {
		return qualityMark{level, head}
	}
	return qualityMark{level, head + ": " + strings.Join(facts, ", ")}
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
		if t.self || t.screen {
			m = qualityMark{}
		}
		t.setQuality(m)
	}
}

// RemoteStats returns what the call counted per participant (first video
// packet, first frame decoded, ...), nil if the call counts nothing. The
// app's benchmarks read it to split a join's time.
func (cs *CallScreen) RemoteStats() []client.RemoteStats {
	if ss, ok := cs.call.(StatsSource); ok {
		return ss.Stats()
	}
	return nil
}
