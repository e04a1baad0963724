// Package calls holds the protocol of presence and calls between people
// (PROTOCOL.md, "Presence and calls"): who is online on a server, and
// invitations that ring, are accepted or declined, and end for a reason
// both sides learn. A call is carried by a private room the server makes
// for it; whoever accepts gets a token for that room and joins it through
// the ordinary join. The server side lives in signaling/server; a Go
// client is in this package (client.go).
//
// Messages travel in the envelope of the signaling protocol,
// {"v":1,"type":"…","data":{…}}, one JSON text frame each, on the
// websocket at /api/online/ws.
package calls

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/confab/confab/signaling/wire"
)

// Path is the presence websocket's path on a server.
const Path = "/api/online/ws"

// Message types a client sends: hello first, then any of the others.
const (
	TypeHello   = "hello"
	TypeInvite  = "invite"
	TypeAccept  = "accept"
	TypeDecline = "decline"
	TypeCancel  = "cancel"
	TypeHangup  = "hangup"
	TypeSetBusy = "set_busy"
)

// Message types the server sends.
const (
	TypeReady         = "ready"
	TypePersonOnline  = "person_online"
	TypePersonOffline = "person_offline"
	TypePersonUpdated = "person_updated"
	TypeCall          = "call"
	TypeError         = "error"
)

// Kinds of call.
const (
	KindVideo = "video"
	KindAudio = "audio"
)

// States of a member of a call. Ringing, Accepted and Joined are active:
// the member is (about to be) in the call; the others are final, and say
// why the member is not.
const (
	StateRinging   = "ringing"   // invited; their app rings
	StateAccepted  = "accepted"  // has a token for the call's room, not in it yet
	StateJoined    = "joined"    // in the call's room
	StateDeclined  = "declined"  // said no
	StateNoAnswer  = "no_answer" // rang for the ring timeout, unanswered
	StateBusy      = "busy"      // was in another call
	StateCancelled = "cancelled" // the invitation was withdrawn before an answer
	StateLeft      = "left"      // was in the call and hung up
	StateFailed    = "failed"    // went offline, or accepted and never arrived
)

// End reasons of a whole call (Call.Ended).
const (
	EndDeclined  = StateDeclined
	EndNoAnswer  = StateNoAnswer
	EndBusy      = StateBusy
	EndCancelled = StateCancelled
	EndHungUp    = "hung_up"
	EndFailed    = StateFailed
)

// Error codes of presence and calls, besides wire's bad_message,
// too_large, rate_limited, token_invalid, token_expired,
// token_not_yet_valid, permission_denied, overloaded and internal.
const (
	// CodeNotAuthenticated: the first message was not a valid hello.
	CodeNotAuthenticated = "not_authenticated"
	// CodeTooManyConnections: the identity has MaxConnections open.
	CodeTooManyConnections = "too_many_connections"
	// CodeNotOnline: an invitee is not online on this server.
	CodeNotOnline = "not_online"
	// CodeNoSuchCall: the call is over, or was never yours to act on.
	CodeNoSuchCall = "no_such_call"
	// CodeNotInvited: a join to a call's room by someone the call has not
	// admitted (PROTOCOL.md §4 join refusals).
	CodeNotInvited = "not_invited"
	// CodeInCall: a new call while the caller is in another one.
	CodeInCall = "in_call"
)

// Limits.
const (
	// MaxInvitees bounds the people one invite names.
	MaxInvitees = 8
	// MaxMembers bounds everyone ever invited to one call, caller included.
	MaxMembers = 16
	// MinKeyBytes and MaxKeyBytes bound an open-mode key.
	MinKeyBytes = 16
	MaxKeyBytes = 128
	// MaxConnections bounds one identity's presence connections.
	MaxConnections = 4
	// MaxRefBytes bounds a request's ref.
	MaxRefBytes = 64
	// MaxFrameBytes bounds one frame a client sends.
	MaxFrameBytes = 8 << 10
)

// RoomPrefix begins the name of every call's room. Rooms with it are the
// server's: a join is admitted only for a running call's members.
const RoomPrefix = "call-"

// IsCallRoom reports whether room is reserved for calls.
func IsCallRoom(room string) bool { return strings.HasPrefix(room, RoomPrefix) }

// KeyIdentity is the identity an open-mode key stands for: "p-" and 16
// hex digits of its SHA-256. Only the key's holder can claim it.
func KeyIdentity(key string) string {
	sum := sha256.Sum256([]byte("confab-presence\x00" + key))
	return "p-" + hex.EncodeToString(sum[:8])
}

// Hello is the first message: in open mode Key (kept secret by the app,
// MinKeyBytes..MaxKeyBytes of printable ASCII) and Name; on a server with
// tokens, Token (identity and name come from it; any room's token does).
type Hello struct {
	Key   string `json:"key,omitempty"`
	Name  string `json:"name,omitempty"`
	Token string `json:"token,omitempty"`
}

// Validate checks the hello's shape.
func (h Hello) Validate() error {
	if h.Token != "" {
		if h.Key != "" {
			return fmt.Errorf("hello: key and token both given")
		}
		if len(h.Token) > 4096 {
			return fmt.Errorf("hello: token too long")
		}
		return nil
	}
	if len(h.Key) < MinKeyBytes || len(h.Key) > MaxKeyBytes {
		return fmt.Errorf("hello: key must be %d to %d characters", MinKeyBytes, MaxKeyBytes)
	}
	for i := 0; i < len(h.Key); i++ {
		if h.Key[i] < 0x21 || h.Key[i] > 0x7e {
			return fmt.Errorf("hello: key must be printable ASCII without spaces")
		}
	}
	return wire.ValidateName("name", h.Name)
}

// Person is someone online.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Busy says they are in a call (or said so with set_busy).
	Busy bool `json:"busy,omitempty"`
}

// Ready answers hello: who you are and who else is online.
type Ready struct {
	You    Person   `json:"you"`
	People []Person `json:"people"`
	// RingTimeoutMS is how long an invitation rings before no_answer.
	RingTimeoutMS int64 `json:"ring_timeout_ms"`
}

// PersonOffline says someone's last connection closed.
type PersonOffline struct {
	ID string `json:"id"`
}

// Invite starts a call (Call empty) or asks more people into one the
// sender is in (Call set; Kind is then the call's).
type Invite struct {
	Ref  string   `json:"ref,omitempty"`
	Call string   `json:"call,omitempty"`
	To   []string `json:"to"`
	Kind string   `json:"kind,omitempty"`
}

// Validate checks the invite's shape: 1..MaxInvitees valid identities, a
// known kind for a new call.
func (in Invite) Validate() error {
	if err := validRef(in.Ref); err != nil {
		return err
	}
	if len(in.To) == 0 {
		return fmt.Errorf("invite: nobody to invite")
	}
	if len(in.To) > MaxInvitees {
		return fmt.Errorf("invite: at most %d people at once", MaxInvitees)
	}
	for _, id := range in.To {
		if err := wire.ValidateName("to", id); err != nil {
			return fmt.Errorf("invite: %w", err)
		}
	}
	if in.Call == "" && in.Kind != KindVideo && in.Kind != KindAudio {
		return fmt.Errorf("invite: kind must be %q or %q", KindVideo, KindAudio)
	}
	if len(in.Call) > MaxRefBytes {
		return fmt.Errorf("invite: call id too long")
	}
	return nil
}

// Answer is accept, decline and hangup: what to do with call Call. For
// cancel, To names the invitations to withdraw (empty: every one still
// ringing).
type Answer struct {
	Ref  string   `json:"ref,omitempty"`
	Call string   `json:"call"`
	To   []string `json:"to,omitempty"`
}

// Validate checks the answer's shape.
func (a Answer) Validate() error {
	if err := validRef(a.Ref); err != nil {
		return err
	}
	if a.Call == "" || len(a.Call) > MaxRefBytes {
		return fmt.Errorf("call: missing or too long")
	}
	if len(a.To) > MaxMembers {
		return fmt.Errorf("to: at most %d", MaxMembers)
	}
	return nil
}

// SetBusy tells the server the app is in a call it cannot see (a room
// joined by name): invitations then get busy.
type SetBusy struct {
	Busy bool `json:"busy"`
}

// Member is one person in a call and their state.
type Member struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	// InvitedBy is the identity that invited them ("" for the caller).
	InvitedBy string `json:"invited_by,omitempty"`
}

// Call is a call as its members see it, sent whenever it changes.
type Call struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// From is the caller.
	From     string   `json:"from"`
	FromName string   `json:"from_name"`
	Created  int64    `json:"created"` // Unix ms
	Members  []Member `json:"members"`
	// Ended is the end reason once the call is over; no message about
	// it follows.
	Ended string `json:"ended,omitempty"`
}

// Member returns id's entry, or nil.
func (c *Call) Member(id string) *Member {
	for i := range c.Members {
		if c.Members[i].ID == id {
			return &c.Members[i]
		}
	}
	return nil
}

// Join is what a member needs to enter the call's room.
type Join struct {
	Room  string `json:"room"`
	Token string `json:"token"`
}

// CallMsg carries a call: to each member whenever it changes, and as the
// answer to a request (Ref then set, and Join when the request was an
// invite that started the call or an accept).
type CallMsg struct {
	Ref  string `json:"ref,omitempty"`
	Call Call   `json:"call"`
	Join *Join  `json:"join,omitempty"`
}

// Error is the server's refusal; Ref names the request. Fatal errors
// close the connection.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
	Fatal   bool   `json:"fatal,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func validRef(ref string) error {
	if len(ref) > MaxRefBytes {
		return fmt.Errorf("ref: too long (max %d bytes)", MaxRefBytes)
	}
	return nil
}

// Active reports whether a member state is one of ringing, accepted,
// joined.
func Active(state string) bool {
	return state == StateRinging || state == StateAccepted || state == StateJoined
}
