package server

import (
	"math"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Publishers whose video is not simulcast send one stream to everyone, so
// that stream must fit the slowest subscriber: the server tells such a
// publisher, with REMB (draft-alvestrand-rmcat-remb), how much it may
// send. Simulcast publishers get none: the server picks a layer for each
// subscriber instead, and a cap from the slowest would starve the others.
const (
	// rembFloor is the least a publisher is told it may send.
	rembFloor = 150_000
	// rembAudio is what a subscriber's estimate is thought to carry of
	// each audio track it receives, besides the video.
	rembAudio = 40_000
)

// sendREMB tells p the bitrate its video may take, when none of its video
// is simulcast and someone receives it: the least share of a
// subscriber's downlink estimate, the estimate (less its audio) split
// evenly among the videos that subscriber receives.
func (p *peer) sendREMB() {
	r := p.room
	if r == nil {
		return
	}
	r.mu.Lock()
	var ids []string
	var ssrcs []uint32
	for _, t := range p.published {
		if t.Kind != webrtc.RTPCodecTypeVideo {
			continue
		}
		if t.Simulcast {
			r.mu.Unlock()
			return
		}
		ids = append(ids, t.ID)
		ssrcs = append(ssrcs, t.SSRC())
	}
	least := math.MaxInt
	if len(ids) > 0 && !p.left {
		for _, q := range r.peers {
			if q == p {
				continue
			}
			if share, ok := q.videoShare(ids); ok {
				least = min(least, share)
			}
		}
	}
	r.mu.Unlock()
	if least == math.MaxInt {
		return
	}
	_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
		Bitrate: float32(max(least, rembFloor)), SSRCs: ssrcs,
	}})
}

// videoShare is q's downlink estimate, less its audio, per video track it
// receives, when it receives one of the tracks ids (a paused one does not
// count: it sends nothing); r.mu is held.
func (q *peer) videoShare(ids []string) (int, bool) {
	q.negMu.Lock()
	defer q.negMu.Unlock()
	has := false
	for _, id := range ids {
		if sub := q.subs[id]; sub != nil && !sub.paused() {
			has = true
		}
	}
	if !has {
		return 0, false
	}
	videos, audio := 0, 0
	for _, sub := range q.subs {
		switch {
		case sub.paused():
		case sub.track.Kind == webrtc.RTPCodecTypeVideo:
			videos++
		default:
			audio++
		}
	}
	return (q.estimate() - audio*rembAudio) / max(videos, 1), true
}
