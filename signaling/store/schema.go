package store

import (
	"context"
	"fmt"
)

// migrations returns the schema changes in order: applying element i moves
// the database from user_version i to i+1. Append to it; never edit an entry
// that has shipped.
func migrations() [][]string {
	return [][]string{
		// 1: chat and event log. Times are unix milliseconds.
		{
			`CREATE TABLE chat (
				room   TEXT    NOT NULL,
				seq    INTEGER NOT NULL,
				msg_id TEXT    NOT NULL,
				sender TEXT    NOT NULL,
				name   TEXT    NOT NULL,
				body   TEXT    NOT NULL,
				at_ms  INTEGER NOT NULL,
				PRIMARY KEY (room, seq)
			) WITHOUT ROWID`,
			`CREATE UNIQUE INDEX chat_sender_msg ON chat (room, sender, msg_id)`,
			`CREATE TABLE events (
				id       INTEGER PRIMARY KEY,
				room     TEXT    NOT NULL,
				identity TEXT    NOT NULL,
				kind     TEXT    NOT NULL,
				at_ms    INTEGER NOT NULL,
				detail   TEXT    NOT NULL
			)`,
			`CREATE INDEX events_room_time ON events (room, at_ms, id)`,
		},
		// 2: invite codes. Only a code's SHA-256 is kept (code_hash), so
		// the database does not hold working links. max_uses 0 means no
		// limit; revoked_ms 0 means not revoked.
		{
			`CREATE TABLE invites (
				code_hash  BLOB    PRIMARY KEY,
				room       TEXT    NOT NULL,
				creator    TEXT    NOT NULL,
				created_ms INTEGER NOT NULL,
				expires_ms INTEGER NOT NULL,
				max_uses   INTEGER NOT NULL,
				uses       INTEGER NOT NULL DEFAULT 0,
				revoked_ms INTEGER NOT NULL DEFAULT 0
			) WITHOUT ROWID`,
			`CREATE INDEX invites_room ON invites (room)`,
		},
		// 3: the support desk. Agents sign in with a key of which only the
		// SHA-256 is kept; so is a customer's key to their conversation.
		// A conversation's messages have their own per-conversation seq.
		// sender is "customer", "system" or an agent's id. closed_ms 0:
		// open. A support call is a video room started from a
		// conversation; its rating (1-5, 0: none) is the customer's.
		{
			`CREATE TABLE agents (
				id         TEXT    PRIMARY KEY,
				name       TEXT    NOT NULL,
				key_hash   BLOB    NOT NULL,
				created_ms INTEGER NOT NULL,
				removed_ms INTEGER NOT NULL DEFAULT 0
			) WITHOUT ROWID`,
			`CREATE TABLE support_conversations (
				id             TEXT    PRIMARY KEY,
				key_hash       BLOB    NOT NULL,
				name           TEXT    NOT NULL,
				email          TEXT    NOT NULL,
				created_ms     INTEGER NOT NULL,
				closed_ms      INTEGER NOT NULL DEFAULT 0,
				closed_by      TEXT    NOT NULL DEFAULT '',
				agent_read_seq INTEGER NOT NULL DEFAULT 0
			) WITHOUT ROWID`,
			`CREATE INDEX support_conversations_open ON support_conversations (closed_ms, created_ms)`,
			`CREATE TABLE support_messages (
				conversation TEXT    NOT NULL,
				seq          INTEGER NOT NULL,
				msg_id       TEXT    NOT NULL,
				sender       TEXT    NOT NULL,
				name         TEXT    NOT NULL,
				body         TEXT    NOT NULL,
				link         TEXT    NOT NULL DEFAULT '',
				at_ms        INTEGER NOT NULL,
				PRIMARY KEY (conversation, seq)
			) WITHOUT ROWID`,
			`CREATE UNIQUE INDEX support_messages_id ON support_messages (conversation, sender, msg_id)`,
			`CREATE TABLE support_calls (
				room         TEXT    PRIMARY KEY,
				conversation TEXT    NOT NULL,
				agent        TEXT    NOT NULL,
				created_ms   INTEGER NOT NULL,
				rating       INTEGER NOT NULL DEFAULT 0,
				comment      TEXT    NOT NULL DEFAULT '',
				rated_ms     INTEGER NOT NULL DEFAULT 0
			) WITHOUT ROWID`,
			`CREATE INDEX support_calls_conversation ON support_calls (conversation)`,
		},
		// 4: meetings: a room's span from its first join to its last
		// leave. end_ms 0: running; alive_ms: the last time the server saw
		// it running (its end after a crash); analytics: JSON, '' until it
		// ends.
		{
			`CREATE TABLE meetings (
				id        INTEGER PRIMARY KEY,
				room      TEXT    NOT NULL,
				start_ms  INTEGER NOT NULL,
				end_ms    INTEGER NOT NULL DEFAULT 0,
				alive_ms  INTEGER NOT NULL,
				ended_by  TEXT    NOT NULL DEFAULT '',
				analytics TEXT    NOT NULL DEFAULT ''
			)`,
			`CREATE INDEX meetings_start ON meetings (start_ms)`,
			`CREATE INDEX meetings_open ON meetings (end_ms)`,
		},
	}
}

// migrate brings the schema up to the newest version in one transaction.
func (s *SQLite) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()

	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	steps := migrations()
	if version > len(steps) {
		return fmt.Errorf("store: migrate: schema version %d, know up to %d: %w", version, len(steps), ErrSchemaTooNew)
	}
	if version == len(steps) {
		return nil
	}
	for v := version; v < len(steps); v++ {
		for _, stmt := range steps[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migrate to version %d: %w", v+1, err)
			}
		}
	}
	// PRAGMA takes no bound parameters; len(steps) is a trusted integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(steps))); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	s.log.Info("store: schema migrated", "from", version, "to", len(steps))
	return nil
}
