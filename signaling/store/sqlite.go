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

// readConns is the number of connections that serve reads (history and
// events) next to the one writer connection.
const readConns = 4

// SQLite is a Store kept in one SQLite database file in WAL mode. Writes go
// through a single connection, so they run in turn; that serialises
// writers, which SQLite requires anyway, and makes the per-room sequence
// race-free. Reads go through a separate pool of read-only connections, so
// a history read does not queue behind writes (WAL lets readers and the
// writer run at once). Its methods are safe for concurrent use.
type SQLite struct {
	db   *sql.DB // the writer: one connection
	rdb  *sql.DB // readers; the same as db for ":memory:"
	now  func() time.Time
	log  *slog.Logger
	prep map[prepKey]*sql.Stmt // the batch statements, prepared once on db
}

// Batch statements. Each is prepared at open for every size in
// chunkSizes, so a batch of any size runs as a few prepared statements
// and SQLite never parses them again.
type stmtKind int

const (
	insertChat stmtKind = iota
	insertEvent
	findChat
	lastSeq
)

type prepKey struct {
	kind stmtKind
	rows int
}

// chunkSizes are the row counts statements are prepared for, largest
// first; the largest stays well under SQLite's limit of 32766 bound
// parameters.
var chunkSizes = []int{256, 64, 16, 4, 1}

// chunk returns how many of n rows the next statement takes.
func chunk(n int) int {
	for _, c := range chunkSizes {
		if c <= n {
			return c
		}
	}
	return 0
}

func stmtText(kind stmtKind, n int) string {
	switch kind {
	case insertChat:
		return `INSERT INTO chat (room, seq, msg_id, sender, name, body, at_ms) VALUES ` + placeholders(n, 7)
	case insertEvent:
		return `INSERT INTO events (room, identity, kind, at_ms, detail) VALUES ` + placeholders(n, 5)
	case findChat:
		return `SELECT room, sender, msg_id, seq, name, body, at_ms FROM chat
			WHERE (room, sender, msg_id) IN (VALUES ` + placeholders(n, 3) + `)`
	default: // lastSeq: one lookup per room on the (room, seq) primary key
		return `SELECT column1, (SELECT MAX(seq) FROM chat WHERE chat.room = v.column1) FROM (VALUES ` + placeholders(n, 1) + `) AS v`
	}
}

// prepare prepares every batch statement on the writer connection.
func (s *SQLite) prepare(ctx context.Context) error {
	s.prep = make(map[prepKey]*sql.Stmt)
	for _, kind := range []stmtKind{insertChat, insertEvent, findChat, lastSeq} {
		for _, n := range chunkSizes {
			st, err := s.db.PrepareContext(ctx, stmtText(kind, n))
			if err != nil {
				return fmt.Errorf("store: prepare: %w", err)
			}
			s.prep[prepKey{kind, n}] = st
		}
	}
	return nil
}

// exec runs the prepared statement kind for n rows in tx.
func (s *SQLite) exec(ctx context.Context, tx *sql.Tx, kind stmtKind, n int, args []any) error {
	st := tx.StmtContext(ctx, s.prep[prepKey{kind, n}])
	defer st.Close()
	_, err := st.ExecContext(ctx, args...)
	return err
}

// query runs the prepared statement kind for n rows in tx and calls scan
// for each row.
func (s *SQLite) query(ctx context.Context, tx *sql.Tx, kind stmtKind, n int, args []any, scan func(*sql.Rows) error) error {
	st := tx.StmtContext(ctx, s.prep[prepKey{kind, n}])
	defer st.Close()
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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
	s.db, s.rdb = db, db
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.prepare(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if path == ":memory:" {
		return s, nil // a second connection would open another database
	}
	rdb, err := sql.Open("sqlite", path+fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=query_only(1)", busyTimeout.Milliseconds()))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	s.rdb = rdb
	return s, nil
}

// Close closes the database. Calls after the first return nil.
func (s *SQLite) Close() error {
	var rerr error
	if s.rdb != s.db {
		rerr = s.rdb.Close()
	}
	if err := errors.Join(s.db.Close(), rerr); err != nil {
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
	res, err := s.AppendBatch(ctx, Batch{Chats: []ChatMessage{m}})
	if err != nil {
		return ChatMessage{}, false, err
	}
	return res[0].Msg, res[0].Dup, nil
}

func checkChat(m ChatMessage) error {
	switch {
	case m.Room == "":
		return fmt.Errorf("store: append chat: empty room: %w", ErrInvalid)
	case m.From == "":
		return fmt.Errorf("store: append chat: empty sender: %w", ErrInvalid)
	case m.ID == "":
		return fmt.Errorf("store: append chat: empty message id: %w", ErrInvalid)
	}
	return nil
}

func checkEvent(e Event) error {
	switch {
	case e.Room == "":
		return fmt.Errorf("store: append event: empty room: %w", ErrInvalid)
	case e.Kind == "":
		return fmt.Errorf("store: append event: empty kind: %w", ErrInvalid)
	}
	return nil
}

// AppendBatch stores b in one transaction: each chat message as AppendChat
// would (the next per-room seq, in slice order; a (Room, From, ID) stored
// before, in an earlier batch or earlier in this one, is returned with
// Dup=true and not stored again), then b.Events, then, with b.LogChats, a
// KindChat event per new message. Nothing is stored if any item is
// invalid (ErrInvalid) or the transaction fails.
func (s *SQLite) AppendBatch(ctx context.Context, b Batch) ([]ChatResult, error) {
	for _, m := range b.Chats {
		if err := checkChat(m); err != nil {
			return nil, err
		}
	}
	for _, e := range b.Events {
		if err := checkEvent(e); err != nil {
			return nil, err
		}
	}
	if len(b.Chats) == 0 && len(b.Events) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: append: %w", err)
	}
	defer tx.Rollback()
	results, logged, err := s.appendChats(ctx, tx, b.Chats)
	if err != nil {
		return nil, fmt.Errorf("store: append chat: %w", err)
	}
	events := b.Events
	if b.LogChats {
		events = append(events[:len(events):len(events)], logged...)
	}
	for len(events) > 0 {
		n := chunk(len(events))
		args := make([]any, 0, 5*n)
		for _, e := range events[:n] {
			if e.At.IsZero() {
				e.At = s.now()
			}
			args = append(args, e.Room, e.Identity, e.Kind, e.At.UnixMilli(), e.Detail)
		}
		if err := s.exec(ctx, tx, insertEvent, n, args); err != nil {
			return nil, fmt.Errorf("store: append event: %w", err)
		}
		events = events[n:]
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: append: %w", err)
	}
	return results, nil
}

// chatKey identifies a message for duplicate detection.
type chatKey struct{ room, from, id string }

// appendChats inserts msgs in tx; it returns their results and a KindChat
// event for each newly stored one. It finds the duplicates and the rooms'
// last seqs first, so new messages get gap-free seqs, then inserts them
// with multi-row statements: a few statements per batch, not per message.
func (s *SQLite) appendChats(ctx context.Context, tx *sql.Tx, msgs []ChatMessage) ([]ChatResult, []Event, error) {
	if len(msgs) == 0 {
		return nil, nil, nil
	}
	stored, err := s.findStored(ctx, tx, msgs)
	if err != nil {
		return nil, nil, err
	}
	last, err := s.lastSeqs(ctx, tx, msgs)
	if err != nil {
		return nil, nil, err
	}
	results := make([]ChatResult, len(msgs))
	var fresh []ChatMessage
	var logged []Event
	for i, m := range msgs {
		k := chatKey{m.Room, m.From, m.ID}
		if prev, ok := stored[k]; ok {
			results[i] = ChatResult{Msg: prev, Dup: true}
			continue
		}
		if m.At.IsZero() {
			m.At = s.now()
		}
		last[m.Room]++
		m.Seq, m.At = last[m.Room], time.UnixMilli(m.At.UnixMilli()).UTC()
		stored[k] = m // a second copy later in this batch is a duplicate
		results[i] = ChatResult{Msg: m}
		fresh = append(fresh, m)
		logged = append(logged, Event{Room: m.Room, Identity: m.From, Kind: KindChat, At: m.At, Detail: m.ID})
	}
	for len(fresh) > 0 {
		n := chunk(len(fresh))
		args := make([]any, 0, 7*n)
		for _, m := range fresh[:n] {
			args = append(args, m.Room, m.Seq, m.ID, m.From, m.Name, m.Text, m.At.UnixMilli())
		}
		if err := s.exec(ctx, tx, insertChat, n, args); err != nil {
			return nil, nil, err
		}
		fresh = fresh[n:]
	}
	return results, logged, nil
}

// findStored returns the messages of msgs already in the table.
func (s *SQLite) findStored(ctx context.Context, tx *sql.Tx, msgs []ChatMessage) (map[chatKey]ChatMessage, error) {
	stored := make(map[chatKey]ChatMessage)
	for rest := msgs; len(rest) > 0; {
		n := chunk(len(rest))
		args := make([]any, 0, 3*n)
		for _, m := range rest[:n] {
			args = append(args, m.Room, m.From, m.ID)
		}
		err := s.query(ctx, tx, findChat, n, args, func(rows *sql.Rows) error {
			var m ChatMessage
			var atMS int64
			if err := rows.Scan(&m.Room, &m.From, &m.ID, &m.Seq, &m.Name, &m.Text, &atMS); err != nil {
				return err
			}
			m.At = time.UnixMilli(atMS).UTC()
			stored[chatKey{m.Room, m.From, m.ID}] = m
			return nil
		})
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return stored, nil
}

// lastSeqs returns the last seq of every room of msgs (0 for none yet).
func (s *SQLite) lastSeqs(ctx context.Context, tx *sql.Tx, msgs []ChatMessage) (map[string]int64, error) {
	last := make(map[string]int64)
	var rooms []any
	for _, m := range msgs {
		if _, ok := last[m.Room]; !ok {
			last[m.Room] = 0
			rooms = append(rooms, m.Room)
		}
	}
	for len(rooms) > 0 {
		n := chunk(len(rooms))
		err := s.query(ctx, tx, lastSeq, n, rooms[:n], func(rows *sql.Rows) error {
			var room string
			var seq sql.NullInt64
			if err := rows.Scan(&room, &seq); err != nil {
				return err
			}
			last[room] = seq.Int64
			return nil
		})
		if err != nil {
			return nil, err
		}
		rooms = rooms[n:]
	}
	return last, nil
}

// placeholders returns n groups of k "?" for a multi-row statement:
// "(?, ?), (?, ?)".
func placeholders(n, k int) string {
	group := "(" + strings.Repeat("?, ", k-1) + "?)"
	return strings.Repeat(group+", ", n-1) + group
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
	rows, err := s.rdb.QueryContext(ctx, query, args...)
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
	_, err := s.AppendBatch(ctx, Batch{Events: []Event{e}})
	return err
}

// Events returns up to limit of room's most recent events, oldest first.
// Events with the same At keep the order they were appended in. limit is
// clamped to 1..MaxEvents.
func (s *SQLite) Events(ctx context.Context, room string, limit int) ([]Event, error) {
	if room == "" {
		return nil, fmt.Errorf("store: events: empty room: %w", ErrInvalid)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT room, identity, kind, at_ms, detail FROM (
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
