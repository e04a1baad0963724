// Package store keeps a room's chat messages and its meeting event log.
//
// Store is the contract; SQLite implements it on a single SQLite database
// file through the pure-Go modernc.org/sqlite driver, so the server builds
// with CGO_ENABLED=0.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by this package. Match them with errors.Is.
var (
	// ErrInvalid reports an argument that cannot be stored or queried, such
	// as an empty room.
	ErrInvalid = errors.New("store: invalid argument")

	// ErrSchemaTooNew reports a database written by a newer Confab whose
	// schema this version does not know.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
)

// Page limits. Limits outside these bounds are clamped to them.
const (
	// MaxChatPage is the largest number of messages ChatHistory and
	// ChatAfter return at once.
	MaxChatPage = 200
	// MaxEvents is the largest number of events Events returns at once.
	MaxEvents = 10000
)

// Event kinds recorded in the meeting log. Kind is free text; these are the
// ones Confab writes.
const (
	KindJoin        = "join"
	KindLeave       = "leave"
	KindMicMute     = "mic_mute"
	KindMicUnmute   = "mic_unmute"
	KindCameraOn    = "camera_on"
	KindCameraOff   = "camera_off"
	KindScreenStart = "screen_start"
	KindScreenStop  = "screen_stop"
	KindChat        = "chat"
)

// ChatMessage is one chat message in a room. The store assigns Seq; the
// sender chooses ID, which makes a resent message recognisable.
type ChatMessage struct {
	Room string
	Seq  int64  // per-room sequence number, 1, 2, 3… without gaps
	ID   string // client-chosen message id
	From string // identity
	Name string // display name at the time of sending
	Text string
	At   time.Time // stored with millisecond precision
}

// Batch is work for AppendBatch: chat messages and meeting events written
// together in one transaction.
type Batch struct {
	Chats  []ChatMessage
	Events []Event
	// LogChats also records a KindChat event (Detail: the message id) for
	// each newly stored chat message, in the same transaction.
	LogChats bool
}

// ChatResult is the outcome of one chat message of a Batch.
type ChatResult struct {
	Msg ChatMessage // as stored: with Seq and At; for a duplicate, the earlier message
	Dup bool        // the message was stored before; nothing new was stored
}

// Event is one entry of a room's meeting log.
type Event struct {
	Room     string
	Identity string
	Kind     string // one of the Kind constants, e.g. KindJoin
	At       time.Time
	Detail   string
}

// Store persists chat messages and meeting events. Implementations are safe
// for concurrent use.
type Store interface {
	// AppendChat stores m with the next per-room sequence number. If a
	// message with the same (Room, From, ID) already exists it returns the
	// stored one and dup=true and stores nothing.
	AppendChat(ctx context.Context, m ChatMessage) (stored ChatMessage, dup bool, err error)
	// ChatHistory returns up to limit messages of room with Seq < before
	// (before<=0 means newest), oldest first, and whether older ones exist.
	ChatHistory(ctx context.Context, room string, before int64, limit int) (msgs []ChatMessage, more bool, err error)
	// ChatAfter returns up to limit messages with Seq > after, oldest first
	// (for resume after reconnect), and whether more exist.
	ChatAfter(ctx context.Context, room string, after int64, limit int) ([]ChatMessage, bool, error)
	// AppendEvent records e in the meeting log of e.Room.
	AppendEvent(ctx context.Context, e Event) error
	// AppendBatch stores b in one transaction (group commit): all of it or
	// nothing. Chats get their per-room sequence numbers in slice order;
	// each result says what AppendChat would have returned for that chat,
	// duplicates within the batch included.
	AppendBatch(ctx context.Context, b Batch) ([]ChatResult, error)
	// Events returns up to limit of a room's most recent events in time
	// order.
	Events(ctx context.Context, room string, limit int) ([]Event, error)
	// Close releases the store.
	Close() error
}

// clamp returns n limited to [1, hi].
func clamp(n, hi int) int {
	return max(1, min(n, hi))
}
