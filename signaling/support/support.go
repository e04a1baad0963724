// Package support holds the support desk's protocol (PROTOCOL.md, "Support
// desk"): the messages of the customer's and the agent's websockets, their
// limits and error codes, and Go clients for both sides. The server side
// lives in signaling/server; the store in signaling/store.
//
// Messages travel in the envelope of the signaling protocol:
// {"v":1,"type":"…","data":{…}}, one JSON text frame each.
package support

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/confab/confab/signaling/wire"
)

// Message types. A customer sends resume, then send; an agent sends auth,
// then open, read, send, start_video, end_video and close.
const (
	TypeResume     = "resume"
	TypeAuth       = "auth"
	TypeSend       = "send"
	TypeOpen       = "open"
	TypeRead       = "read"
	TypeStartVideo = "start_video"
	TypeEndVideo   = "end_video"
	TypeClose      = "close"

	// TypeConversation is, to a customer, their conversation with its
	// messages (the answer to resume); to an agent, a conversation's
	// summary, new or changed.
	TypeConversation    = "conversation"
	TypeMessage         = "message"
	TypeError           = "error"
	TypeReady           = "ready"
	TypeHistory         = "history"
	TypeVideo           = "video"
	TypeCustomerEntered = "customer_entered"
	TypeVideoEnded      = "video_ended"
	TypeClosed          = "closed"
)

// Error codes of the support desk, besides wire's bad_message, too_large,
// rate_limited and internal.
const (
	CodeAgentKeyInvalid    = "agent_key_invalid"
	CodeSupportKeyInvalid  = "support_key_invalid"
	CodeNotAuthenticated   = "not_authenticated"
	CodeNotFound           = "not_found"
	CodeConversationClosed = "conversation_closed"
	CodeAgentBusy          = "agent_busy"
	CodeAlreadyRated       = "already_rated"
)

// Limits on what customers and agents send.
const (
	MaxEmailBytes   = 254
	MaxCommentRunes = 1000
	MaxIDBytes      = 64
	// MaxFrameBytes bounds one websocket frame.
	MaxFrameBytes = 16 << 10
)

// Senders of a Message.
const (
	FromCustomer = "customer"
	FromAgent    = "agent"
	FromSystem   = "system"
)

// Status of a conversation.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Message is one message of a conversation.
type Message struct {
	// Conversation is set on the copies agents get.
	Conversation string `json:"conversation,omitempty"`
	Seq          int64  `json:"seq"`
	ID           string `json:"id"`
	From         string `json:"from"`            // FromCustomer, FromAgent or FromSystem
	Agent        string `json:"agent,omitempty"` // the agent's id, for FromAgent
	Name         string `json:"name"`
	Text         string `json:"text"`
	// Link is the path of a video call's invite link (/j/CODE) on the
	// server, on the message Start video posts.
	Link string `json:"link,omitempty"`
	At   int64  `json:"at"` // unix milliseconds
}

// Summary is what an agent's list shows of a conversation.
type Summary struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Status   string `json:"status"`
	Created  int64  `json:"created"`
	ClosedBy string `json:"closed_by,omitempty"`
	// Last is the newest message.
	Last Message `json:"last"`
	// Unread counts the customer's messages no agent has marked read.
	Unread int `json:"unread"`
	// WaitingSince is when the oldest customer message no agent answered
	// was sent (unix ms), 0 when an agent spoke last.
	WaitingSince int64 `json:"waiting_since"`
	// New is true on the announcement of a new conversation.
	New bool `json:"new,omitempty"`
}

// Resume is a customer's first message.
type Resume struct {
	Conversation string `json:"conversation"`
	Key          string `json:"key"`
	// After is the highest seq the customer has; later messages come in
	// the answer.
	After int64 `json:"after"`
}

// ConversationState answers Resume: the customer's conversation and its
// messages after Resume.After, up to 200. When More is true the rest
// follow at once as message messages, oldest first; live messages may
// arrive among them, so a client keeps one of each seq.
type ConversationState struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Email    string    `json:"email"`
	Status   string    `json:"status"`
	ClosedBy string    `json:"closed_by,omitempty"`
	Messages []Message `json:"messages"`
	More     bool      `json:"more"`
}

// Send is a message to the conversation. Conversation is for agents
// only; a customer's go to their own.
type Send struct {
	Conversation string `json:"conversation,omitempty"`
	ID           string `json:"id"`
	Text         string `json:"text"`
}

// Auth is an agent's first message.
type Auth struct {
	Key string `json:"key"`
}

// AgentInfo names the signed-in agent.
type AgentInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Ready answers Auth: the agent, the open conversations and the agent's
// video call, if one is under way.
type Ready struct {
	Agent         AgentInfo `json:"agent"`
	Conversations []Summary `json:"conversations"`
	Video         *Video    `json:"video"`
}

// Open asks for a page of a conversation's messages: those before Before
// (0: the newest), up to Limit (default and most 200).
type Open struct {
	Conversation string `json:"conversation"`
	Before       int64  `json:"before,omitempty"`
	Limit        int    `json:"limit,omitempty"`
}

// History answers Open, oldest first.
type History struct {
	Conversation string    `json:"conversation"`
	Messages     []Message `json:"messages"`
	More         bool      `json:"more"`
}

// Read marks a conversation read up to Seq.
type Read struct {
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
}

// ConversationRef names a conversation (start_video, close).
type ConversationRef struct {
	Conversation string `json:"conversation"`
}

// Video is the agent's video call: its room, the customer's invite link
// and the agent's own join token for the room.
type Video struct {
	Conversation string `json:"conversation"`
	Room         string `json:"room"`
	Code         string `json:"code"`
	Link         string `json:"link"` // /j/CODE
	Token        string `json:"token"`
	Expires      int64  `json:"expires"` // unix ms: the link's and the token's end
	// CustomerIn is true once the customer has entered the call.
	CustomerIn bool `json:"customer_in,omitempty"`
}

// CustomerEntered tells the agent the customer is in the video call.
type CustomerEntered struct {
	Conversation string `json:"conversation"`
	Room         string `json:"room"`
	Name         string `json:"name"`
}

// VideoEnded tells the agent their video call is over (they may start
// another).
type VideoEnded struct {
	Conversation string `json:"conversation"`
	Room         string `json:"room"`
	Reason       string `json:"reason"`
}

// Closed tells a customer their conversation was closed.
type Closed struct {
	Conversation string `json:"conversation"`
	By           string `json:"by"`
	At           int64  `json:"at"`
}

// Error is a refusal; Ref names what it refers to (a message id or a
// conversation).
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errors of validation; match them with errors.Is.
var ErrInvalid = errors.New("support: invalid")

// ValidateName checks a customer's name: wire's rules for names (1-64
// characters, no control or text-direction characters) and no white space
// at either end.
func ValidateName(s string) error {
	if err := wire.ValidateName("name", s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%w: name: begins or ends with whitespace", ErrInvalid)
	}
	return nil
}

// ValidateEmail checks an optional e-mail address: empty, or at most 254
// bytes of printable text without spaces, with one @ that has something
// on both sides and a dot after it.
func ValidateEmail(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxEmailBytes || !utf8.ValidString(s) {
		return fmt.Errorf("%w: email: longer than %d bytes or not UTF-8", ErrInvalid, MaxEmailBytes)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == '"' {
			return fmt.Errorf("%w: email: spaces, control characters, <, > or \" in it", ErrInvalid)
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return fmt.Errorf("%w: email: not an address like name@example.com", ErrInvalid)
	}
	return nil
}

// ValidateText checks a message's text as wire checks chat: 1 to 4096
// bytes of UTF-8, no control characters but newline and tab.
func ValidateText(s string) error {
	if err := wire.ValidateChatText(s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ValidateID checks a message id: 1 to 64 bytes of letters, digits and
// . _ : -.
func ValidateID(s string) error {
	if s == "" || len(s) > MaxIDBytes {
		return fmt.Errorf("%w: id: 1 to %d characters", ErrInvalid, MaxIDBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return fmt.Errorf("%w: id: only letters, digits and . _ : -", ErrInvalid)
		}
	}
	return nil
}

// ValidateFeedback checks a rating (1-5) and its optional comment (at
// most 1000 characters of UTF-8, no control characters but newline and
// tab).
func ValidateFeedback(rating int, comment string) error {
	if rating < 1 || rating > 5 {
		return fmt.Errorf("%w: rating: 1 to 5", ErrInvalid)
	}
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > MaxCommentRunes {
		return fmt.Errorf("%w: comment: at most %d characters of UTF-8", ErrInvalid, MaxCommentRunes)
	}
	for _, r := range comment {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return fmt.Errorf("%w: comment: control characters", ErrInvalid)
		}
	}
	return nil
}

// Keys. An agent's sign-in key is "<agent id>.<secret>"; a customer's key
// to a conversation is a secret alone. Secrets are 32 random bytes in
// unpadded base64url; the store keeps their SHA-256.

// NewAgentKey returns a new agent id ("a-" and 8 hex digits), the key to
// give the agent, and the hash to store.
func NewAgentKey() (id, key string, hash []byte, err error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", nil, fmt.Errorf("support: random: %w", err)
	}
	id = "a-" + hex.EncodeToString(b[:])
	secret, hash, err := NewSecret()
	if err != nil {
		return "", "", nil, err
	}
	return id, id + "." + secret, hash, nil
}

// NewSecret returns a new secret and its hash.
func NewSecret() (secret string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("support: random: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret), nil
}

// HashSecret is the hash a secret is stored as.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SplitAgentKey splits an agent's key into its id and secret; ok is false
// for a string of another shape.
func SplitAgentKey(key string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(strings.TrimSpace(key), ".")
	if !ok || !strings.HasPrefix(id, "a-") || len(id) != 10 || len(secret) != 43 {
		return "", "", false
	}
	return id, secret, true
}
