package client

import (
	"strconv"
	"time"

	"github.com/confab/confab/signaling/wire"
)

// gapFill fetches, after a rejoin, the chat messages that did not fit in
// the joined message (wire.Joined.ChatGap): it pages forward with
// history{after} and delivers them as ChatReceived, so nothing is missing
// and nothing comes twice. Guarded by Session.mu.
type gapFill struct {
	active bool
	n      int // requests made, for unique req ids
	req    string
	base   int64 // the last seq of the joined message
	next   int64 // the last seq delivered from pages
	stop   int64 // the first seq delivered live since the rejoin (0: none yet)
	live   int64 // the last seq delivered live since the rejoin
}

// seen reports whether seq was already delivered from a gap page.
func (g *gapFill) seen(seq int64) bool { return seq > g.base && seq <= g.next }

// startGapFillLocked begins fetching the gap after a joined message with
// ChatGap; it returns the request to send, if any. s.mu must be held.
func (s *Session) startGapFillLocked(j wire.Joined) *wire.HistoryRequest {
	s.gap = gapFill{n: s.gap.n}
	if !j.ChatGap || len(j.Chat) == 0 {
		return nil
	}
	last := j.Chat[len(j.Chat)-1].Seq
	s.gap.active, s.gap.base, s.gap.next = true, last, last
	s.lastSeq = last // a rejoin during the fill resumes from here
	return s.gapRequestLocked()
}

func (s *Session) gapRequestLocked() *wire.HistoryRequest {
	s.gap.n++
	s.gap.req = "gap-" + strconv.Itoa(s.gap.n)
	return &wire.HistoryRequest{Req: s.gap.req, After: s.gap.next, Limit: wire.HistoryPage}
}

// sendGapRequest sends req on the current connection.
func (s *Session) sendGapRequest(req *wire.HistoryRequest) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if req != nil && c != nil {
		c.sendMsg(wire.TypeHistory, *req)
	}
}

// historyArrived handles a history answer: a page of the gap, or a page
// the application asked for with LoadOlderChat.
func (s *Session) historyArrived(h wire.History) {
	s.mu.Lock()
	if !s.gap.active || h.Req != s.gap.req {
		s.mu.Unlock()
		s.events.push(HistoryLoaded{Messages: h.Messages, More: h.More})
		return
	}
	var deliver []ChatMessage
	for _, m := range h.Messages {
		if m.Seq <= s.gap.next || (s.gap.stop != 0 && m.Seq >= s.gap.stop) {
			continue // delivered already, or live
		}
		deliver = append(deliver, m)
		s.gap.next = m.Seq
	}
	s.lastSeq = max(s.lastSeq, s.gap.next)
	var req *wire.HistoryRequest
	if !h.More || len(h.Messages) == 0 || (s.gap.stop != 0 && s.gap.next >= s.gap.stop-1) {
		s.gap.active = false
		s.lastSeq = max(s.lastSeq, s.gap.live)
	} else {
		req = s.gapRequestLocked()
	}
	self := s.self.ID
	s.mu.Unlock()
	for _, m := range deliver {
		s.events.push(ChatReceived{Message: m, Own: m.From == self})
	}
	s.sendGapRequest(req)
}

// gapFailed retries a gap page the server refused (rate_limited,
// internal) a second later; false if ref is not the gap's request.
func (s *Session) gapFailed(ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gap.active || ref == "" || ref != s.gap.req {
		return false
	}
	n := s.gap.n
	time.AfterFunc(time.Second, func() {
		s.mu.Lock()
		var req *wire.HistoryRequest
		if s.gap.active && s.gap.n == n {
			req = s.gapRequestLocked()
		}
		s.mu.Unlock()
		s.sendGapRequest(req)
	})
	return true
}
