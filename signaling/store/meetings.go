package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Meeting is one row of the meetings table: a room's span from its first
// join to its last leave, with its analytics (JSON, made by the server)
// once it has ended.
type Meeting struct {
	ID    int64
	Room  string
	Start time.Time
	// End is zero while the meeting runs.
	End time.Time
	// Alive is the last time the server saw the meeting running; after a
	// crash it is the meeting's end.
	Alive time.Time
	// EndedBy says how it ended: "last_leave", "server_stop" or
	// "server_restart" (closed when the server started again).
	EndedBy   string
	Analytics []byte
}

// MeetingFilter selects meetings for Meetings.
type MeetingFilter struct {
	Room  string    // "" for every room
	Since time.Time // meetings that started at or after it; zero for all
	Limit int       // at most this many, newest first (clamped to 1..MaxMeetings)
}

// MaxMeetings is the largest number of meetings Meetings returns at once.
const MaxMeetings = 1000

// Meetings keeps meetings and reads the event log by time. SQLite
// implements it.
type Meetings interface {
	// OpenMeeting records a meeting of room that started at start.
	OpenMeeting(ctx context.Context, room string, start time.Time) (int64, error)
	// MeetingAlive records that meeting id was still running at at.
	MeetingAlive(ctx context.Context, id int64, at time.Time) error
	// CloseMeeting records the end of meeting id and its analytics.
	CloseMeeting(ctx context.Context, id int64, end time.Time, endedBy string, analytics []byte) error
	// OpenMeetings returns the meetings not yet ended, oldest first.
	OpenMeetings(ctx context.Context) ([]Meeting, error)
	// Meetings returns the meetings f selects, newest first.
	Meetings(ctx context.Context, f MeetingFilter) ([]Meeting, error)
	// Meeting returns meeting id; ErrNotFound if there is none.
	Meeting(ctx context.Context, id int64) (Meeting, error)
	// EventsBetween returns room's events with from <= At <= to in time
	// order (at most MaxEvents).
	EventsBetween(ctx context.Context, room string, from, to time.Time) ([]Event, error)
	// ChatCount returns how many chat messages room got with from <= At <= to.
	ChatCount(ctx context.Context, room string, from, to time.Time) (int, error)
}

var _ Meetings = (*SQLite)(nil)

// OpenMeeting implements Meetings.
func (s *SQLite) OpenMeeting(ctx context.Context, room string, start time.Time) (int64, error) {
	if room == "" {
		return 0, fmt.Errorf("store: open meeting: empty room: %w", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO meetings (room, start_ms, alive_ms) VALUES (?, ?, ?)`,
		room, start.UnixMilli(), start.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: open meeting: %w", err)
	}
	return res.LastInsertId()
}

// MeetingAlive implements Meetings.
func (s *SQLite) MeetingAlive(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE meetings SET alive_ms = MAX(alive_ms, ?) WHERE id = ? AND end_ms = 0`,
		at.UnixMilli(), id); err != nil {
		return fmt.Errorf("store: meeting alive: %w", err)
	}
	return nil
}

// CloseMeeting implements Meetings.
func (s *SQLite) CloseMeeting(ctx context.Context, id int64, end time.Time, endedBy string, analytics []byte) error {
	res, err := s.db.ExecContext(ctx, `UPDATE meetings SET end_ms = ?, alive_ms = MAX(alive_ms, ?), ended_by = ?, analytics = ? WHERE id = ?`,
		end.UnixMilli(), end.UnixMilli(), endedBy, string(analytics), id)
	if err != nil {
		return fmt.Errorf("store: close meeting: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: close meeting %d: %w", id, ErrNotFound)
	}
	return nil
}

const meetingCols = `id, room, start_ms, end_ms, alive_ms, ended_by, analytics`

func scanMeeting(sc interface{ Scan(...any) error }) (Meeting, error) {
	var (
		m                 Meeting
		start, end, alive int64
		analytics         string
	)
	if err := sc.Scan(&m.ID, &m.Room, &start, &end, &alive, &m.EndedBy, &analytics); err != nil {
		return Meeting{}, err
	}
	m.Start, m.Alive = time.UnixMilli(start), time.UnixMilli(alive)
	if end != 0 {
		m.End = time.UnixMilli(end)
	}
	if analytics != "" {
		m.Analytics = []byte(analytics)
	}
	return m, nil
}

func (s *SQLite) queryMeetings(ctx context.Context, q string, args ...any) ([]Meeting, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: meetings: %w", err)
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("store: meetings: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: meetings: %w", err)
	}
	return out, nil
}

// OpenMeetings implements Meetings.
func (s *SQLite) OpenMeetings(ctx context.Context) ([]Meeting, error) {
	return s.queryMeetings(ctx, `SELECT `+meetingCols+` FROM meetings WHERE end_ms = 0 ORDER BY id`)
}

// Meetings implements Meetings.
func (s *SQLite) Meetings(ctx context.Context, f MeetingFilter) ([]Meeting, error) {
	if f.Limit <= 0 {
		f.Limit = MaxMeetings
	}
	var since int64
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}
	return s.queryMeetings(ctx, `SELECT `+meetingCols+` FROM meetings
		WHERE (? = '' OR room = ?) AND start_ms >= ? ORDER BY start_ms DESC, id DESC LIMIT ?`,
		f.Room, f.Room, since, clamp(f.Limit, MaxMeetings))
}

// Meeting implements Meetings.
func (s *SQLite) Meeting(ctx context.Context, id int64) (Meeting, error) {
	m, err := scanMeeting(s.rdb.QueryRowContext(ctx, `SELECT `+meetingCols+` FROM meetings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Meeting{}, fmt.Errorf("store: meeting %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Meeting{}, fmt.Errorf("store: meeting: %w", err)
	}
	return m, nil
}

// EventsBetween implements Meetings.
func (s *SQLite) EventsBetween(ctx context.Context, room string, from, to time.Time) ([]Event, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT room, identity, kind, at_ms, detail FROM events
		WHERE room = ? AND at_ms >= ? AND at_ms <= ? ORDER BY at_ms, id LIMIT ?`,
		room, from.UnixMilli(), to.UnixMilli(), MaxEvents)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Room, &e.Identity, &e.Kind, &at, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return out, nil
}

// ChatCount implements Meetings.
func (s *SQLite) ChatCount(ctx context.Context, room string, from, to time.Time) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat WHERE room = ? AND at_ms >= ? AND at_ms <= ?`,
		room, from.UnixMilli(), to.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: chat count: %w", err)
	}
	return n, nil
}
