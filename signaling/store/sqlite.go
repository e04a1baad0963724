package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// busyTimeout is how long a statement waits for another process's lock on
// the database file before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// SQLite is a Store kept in one SQLite database file in WAL mode. It holds a
// single connection, so every call runs in turn; that serialises writers,
// which SQLite requires anyway, and makes the per-room sequence race-free.
// Its methods are safe for concurrent use.
type SQLite struct {
	db  *sql.DB
	now func() time.Time
	log *slog.Logger
}

var _ Store = (*SQLite)(nil)

// Option configures OpenSQLite.
type Option func(*SQLite)

// WithClock sets the clock that stamps messages and events whose At is zero.
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *SQLite) { s.now = now }
}

// WithLogger sets the logger that reports schema migrations. The default
// discards them.
func WithLogger(l *slog.Logger) Option {
	return func(s *SQLite) { s.log = l }
}

// OpenSQLite opens the database at path, creating the file, its directory
// (mode 0700) and the schema if they are missing, and migrating an older
// schema. The schema version is kept in PRAGMA user_version. The database
// runs in WAL mode with synchronous=NORMAL, so a power loss may drop the
// last few commits but never corrupts the file. The path ":memory:" opens a
// private in-memory database.
func OpenSQLite(path string, opts ...Option) (*SQLite, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: open %q: path empty or containing '?': %w", path, ErrInvalid)
	}
	s := &SQLite{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
	}
	// The driver applies these to every connection it opens. _txlock=immediate
	// takes the write lock at BEGIN, so a transaction that reads then writes
	// cannot fail halfway with SQLITE_BUSY when another process holds the
	// file.
	dsn := path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate",
		busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s.db = db
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database. Calls after the first return nil.
func (s *SQLite) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// AppendChat stores m with the next per-room sequence number. If a message
// with the same (Room, From, ID) already exists it returns the stored one and
// dup=true and stores nothing. Room, From and ID must not be empty. A zero
// m.At is replaced by the store's clock; At is kept to the millisecond and
// returned in UTC. m.Seq is ignored.
func (s *SQLite) AppendChat(ctx context.Context, m ChatMessage) (ChatMessage, bool, error) {
	switch {
	case m.Room == "":
		return ChatMessage{}, false, fmt.Errorf("store: append chat: empty room: %w", ErrInvalid)
	case m.From == "":
		return ChatMessage{}, false, fmt.Errorf("store: append chat: empty sender: %w", ErrInvalid)
	case m.ID == "":
		return ChatMessage{}, false, fmt.Errorf("store: append chat: empty message id: %w", ErrInvalid)
	}
	if m.At.IsZero() {
		m.At = s.now()
	}
	atMS := m.At.UnixMilli()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ChatMessage{}, false, fmt.Errorf("store: append chat: %w", err)
	}
	defer tx.Rollback()

	prev := ChatMessage{Room: m.Room, ID: m.ID, From: m.From}
	var prevMS int64
	err = tx.QueryRowContext(ctx,
		`SELECT seq, name, body, at_ms FROM chat WHERE room = ? AND sender = ? AND msg_id = ?`,
		m.Room, m.From, m.ID).Scan(&prev.Seq, &prev.Name, &prev.Text, &prevMS)
	switch {
	case err == nil:
		prev.At = time.UnixMilli(prevMS).UTC()
		return prev, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return ChatMessage{}, false, fmt.Errorf("store: append chat: %w", err)
	}

	if err := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(seq), 0) + 1 FROM chat WHERE room = ?`, m.Room).Scan(&m.Seq); err != nil {
		return ChatMessage{}, false, fmt.Errorf("store: append chat: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO chat (room, seq, msg_id, sender, name, body, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.Room, m.Seq, m.ID, m.From, m.Name, m.Text, atMS); err != nil {
		return ChatMessage{}, false, fmt.Errorf("store: append chat: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ChatMessage{}, false, fmt.Errorf("store: append chat: %w", err)
	}
	m.At = time.UnixMilli(atMS).UTC()
	return m, false, nil
}

// ChatHistory returns up to limit messages of room with Seq < before
// (before<=0 means from the newest), oldest first, and whether older ones
// exist. limit is clamped to 1..MaxChatPage.
func (s *SQLite) ChatHistory(ctx context.Context, room string, before int64, limit int) ([]ChatMessage, bool, error) {
	if room == "" {
		return nil, false, fmt.Errorf("store: chat history: empty room: %w", ErrInvalid)
	}
	limit = clamp(limit, MaxChatPage)
	if before <= 0 {
		before = math.MaxInt64
	}
	msgs, err := s.queryChat(ctx, `SELECT room, seq, msg_id, sender, name, body, at_ms FROM chat
		WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, room, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: chat history: %w", err)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, more, nil
}

// ChatAfter returns up to limit messages of room with Seq > after, oldest
// first, and whether more exist. limit is clamped to 1..MaxChatPage.
func (s *SQLite) ChatAfter(ctx context.Context, room string, after int64, limit int) ([]ChatMessage, bool, error) {
	if room == "" {
		return nil, false, fmt.Errorf("store: chat after: empty room: %w", ErrInvalid)
	}
	limit = clamp(limit, MaxChatPage)
	msgs, err := s.queryChat(ctx, `SELECT room, seq, msg_id, sender, name, body, at_ms FROM chat
		WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?`, room, max(after, 0), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: chat after: %w", err)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	return msgs, more, nil
}

// queryChat runs a query selecting the columns of ChatMessage in field order.
func (s *SQLite) queryChat(ctx context.Context, query string, args ...any) ([]ChatMessage, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var msgs []ChatMessage
	for rows.Next() {
		var m ChatMessage
		var atMS int64
		if err := rows.Scan(&m.Room, &m.Seq, &m.ID, &m.From, &m.Name, &m.Text, &atMS); err != nil {
			return nil, err
		}
		m.At = time.UnixMilli(atMS).UTC()
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// AppendEvent records e in the meeting log of e.Room. Room and Kind must not
// be empty. A zero e.At is replaced by the store's clock; At is kept to the
// millisecond.
func (s *SQLite) AppendEvent(ctx context.Context, e Event) error {
	switch {
	case e.Room == "":
		return fmt.Errorf("store: append event: empty room: %w", ErrInvalid)
	case e.Kind == "":
		return fmt.Errorf("store: append event: empty kind: %w", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO events (room, identity, kind, at_ms, detail) VALUES (?, ?, ?, ?, ?)`,
		e.Room, e.Identity, e.Kind, e.At.UnixMilli(), e.Detail); err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return nil
}

// Events returns up to limit of room's most recent events, oldest first.
// Events with the same At keep the order they were appended in. limit is
// clamped to 1..MaxEvents.
func (s *SQLite) Events(ctx context.Context, room string, limit int) ([]Event, error) {
	if room == "" {
		return nil, fmt.Errorf("store: events: empty room: %w", ErrInvalid)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT room, identity, kind, at_ms, detail FROM (
			SELECT id, room, identity, kind, at_ms, detail FROM events
			WHERE room = ? ORDER BY at_ms DESC, id DESC LIMIT ?
		) ORDER BY at_ms ASC, id ASC`, room, clamp(limit, MaxEvents))
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var e Event
		var atMS int64
		if err := rows.Scan(&e.Room, &e.Identity, &e.Kind, &atMS, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		e.At = time.UnixMilli(atMS).UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return events, nil
}
