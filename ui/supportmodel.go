package ui

import (
	"fmt"
	"slices"
	"time"

	"github.com/confab/confab/signaling/support"
)

// supportModel is what the Support view shows: the agent, the open
// conversations with their messages as far as loaded, the selection and
// the video call. It knows no widgets; the UI goroutine alone uses it.
type supportModel struct {
	agent     support.AgentInfo
	convs     map[string]*supportConv
	selected  string
	video     *support.Video
	connected bool
}

// supportConv is one conversation: its summary and its messages in seq
// order (loaded: the newest page has been fetched).
type supportConv struct {
	sum    support.Summary
	msgs   []support.Message
	loaded bool
}

func newSupportModel() *supportModel {
	return &supportModel{convs: map[string]*supportConv{}}
}

// ready starts over from a (re)connection's Ready. Messages already
// loaded are kept (a History will refresh the selected conversation).
func (m *supportModel) ready(r *support.Ready) {
	m.agent = r.Agent
	m.video = r.Video
	m.connected = true
	keep := map[string]*supportConv{}
	for _, s := range r.Conversations {
		c := m.convs[s.ID]
		if c == nil {
			c = &supportConv{}
		}
		c.sum = s
		keep[s.ID] = c
	}
	m.convs = keep
	if m.convs[m.selected] == nil {
		m.selected = ""
	}
}

// summary applies a conversation's new summary; it reports whether the
// conversation is new to the model. Closed ones leave the list.
func (m *supportModel) summary(s *support.Summary) (isNew bool) {
	if s.Status == support.StatusClosed {
		delete(m.convs, s.ID)
		if m.selected == s.ID {
			m.selected = ""
		}
		return false
	}
	c := m.convs[s.ID]
	if c == nil {
		c = &supportConv{}
		m.convs[s.ID] = c
		isNew = true
	}
	c.sum = *s
	return isNew
}

// message adds a message to its conversation, if loaded.
func (m *supportModel) message(msg *support.Message) {
	c := m.convs[msg.Conversation]
	if c == nil || !c.loaded {
		return
	}
	c.add(*msg)
}

// add puts msg in seq order, once.
func (c *supportConv) add(msg support.Message) {
	i, found := slices.BinarySearchFunc(c.msgs, msg.Seq, func(a support.Message, seq int64) int { return int(a.Seq - seq) })
	if found {
		c.msgs[i] = msg
		return
	}
	c.msgs = slices.Insert(c.msgs, i, msg)
}

// history merges a page of messages.
func (m *supportModel) history(h *support.History) {
	c := m.convs[h.Conversation]
	if c == nil {
		return
	}
	c.loaded = true
	for _, msg := range h.Messages {
		c.add(msg)
	}
}

// lastSeq is the newest seq loaded of conv.
func (m *supportModel) lastSeq(conv string) int64 {
	c := m.convs[conv]
	if c == nil {
		return 0
	}
	seq := c.sum.Last.Seq
	if n := len(c.msgs); n > 0 {
		seq = max(seq, c.msgs[n-1].Seq)
	}
	return seq
}

// order lists the conversations: those whose customer waits first, the
// longest waiting on top, then the others, the newest message first.
func (m *supportModel) order() []*supportConv {
	out := make([]*supportConv, 0, len(m.convs))
	for _, c := range m.convs {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *supportConv) int {
		aw, bw := a.sum.WaitingSince, b.sum.WaitingSince
		switch {
		case aw != 0 && bw == 0:
			return -1
		case aw == 0 && bw != 0:
			return 1
		case aw != 0 && aw != bw:
			return int(aw - bw)
		case a.sum.Last.At != b.sum.Last.At:
			return int(b.sum.Last.At - a.sum.Last.At)
		}
		if a.sum.ID < b.sum.ID {
			return -1
		}
		return 1
	})
	return out
}

// unread is the total of unread customer messages.
func (m *supportModel) unread() int {
	n := 0
	for _, c := range m.convs {
		n += c.sum.Unread
	}
	return n
}

// waitingText says how long a customer has waited, "" when not waiting.
func waitingText(since int64, now time.Time) string {
	if since == 0 {
		return ""
	}
	d := now.Sub(time.UnixMilli(since))
	switch {
	case d < time.Minute:
		return "waiting <1 min"
	case d < time.Hour:
		return fmt.Sprintf("waiting %d min", int(d/time.Minute))
	default:
		return fmt.Sprintf("waiting %dh %02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}
