package ui

import (
	"sort"

	"github.com/confab/confab/signaling/client"
)

// SendState is where one of your own chat messages is.
type SendState int

// Send states of a chat message. Other people's messages are always Sent.
const (
	Sent SendState = iota
	Sending
	Failed
)

// String names the state as the chat panel shows it.
func (s SendState) String() string {
	switch s {
	case Sending:
		return "Sending…"
	case Failed:
		return "Not sent"
	}
	return "Sent"
}

// ChatItem is one message in the chat panel.
type ChatItem struct {
	// Seq is the server's sequence number, 0 while not stored yet.
	Seq int64
	// ID is the sender's message id.
	ID string
	// From and Name are the sender's id and display name.
	From, Name string
	// Text is the message exactly as typed.
	Text string
	// At is the time in Unix milliseconds.
	At int64
	// Own is true for your own messages.
	Own bool
	// State is Sending or Failed for own messages not yet stored.
	State SendState
}

// chatModel is the chat history without widgets: stored messages ordered
// by sequence number without duplicates, followed by your messages not yet
// stored in the order you sent them. It is owned by the UI goroutine.
type chatModel struct {
	selfID    string
	pastIDs   map[string]bool // the user's identities in earlier calls
	confirmed []*ChatItem
	pending   []*ChatItem
	more      bool // older messages exist before the first stored one
	loading   bool // a LoadOlderChat request is outstanding
}

// items returns every message in display order.
func (m *chatModel) items() []*ChatItem {
	out := make([]*ChatItem, 0, len(m.confirmed)+len(m.pending))
	out = append(out, m.confirmed...)
	return append(out, m.pending...)
}

// addPending records a message you just sent.
func (m *chatModel) addPending(id, text string, at int64) *ChatItem {
	if it := m.findOwn(id); it != nil {
		return it // already confirmed or pending: the ack outran us
	}
	it := &ChatItem{ID: id, From: m.selfID, Name: "You", Text: text, At: at, Own: true, State: Sending}
	m.pending = append(m.pending, it)
	return it
}

// findOwn returns your message with id, stored or not.
func (m *chatModel) findOwn(id string) *ChatItem {
	for _, it := range m.pending {
		if it.ID == id {
			return it
		}
	}
	for i := len(m.confirmed) - 1; i >= 0; i-- {
		if it := m.confirmed[i]; it.Own && it.ID == id {
			return it
		}
	}
	return nil
}

// receive adds a stored message. For your own message it turns the
// pending entry into a sent one. It reports whether the message was new
// to the panel (false for a duplicate or an acknowledgement).
func (m *chatModel) receive(msg client.ChatMessage, own bool) bool {
	own = own || m.isSelf(msg.From)
	if own {
		for i, it := range m.pending {
			if it.ID == msg.ID {
				m.pending = append(m.pending[:i], m.pending[i+1:]...)
				it.Seq, it.At, it.State = msg.Seq, msg.At, Sent
				if msg.Name != "" {
					it.Name = msg.Name
				}
				m.insert(it)
				return false
			}
		}
	}
	if i, ok := m.find(msg.Seq); ok {
		if own {
			m.confirmed[i].Own = true
		}
		return false
	}
	m.insert(&ChatItem{Seq: msg.Seq, ID: msg.ID, From: msg.From, Name: msg.Name, Text: msg.Text, At: msg.At, Own: own})
	return true
}

// isSelf reports whether a message from id is the user's own, sent in
// this call or an earlier one.
func (m *chatModel) isSelf(id string) bool {
	return id != "" && (id == m.selfID || m.pastIDs[id])
}

// merge adds a page of stored messages, skipping ones already shown, and
// returns how many were added.
func (m *chatModel) merge(msgs []client.ChatMessage) int {
	n := 0
	for _, msg := range msgs {
		if m.receive(msg, false) {
			n++
		}
	}
	return n
}

// find returns the index of the stored message with seq.
func (m *chatModel) find(seq int64) (int, bool) {
	i := sort.Search(len(m.confirmed), func(i int) bool { return m.confirmed[i].Seq >= seq })
	return i, i < len(m.confirmed) && m.confirmed[i].Seq == seq
}

// insert puts a stored message in sequence order.
func (m *chatModel) insert(it *ChatItem) {
	i, ok := m.find(it.Seq)
	if ok {
		m.confirmed[i] = it
		return
	}
	m.confirmed = append(m.confirmed, nil)
	copy(m.confirmed[i+1:], m.confirmed[i:])
	m.confirmed[i] = it
}

// fail marks your message id as not sent.
func (m *chatModel) fail(id string) *ChatItem {
	for _, it := range m.pending {
		if it.ID == id {
			it.State = Failed
			return it
		}
	}
	return nil
}

// retrying marks a failed message as sending again.
func (m *chatModel) retrying(id string) *ChatItem {
	for _, it := range m.pending {
		if it.ID == id && it.State == Failed {
			it.State = Sending
			return it
		}
	}
	return nil
}

// oldestSeq returns the smallest stored sequence number, 0 for none.
func (m *chatModel) oldestSeq() int64 {
	if len(m.confirmed) == 0 {
		return 0
	}
	return m.confirmed[0].Seq
}
