package client

import (
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// netStatsEvery is how often a connection reads its PeerConnection's
// statistics for the quality marks.
const netStatsEvery = 2 * time.Second

// connIDs numbers connections from 1.
var connIDs atomic.Uint64

// netCounters are one participant's reception totals from RTCP-level
// statistics (pion's stats interceptor, the same numbers a browser's
// getStats gives: RFC 3550 cumulative loss from sequence numbers).
// They are written by the connection's stats loop and read by Stats.
type netCounters struct {
	lost     int64  // packets lost, summed over their audio and video
	received uint64 // packets received, likewise
	conn     uint64 // which connection the totals are from
}

// watchStats reads the PeerConnection's statistics every netStatsEvery
// until the connection closes: per-participant packet loss of the media
// they send us, and the round-trip time to the server from the ICE
// candidate pair in use (STUN consent checks, RFC 7675). The conn's wait
// group waits for it.
func (c *conn) watchStats() {
	defer c.wg.Done()
	t := time.NewTicker(netStatsEvery)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.readStats()
		}
	}
}

// readStats takes one reading; no lock is held while pion gathers it.
func (c *conn) readStats() {
	report := c.pc.GetStats()
	c.routesMu.Lock()
	owner := make(map[string]string, len(c.routes))
	for mid, ref := range c.routes {
		owner[mid] = ref.Participant
	}
	c.routesMu.Unlock()

	totals := map[string]netCounters{}
	var rtt time.Duration
	for _, st := range report {
		switch v := st.(type) {
		case webrtc.InboundRTPStreamStats:
			pid, ok := owner[v.Mid]
			if !ok {
				continue
			}
			n := totals[pid]
			n.lost += int64(v.PacketsLost)
			n.received += uint64(v.PacketsReceived)
			totals[pid] = n
		case webrtc.ICECandidatePairStats:
			if v.Nominated && v.State == webrtc.StatsICECandidatePairStateSucceeded && v.CurrentRoundTripTime > 0 {
				rtt = time.Duration(v.CurrentRoundTripTime * float64(time.Second))
			}
		}
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, n := range totals {
		if ctr := s.stats[pid]; ctr != nil {
			n.conn = c.id
			ctr.net = n
		}
	}
	if rtt > 0 {
		s.rtt = rtt
	}
}
