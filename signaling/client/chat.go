package client

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/confab/confab/signaling/wire"
)

// pendingChat is a message sent and not yet confirmed by the server.
type pendingChat struct {
	text  string
	timer *time.Timer
	busy  int // times the server answered overloaded
}

// Resending after overloaded (PROTOCOL.md §5.1): up to busyRetries times,
// busyPause apart, before the message is reported as failed.
const (
	busyRetries = 5
	busyPause   = 500 * time.Millisecond
)

func newMessageID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SendChat sends text to the room and returns the message's id at once.
// The server's confirmation arrives as ChatReceived{Own: true} with that
// id; a failure as ChatFailed, after which RetryChat sends it again. Text
// that can never be sent (empty, too long) is refused here.
func (s *Session) SendChat(text string) (string, error) {
	if err := wire.ValidateChatText(text); err != nil {
		return "", err
	}
	id := newMessageID()
	s.mu.Lock()
	if s.finished || s.leaving {
		s.mu.Unlock()
		return "", ErrClosed
	}
	s.pending[id] = &pendingChat{text: text}
	s.mu.Unlock()
	s.transmit(id)
	return id, nil
}

// RetryChat sends a failed or unconfirmed message again, with the same id,
// so the server stores it once however often it is sent.
func (s *Session) RetryChat(id string) error {
	s.mu.Lock()
	_, ok := s.pending[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("client: no unsent message %q", id)
	}
	s.transmit(id)
	return nil
}

func (s *Session) transmit(id string) {
	s.mu.Lock()
	p := s.pending[id]
	c := s.conn
	if p == nil {
		s.mu.Unlock()
		return
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(s.cfg.ChatTimeout, func() { s.chatFailed(id, ErrChatTimeout) })
	text := p.text
	connected := s.state == StateConnected
	s.mu.Unlock()
	if c != nil && connected {
		c.sendMsg(wire.TypeChat, wire.ChatSend{ID: id, Text: text})
	}
}

// resendPending sends again, after a rejoin, what was not confirmed.
func (s *Session) resendPending() {
	s.mu.Lock()
	var ids []string
	for id := range s.pending {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.transmit(id)
	}
}

// chatArrived handles a stored message from the server.
func (s *Session) chatArrived(m ChatMessage) {
	s.mu.Lock()
	own := m.From == s.self.ID
	acked := false
	if p := s.pending[m.ID]; own && p != nil {
		p.timer.Stop()
		delete(s.pending, m.ID)
		acked = true
	}
	dup := s.gap.seen(m.Seq) // a gap page ran ahead of the live message
	if s.gap.active {
		// lastSeq stays where the gap fill is, so a rejoin resumes there.
		if s.gap.stop == 0 {
			s.gap.stop = m.Seq
		}
		s.gap.live = max(s.gap.live, m.Seq)
	} else {
		s.lastSeq = max(s.lastSeq, m.Seq)
	}
	s.mu.Unlock()
	if dup && !acked {
		return
	}
	s.events.push(ChatReceived{Message: m, Own: own})
}

// chatFailed reports a pending message as failed; false if id is not one.
func (s *Session) chatFailed(id string, err error) bool {
	if s.gapFailed(id) {
		return true
	}
	var we *wire.Error
	if errors.As(err, &we) && we.Code == wire.CodeOverloaded {
		s.mu.Lock()
		p := s.pending[id]
		retry := p != nil && p.busy < busyRetries
		if retry {
			p.busy++
		}
		s.mu.Unlock()
		if retry {
			time.AfterFunc(busyPause, func() { s.transmit(id) })
			return true
		}
	}
	s.mu.Lock()
	p := s.pending[id]
	if p != nil && p.timer != nil {
		p.timer.Stop()
	}
	s.mu.Unlock()
	if p == nil {
		return false
	}
	s.events.push(ChatFailed{ID: id, Err: err})
	return true
}

// LoadOlderChat asks for the page of messages before seq; the answer
// arrives as HistoryLoaded.
func (s *Session) LoadOlderChat(before int64) error {
	s.mu.Lock()
	c := s.conn
	done := s.finished
	s.mu.Unlock()
	if done || c == nil {
		return ErrClosed
	}
	c.sendMsg(wire.TypeHistory, wire.HistoryRequest{Before: before, Limit: wire.HistoryPage})
	return nil
}
