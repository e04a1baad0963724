// Package wire defines Confab's signaling protocol: the JSON messages that a
// client and the server exchange over one websocket, their limits, and the
// stable error codes. It depends only on the standard library so that any
// client, and the fuzzer, can use it. signaling/PROTOCOL.md is its prose twin.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ProtocolVersion is the version of this protocol. A client sends it in every
// envelope; the server refuses other versions with CodeUnsupportedProtocol.
const ProtocolVersion = 1

// Limits every peer enforces on what it reads.
const (
	// MaxMessageBytes is the largest websocket message either side reads.
	// A larger one closes the connection with status 1009 (message too big).
	MaxMessageBytes = 128 << 10
	// MaxChatBytes is the largest chat text, in bytes of UTF-8.
	MaxChatBytes = 4096
	// MaxNameRunes bounds display names, identities and room names.
	MaxNameRunes = 64
	// MaxMessageIDBytes bounds client-chosen chat message ids.
	MaxMessageIDBytes = 64
	// MaxSDPBytes bounds a session description.
	MaxSDPBytes = 120 << 10
	// MaxTokenBytes bounds a join token.
	MaxTokenBytes = 4096
	// HistoryPage is the number of chat messages sent on join and the
	// largest page a history request returns.
	HistoryPage = 50
	// MaxResumeChat is the most chat messages a joined message carries
	// for a join with AfterSeq > 0; Joined.ChatGap tells that more exist.
	MaxResumeChat = 200
)

// Message types. The direction is given in brackets.
const (
	TypeJoin               = "join"                // client -> server
	TypeAnswer             = "answer"              // client -> server
	TypeSetSource          = "set_source"          // client -> server
	TypeChat               = "chat"                // both directions
	TypeHistory            = "history"             // both directions
	TypeLeave              = "leave"               // client -> server
	TypeRenegotiate        = "renegotiate"         // client -> server
	TypeSetHand            = "set_hand"            // client -> server
	TypeReact              = "react"               // client -> server
	TypeSetLayer           = "set_layer"           // client -> server
	TypeJoined             = "joined"              // server -> client
	TypeOffer              = "offer"               // server -> client
	TypeParticipantJoined  = "participant_joined"  // server -> client
	TypeParticipantLeft    = "participant_left"    // server -> client
	TypeParticipantUpdated = "participant_updated" // server -> client
	TypeSpeakers           = "speakers"            // server -> client
	TypeReaction           = "reaction"            // server -> client
	TypeLayer              = "layer"               // server -> client
	TypePublishLayers      = "publish_layers"      // server -> client
	TypeError              = "error"               // server -> client
)

// Sources of media a participant publishes.
const (
	SourceMicrophone = "microphone"
	SourceCamera     = "camera"
	SourceScreen     = "screen"
)

// ValidSource reports whether s names a media source.
func ValidSource(s string) bool {
	return s == SourceMicrophone || s == SourceCamera || s == SourceScreen
}

// Envelope is the frame of every message: a version, a type and the
// type's payload.
type Envelope struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Join asks to enter the room named in the token. It must be the first
// message on a connection.
type Join struct {
	Token string `json:"token"`
	// Room must equal the token's room; it guards against using a token
	// for another room by mistake.
	Room string `json:"room"`
	// Mic and Camera are the states the participant starts in.
	Mic    bool `json:"mic"`
	Camera bool `json:"camera"`
	// AfterSeq, when > 0, asks for the chat messages after this sequence
	// number instead of the newest page (used when rejoining).
	AfterSeq int64 `json:"after_seq,omitempty"`
	// StandbyLayers says the client can stop and start the simulcast
	// layers of its camera one by one: the server then tells it, with
	// PublishLayers, which layers someone receives (PROTOCOL.md §5.3).
	StandbyLayers bool `json:"standby_layers,omitempty"`
}

// Joined answers a successful Join with the state of the room.
type Joined struct {
	Room         string        `json:"room"`
	You          Participant   `json:"you"`
	Participants []Participant `json:"participants"`
	Chat         []ChatMessage `json:"chat"`
	// ChatMore is true when older messages exist before Chat[0]. It is
	// always false for a join with AfterSeq > 0.
	ChatMore bool `json:"chat_more"`
	// ChatGap is true, only for a join with AfterSeq > 0, when more
	// messages followed AfterSeq than Chat holds (MaxResumeChat). Fetch the
	// rest with HistoryRequest{After: <last seq in Chat>}, paging forward
	// until History.More is false.
	ChatGap    bool  `json:"chat_gap,omitempty"`
	ServerTime int64 `json:"server_time"`
	// ICEServers, when the server runs its TURN relay, are the relay's
	// URLs and this participant's credentials (valid while the token is).
	ICEServers []ICEServer `json:"ice_servers,omitempty"`
	// Recording is true (and only then present) when the room is being
	// recorded: the joiner knows before any media flows (recording.go).
	Recording bool `json:"recording,omitempty"`
	// CanRecord is true (and only then present) when this participant may
	// start and stop recording: their token has the admin grant and the
	// server has a recording directory (start_recording, stop_recording).
	CanRecord bool `json:"can_record,omitempty"`
}

// Participant is the public state of one person in a room.
type Participant struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Mic      bool    `json:"mic"`
	Camera   bool    `json:"camera"`
	Screen   bool    `json:"screen"`
	JoinedAt int64   `json:"joined_at"`
	Tracks   []Track `json:"tracks"`
	// HandRaisedAt is when the participant raised their hand (Unix ms),
	// 0 (and absent on the wire) while it is down. In a room the values
	// differ and grow in the order hands went up: sort by it to show who
	// asked first.
	HandRaisedAt int64 `json:"hand_raised_at,omitempty"`
}

// Track describes one forwarded media track. Its ID is the track id in
// the SDP's msid and its stream id is the participant's ID.
type Track struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Kind   string `json:"kind"`
}

// TrackID returns the id the server gives the track of participant from source.
func TrackID(participant, source string) string { return source + ":" + participant }

// Offer carries an SDP offer from the server. The server is always the
// offerer; the client answers every offer.
type Offer struct {
	SDP string `json:"sdp"`
	// Publish maps the mid of each m-line the server wants the client to
	// send on to the source to send there.
	Publish map[string]string `json:"publish"`
	// Tracks maps the mid of each m-line the server sends on to the track.
	Tracks map[string]TrackRef `json:"tracks"`
}

// TrackRef names a forwarded track in an Offer.
type TrackRef struct {
	Participant string `json:"participant"`
	Source      string `json:"source"`
}

// Answer carries the client's SDP answer to the latest Offer.
type Answer struct {
	SDP string `json:"sdp"`
}

// SetSource turns one of the client's sources on or off.
type SetSource struct {
	Source  string `json:"source"`
	Enabled bool   `json:"enabled"`
}

// ChatSend is a chat message from a client.
type ChatSend struct {
	// ID is chosen by the client and unique among its messages: a resend
	// with the same ID is stored once.
	ID   string `json:"id"`
	Text string `json:"text"`
}

// ChatMessage is a stored chat message as the server sends it.
type ChatMessage struct {
	Seq  int64  `json:"seq"`
	ID   string `json:"id"`
	From string `json:"from"`
	Name string `json:"name"`
	Text string `json:"text"`
	At   int64  `json:"at"`
}

// ChatEvent carries one chat message from the server.
type ChatEvent struct {
	Message ChatMessage `json:"message"`
}

// HistoryRequest asks for a page of stored chat messages: with After > 0
// the page after that seq (paging forward, to fill a gap after a rejoin),
// otherwise the page before Before (0: the newest page).
type HistoryRequest struct {
	Req    string `json:"req,omitempty"`
	Before int64  `json:"before"`
	After  int64  `json:"after,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// History answers a HistoryRequest, oldest message first. More is true
// when older messages exist before the page (Before mode) or newer ones
// after it (After mode).
type History struct {
	Req      string        `json:"req,omitempty"`
	Messages []ChatMessage `json:"messages"`
	More     bool          `json:"more"`
}

// ParticipantEvent carries a participant that joined or changed.
type ParticipantEvent struct {
	Participant Participant `json:"participant"`
}

// ParticipantLeft tells that a participant left and why.
type ParticipantLeft struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Speakers lists who is speaking now, loudest first.
type Speakers struct {
	Speakers []Speaker `json:"speakers"`
}

// Speaker is one active speaker and its level from 0 (silent) to 1 (loud).
type Speaker struct {
	ID    string  `json:"id"`
	Level float64 `json:"level"`
}

// Error reports a failure. Fatal errors are followed by the server closing
// the connection.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Ref names what failed: a chat message id or a request id.
	Ref   string `json:"ref,omitempty"`
	Fatal bool   `json:"fatal,omitempty"`
}

// Error returns the code and message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Stable error codes.
const (
	CodeTokenInvalid        = "token_invalid"
	CodeTokenExpired        = "token_expired"
	CodeTokenNotYetValid    = "token_not_yet_valid"
	CodeRoomMismatch        = "room_mismatch"
	CodePermissionDenied    = "permission_denied"
	CodeRoomFull            = "room_full"
	CodeRateLimited         = "rate_limited"
	CodeBadMessage          = "bad_message"
	CodeTooLarge            = "too_large"
	CodeDuplicateIdentity   = "duplicate_identity"
	CodeUnsupportedProtocol = "unsupported_protocol"
	CodeNotJoined           = "not_joined"
	CodeInternal            = "internal"
	// CodeOverloaded refuses a chat message the server could not store
	// quickly enough (its write queue is full, or the message waited too
	// long). Nothing was stored; resend it later with the same id.
	CodeOverloaded = "overloaded"
)

// Sentinel errors of Decode.
var (
	ErrTooLarge    = errors.New("message too large")
	ErrBadMessage  = errors.New("bad message")
	ErrVersion     = errors.New("unsupported protocol version")
	ErrUnknownType = errors.New("unknown message type")
)

// Encode frames payload as a message of type t. The result is what
// json.Marshal(Envelope{…}) gives, built without marshalling the payload
// twice (the server encodes every message it sends through here).
func Encode(t string, payload any) ([]byte, error) {
	typ, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", t, err)
	}
	b := make([]byte, 0, 64)
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, ProtocolVersion, 10)
	b = append(b, `,"type":`...)
	b = append(b, typ...)
	if payload != nil {
		data, err := json.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", t, err)
		}
		b = append(b, `,"data":`...)
		b = append(b, data...)
	}
	return append(b, '}'), nil
}

// DecodeEnvelope parses the frame of a message and checks its size, that
// it is a JSON object, its version and type, and that all of its text is
// valid UTF-8 (RFC 8259 §8.1): no invalid bytes and no escaped lone
// surrogate such as "\ud800" (encoding/json would silently turn either
// into U+FFFD). The payload is left raw for DecodeData. When only the text
// check fails, the returned Envelope is filled in, so a caller can name
// what it refuses (see Ref).
func DecodeEnvelope(b []byte) (Envelope, error) {
	var env Envelope
	if len(b) > MaxMessageBytes {
		return env, ErrTooLarge
	}
	if !isObject(b) {
		return env, fmt.Errorf("%w: not a JSON object", ErrBadMessage)
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return env, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if env.V != ProtocolVersion {
		return env, fmt.Errorf("%w: %d", ErrVersion, env.V)
	}
	if !knownType(env.Type) {
		return env, fmt.Errorf("%w: %q", ErrUnknownType, truncate(env.Type, 32))
	}
	if err := validText(b); err != nil {
		return env, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return env, nil
}

// isObject reports whether the JSON text b starts with an object.
func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

// validText checks syntactically valid JSON text b for invalid UTF-8 and
// for \u escapes of unpaired UTF-16 surrogates (RFC 8259 §7, §8.2).
func validText(b []byte) error {
	if !utf8.Valid(b) {
		return ErrNotUTF8
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		// In valid JSON a backslash only starts an escape inside a string.
		i++
		if i >= len(b) || b[i] != 'u' {
			continue
		}
		r, ok := hex4(b, i+1)
		if !ok {
			return ErrNotUTF8
		}
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrNotUTF8, r)
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
				return fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrNotUTF8, r)
			}
			lo, ok := hex4(b, i+3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrNotUTF8, r)
			}
			i += 6
		}
	}
	return nil
}

// hex4 parses the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// Ref returns what an error about env should name in Error.Ref: the id of
// a chat message or the req of a history request, when the payload has
// one that is itself valid; "" otherwise.
func Ref(env Envelope) string {
	if env.Type != TypeChat && env.Type != TypeHistory {
		return ""
	}
	var f struct {
		ID  string `json:"id"`
		Req string `json:"req"`
	}
	if json.Unmarshal(env.Data, &f) != nil {
		return ""
	}
	ref := f.ID
	if env.Type == TypeHistory {
		ref = f.Req
	}
	if validateID("ref", ref) != nil {
		return ""
	}
	return ref
}

// Code returns the error code for an error of DecodeEnvelope or
// DecodeData: unsupported_protocol for a wrong version, too_large for
// chat text over MaxChatBytes, bad_message for everything else.
func Code(err error) string {
	switch {
	case errors.Is(err, ErrVersion):
		return CodeUnsupportedProtocol
	case errors.Is(err, ErrTextTooLarge):
		return CodeTooLarge
	}
	return CodeBadMessage
}

// DecodeData parses the payload of env into v, which must be a pointer to
// the type's struct, and validates it where the type has a Validate method.
func DecodeData(env Envelope, v any) error {
	if len(env.Data) == 0 {
		return fmt.Errorf("%w: %s has no data", ErrBadMessage, env.Type)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadMessage, env.Type, err)
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadMessage, env.Type, err)
		}
	}
	return nil
}

func knownType(t string) bool {
	switch t {
	case TypeJoin, TypeAnswer, TypeSetSource, TypeChat, TypeHistory, TypeLeave, TypeRenegotiate,
		TypeSetHand, TypeReact, TypeSetLayer, TypeStartRecording, TypeStopRecording, TypeRecording,
		TypeJoined, TypeOffer, TypeParticipantJoined, TypeParticipantLeft,
		TypeParticipantUpdated, TypeSpeakers, TypeReaction, TypeLayer, TypePublishLayers, TypeError:
		return true
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Renegotiate is the optional data of a renegotiate request.
type Renegotiate struct {
	// ICERestart asks for an offer with new ICE credentials (RFC 8445
	// §9): send it when your media stopped while the websocket lives.
	ICERestart bool `json:"ice_restart,omitempty"`
}
