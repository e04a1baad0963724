package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Support desk errors; match them with errors.Is.
var (
	// ErrClosed reports a conversation that is closed.
	ErrClosed = errors.New("store: conversation closed")
	// ErrRated reports a support call that has its rating already.
	ErrRated = errors.New("store: already rated")
)

// Senders of support messages besides agents (whose id is the sender).
const (
	SenderCustomer = "customer"
	SenderSystem   = "system"
)

// Agent is a support agent's account. Only the SHA-256 of the secret part
// of the agent's sign-in key is kept.
type Agent struct {
	ID      string
	Name    string
	KeyHash []byte
	Created time.Time
	Removed time.Time // zero: active
}

// Conversation is a customer's support conversation.
type Conversation struct {
	ID      string
	KeyHash []byte // SHA-256 of the customer's key to it
	Name    string
	Email   string
	Created time.Time
	Closed  time.Time // zero: open
	// ClosedBy is the name of the agent who closed it.
	ClosedBy string
	// AgentRead is the seq up to which agents have read it.
	AgentRead int64
}

// SupportMessage is one message of a conversation. The store assigns Seq.
type SupportMessage struct {
	Conversation string
	Seq          int64
	ID           string // chosen by the sender; a resend is stored once
	From         string // SenderCustomer, SenderSystem or an agent's id
	Name         string
	Text         string
	Link         string // a video call's invite path (/j/CODE), or ""
	At           time.Time
}

// ConversationSummary is a conversation with what an agent's list shows.
type ConversationSummary struct {
	Conversation
	Last SupportMessage
	// Unread counts the customer's messages after AgentRead.
	Unread int
	// WaitingSince is when the customer's oldest message no agent has
	// answered was sent; zero when an agent spoke last.
	WaitingSince time.Time
}

// SupportCall is a video call started from a conversation.
type SupportCall struct {
	Room         string
	Conversation string
	Agent        string
	Created      time.Time
	Rating       int // 1-5; 0: not rated
	Comment      string
	Rated        time.Time
}

// Support keeps the support desk: agents, conversations, their messages
// and calls. *SQLite implements it.
type Support interface {
	AddAgent(ctx context.Context, a Agent) error
	Agent(ctx context.Context, id string) (Agent, error)
	Agents(ctx context.Context) ([]Agent, error)
	RemoveAgent(ctx context.Context, id string, now time.Time) error

	CreateConversation(ctx context.Context, c Conversation, first SupportMessage) (SupportMessage, error)
	Conversation(ctx context.Context, id string) (Conversation, error)
	OpenConversations(ctx context.Context) ([]ConversationSummary, error)
	ConversationSummary(ctx context.Context, id string) (ConversationSummary, error)
	AppendSupportMessage(ctx context.Context, m SupportMessage) (SupportMessage, bool, error)
	SupportMessages(ctx context.Context, conv string, after, before int64, limit int) ([]SupportMessage, bool, error)
	MarkRead(ctx context.Context, conv string, seq int64) error
	CloseConversation(ctx context.Context, conv, by string, now time.Time) (Conversation, error)

	CreateCall(ctx context.Context, c SupportCall) error
	Call(ctx context.Context, room string) (SupportCall, error)
	RateCall(ctx context.Context, room string, rating int, comment string, now time.Time) (SupportCall, error)
}

var _ Support = (*SQLite)(nil)

// AddAgent stores a new agent; ErrExists if the id is taken.
func (s *SQLite) AddAgent(ctx context.Context, a Agent) error {
	if a.ID == "" || a.Name == "" || len(a.KeyHash) == 0 {
		return fmt.Errorf("store: add agent: empty id, name or key: %w", ErrInvalid)
	}
	if a.Created.IsZero() {
		a.Created = s.now()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO agents (id, name, key_hash, created_ms) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, a.ID, a.Name, a.KeyHash, a.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: add agent: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: add agent: %w", ErrExists)
	}
	return nil
}

// Agent returns the agent id, removed or not; ErrNotFound if none.
func (s *SQLite) Agent(ctx context.Context, id string) (Agent, error) {
	var a Agent
	var created, removed int64
	err := s.rdb.QueryRowContext(ctx, `SELECT id, name, key_hash, created_ms, removed_ms FROM agents WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, &a.KeyHash, &created, &removed)
	if errors.Is(err, sql.ErrNoRows) {
		return Agent{}, fmt.Errorf("store: agent: %w", ErrNotFound)
	}
	if err != nil {
		return Agent{}, fmt.Errorf("store: agent: %w", err)
	}
	a.Created = msTime(created)
	if removed != 0 {
		a.Removed = msTime(removed)
	}
	return a, nil
}

// Agents lists every agent, oldest first.
func (s *SQLite) Agents(ctx context.Context) ([]Agent, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, name, key_hash, created_ms, removed_ms FROM agents ORDER BY created_ms, id`)
	if err != nil {
		return nil, fmt.Errorf("store: agents: %w", err)
	}
	defer rows.Close()
	var out []Agent
	for rows.Next() {
		var a Agent
		var created, removed int64
		if err := rows.Scan(&a.ID, &a.Name, &a.KeyHash, &created, &removed); err != nil {
			return nil, fmt.Errorf("store: agents: %w", err)
		}
		a.Created = msTime(created)
		if removed != 0 {
			a.Removed = msTime(removed)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RemoveAgent marks the agent removed (its key stops working); ErrNotFound
// if there is no such agent.
func (s *SQLite) RemoveAgent(ctx context.Context, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE agents SET removed_ms = ? WHERE id = ? AND removed_ms = 0`, max(now.UnixMilli(), 1), id)
	if err != nil {
		return fmt.Errorf("store: remove agent: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Agent(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// msTime is unix milliseconds as a UTC time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// CreateConversation stores c with its first message from the customer,
// in one transaction, and returns the message as stored (seq 1).
func (s *SQLite) CreateConversation(ctx context.Context, c Conversation, first SupportMessage) (SupportMessage, error) {
	if c.ID == "" || c.Name == "" || len(c.KeyHash) == 0 || first.ID == "" || first.Text == "" {
		return SupportMessage{}, fmt.Errorf("store: create conversation: empty id, name, key or message: %w", ErrInvalid)
	}
	if c.Created.IsZero() {
		c.Created = s.now()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return SupportMessage{}, fmt.Errorf("store: create conversation: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO support_conversations (id, key_hash, name, email, created_ms)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, c.ID, c.KeyHash, c.Name, c.Email, c.Created.UnixMilli())
	if err != nil {
		return SupportMessage{}, fmt.Errorf("store: create conversation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return SupportMessage{}, fmt.Errorf("store: create conversation: %w", ErrExists)
	}
	first.Conversation, first.Seq, first.From = c.ID, 1, SenderCustomer
	if first.At.IsZero() {
		first.At = c.Created
	}
	first.At = msTime(first.At.UnixMilli())
	if _, err := tx.ExecContext(ctx, `INSERT INTO support_messages (conversation, seq, msg_id, sender, name, body, link, at_ms)
		VALUES (?, 1, ?, ?, ?, ?, ?, ?)`, c.ID, first.ID, first.From, first.Name, first.Text, first.Link, first.At.UnixMilli()); err != nil {
		return SupportMessage{}, fmt.Errorf("store: create conversation: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return SupportMessage{}, fmt.Errorf("store: create conversation: %w", err)
	}
	return first, nil
}

const convColumns = `id, key_hash, name, email, created_ms, closed_ms, closed_by, agent_read_seq`

func scanConversation(sc interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	var created, closed int64
	if err := sc.Scan(&c.ID, &c.KeyHash, &c.Name, &c.Email, &created, &closed, &c.ClosedBy, &c.AgentRead); err != nil {
		return Conversation{}, err
	}
	c.Created = msTime(created)
	if closed != 0 {
		c.Closed = msTime(closed)
	}
	return c, nil
}

// Conversation returns the conversation id; ErrNotFound if none.
func (s *SQLite) Conversation(ctx context.Context, id string) (Conversation, error) {
	c, err := scanConversation(s.db.QueryRowContext(ctx, `SELECT `+convColumns+` FROM support_conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, fmt.Errorf("store: conversation: %w", ErrNotFound)
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("store: conversation: %w", err)
	}
	return c, nil
}

// summarySQL selects a conversation with its last message, its unread
// count and since when its customer waits, for the conversations matching
// the WHERE clause appended to it.
const summarySQL = `SELECT c.id, c.key_hash, c.name, c.email, c.created_ms, c.closed_ms, c.closed_by, c.agent_read_seq,
	m.seq, m.msg_id, m.sender, m.name, m.body, m.link, m.at_ms,
	(SELECT count(*) FROM support_messages u WHERE u.conversation = c.id AND u.sender = 'customer' AND u.seq > c.agent_read_seq),
	(SELECT min(w.at_ms) FROM support_messages w WHERE w.conversation = c.id AND w.sender = 'customer' AND w.seq > coalesce(
		(SELECT max(a.seq) FROM support_messages a WHERE a.conversation = c.id AND a.sender NOT IN ('customer', 'system')), 0))
	FROM support_conversations c
	JOIN support_messages m ON m.conversation = c.id AND m.seq = (SELECT max(seq) FROM support_messages x WHERE x.conversation = c.id)
	`

func (s *SQLite) summaries(ctx context.Context, where string, args ...any) ([]ConversationSummary, error) {
	rows, err := s.db.QueryContext(ctx, summarySQL+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ConversationSummary
	for rows.Next() {
		var cs ConversationSummary
		var created, closed, at int64
		var waiting sql.NullInt64
		c := &cs.Conversation
		m := &cs.Last
		if err := rows.Scan(&c.ID, &c.KeyHash, &c.Name, &c.Email, &created, &closed, &c.ClosedBy, &c.AgentRead,
			&m.Seq, &m.ID, &m.From, &m.Name, &m.Text, &m.Link, &at, &cs.Unread, &waiting); err != nil {
			return nil, err
		}
		c.Created, m.At, m.Conversation = msTime(created), msTime(at), c.ID
		if closed != 0 {
			c.Closed = msTime(closed)
		}
		if waiting.Valid && closed == 0 {
			cs.WaitingSince = msTime(waiting.Int64)
		}
		out = append(out, cs)
	}
	return out, rows.Err()
}

// OpenConversations returns every open conversation, the oldest first.
func (s *SQLite) OpenConversations(ctx context.Context) ([]ConversationSummary, error) {
	out, err := s.summaries(ctx, `WHERE c.closed_ms = 0 ORDER BY c.created_ms, c.id`)
	if err != nil {
		return nil, fmt.Errorf("store: open conversations: %w", err)
	}
	return out, nil
}

// ConversationSummary returns one conversation's summary, open or not.
func (s *SQLite) ConversationSummary(ctx context.Context, id string) (ConversationSummary, error) {
	out, err := s.summaries(ctx, `WHERE c.id = ?`, id)
	if err != nil {
		return ConversationSummary{}, fmt.Errorf("store: conversation summary: %w", err)
	}
	if len(out) == 0 {
		return ConversationSummary{}, fmt.Errorf("store: conversation summary: %w", ErrNotFound)
	}
	return out[0], nil
}

// AppendSupportMessage stores m with the conversation's next seq. A
// message with the same (Conversation, From, ID) stored before is
// returned with dup=true and not stored again. It returns ErrNotFound for
// an unknown conversation and ErrClosed for a closed one, except for
// system messages, which may follow the close.
func (s *SQLite) AppendSupportMessage(ctx context.Context, m SupportMessage) (SupportMessage, bool, error) {
	if m.Conversation == "" || m.ID == "" || m.From == "" {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: empty conversation, id or sender: %w", ErrInvalid)
	}
	if m.At.IsZero() {
		m.At = s.now()
	}
	m.At = msTime(m.At.UnixMilli())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", err)
	}
	defer tx.Rollback()
	var closed int64
	err = tx.QueryRowContext(ctx, `SELECT closed_ms FROM support_conversations WHERE id = ?`, m.Conversation).Scan(&closed)
	if errors.Is(err, sql.ErrNoRows) {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", ErrNotFound)
	}
	if err != nil {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", err)
	}
	var prev SupportMessage
	var at int64
	err = tx.QueryRowContext(ctx, `SELECT seq, name, body, link, at_ms FROM support_messages WHERE conversation = ? AND sender = ? AND msg_id = ?`,
		m.Conversation, m.From, m.ID).Scan(&prev.Seq, &prev.Name, &prev.Text, &prev.Link, &at)
	if err == nil {
		prev.Conversation, prev.ID, prev.From, prev.At = m.Conversation, m.ID, m.From, msTime(at)
		return prev, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", err)
	}
	if closed != 0 && m.From != SenderSystem {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", ErrClosed)
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM support_messages WHERE conversation = ?`, m.Conversation).Scan(&m.Seq); err != nil {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO support_messages (conversation, seq, msg_id, sender, name, body, link, at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.Conversation, m.Seq, m.ID, m.From, m.Name, m.Text, m.Link, m.At.UnixMilli()); err != nil {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return SupportMessage{}, false, fmt.Errorf("store: append support message: %w", err)
	}
	return m, false, nil
}

// SupportMessages returns up to limit messages of conv, oldest first:
// those after seq after when after > 0, else those before seq before
// (before <= 0: the newest). more says whether further ones exist in
// that direction. limit is clamped to 1..MaxChatPage.
func (s *SQLite) SupportMessages(ctx context.Context, conv string, after, before int64, limit int) ([]SupportMessage, bool, error) {
	limit = clamp(limit, MaxChatPage)
	var rows *sql.Rows
	var err error
	if after > 0 {
		rows, err = s.rdb.QueryContext(ctx, `SELECT seq, msg_id, sender, name, body, link, at_ms FROM support_messages
			WHERE conversation = ? AND seq > ? ORDER BY seq ASC LIMIT ?`, conv, after, limit+1)
	} else {
		if before <= 0 {
			before = 1 << 62
		}
		rows, err = s.rdb.QueryContext(ctx, `SELECT seq, msg_id, sender, name, body, link, at_ms FROM support_messages
			WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, conv, before, limit+1)
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: support messages: %w", err)
	}
	defer rows.Close()
	var out []SupportMessage
	for rows.Next() {
		m := SupportMessage{Conversation: conv}
		var at int64
		if err := rows.Scan(&m.Seq, &m.ID, &m.From, &m.Name, &m.Text, &m.Link, &at); err != nil {
			return nil, false, fmt.Errorf("store: support messages: %w", err)
		}
		m.At = msTime(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: support messages: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if after <= 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}

// MarkRead records that agents have read conv up to seq (it never goes
// back).
func (s *SQLite) MarkRead(ctx context.Context, conv string, seq int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE support_conversations SET agent_read_seq = max(agent_read_seq, ?) WHERE id = ?`, seq, conv); err != nil {
		return fmt.Errorf("store: mark read: %w", err)
	}
	return nil
}

// CloseConversation closes conv (once: closing again keeps the first
// close) and returns it.
func (s *SQLite) CloseConversation(ctx context.Context, conv, by string, now time.Time) (Conversation, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE support_conversations SET closed_ms = ?, closed_by = ? WHERE id = ? AND closed_ms = 0`,
		max(now.UnixMilli(), 1), by, conv); err != nil {
		return Conversation{}, fmt.Errorf("store: close conversation: %w", err)
	}
	return s.Conversation(ctx, conv)
}

// CreateCall stores a support call; ErrExists if its room is taken.
func (s *SQLite) CreateCall(ctx context.Context, c SupportCall) error {
	if c.Room == "" || c.Conversation == "" || c.Agent == "" {
		return fmt.Errorf("store: create call: empty room, conversation or agent: %w", ErrInvalid)
	}
	if c.Created.IsZero() {
		c.Created = s.now()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO support_calls (room, conversation, agent, created_ms) VALUES (?, ?, ?, ?)
		ON CONFLICT (room) DO NOTHING`, c.Room, c.Conversation, c.Agent, c.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create call: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create call: %w", ErrExists)
	}
	return nil
}

// Call returns the support call in room; ErrNotFound if room is none.
func (s *SQLite) Call(ctx context.Context, room string) (SupportCall, error) {
	var c SupportCall
	var created, rated int64
	err := s.db.QueryRowContext(ctx, `SELECT room, conversation, agent, created_ms, rating, comment, rated_ms FROM support_calls WHERE room = ?`, room).
		Scan(&c.Room, &c.Conversation, &c.Agent, &created, &c.Rating, &c.Comment, &rated)
	if errors.Is(err, sql.ErrNoRows) {
		return SupportCall{}, fmt.Errorf("store: call: %w", ErrNotFound)
	}
	if err != nil {
		return SupportCall{}, fmt.Errorf("store: call: %w", err)
	}
	c.Created = msTime(created)
	if rated != 0 {
		c.Rated = msTime(rated)
	}
	return c, nil
}

// RateCall stores the customer's rating (1-5) and comment of the call in
// room, once: ErrRated if it has one, ErrNotFound if room is no support
// call.
func (s *SQLite) RateCall(ctx context.Context, room string, rating int, comment string, now time.Time) (SupportCall, error) {
	if rating < 1 || rating > 5 {
		return SupportCall{}, fmt.Errorf("store: rate call: rating %d: %w", rating, ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE support_calls SET rating = ?, comment = ?, rated_ms = ? WHERE room = ? AND rating = 0`,
		rating, comment, max(now.UnixMilli(), 1), room)
	if err != nil {
		return SupportCall{}, fmt.Errorf("store: rate call: %w", err)
	}
	n, _ := res.RowsAffected()
	c, err := s.Call(ctx, room)
	if err != nil {
		return SupportCall{}, err
	}
	if n == 0 {
		return c, fmt.Errorf("store: rate call: %w", ErrRated)
	}
	return c, nil
}
