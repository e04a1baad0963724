package client

import (
	"image"

	"github.com/confab/confab/signaling/wire"
)

// Participant is the public state of one person in the room.
type Participant = wire.Participant

// ChatMessage is one stored chat message.
type ChatMessage = wire.ChatMessage

// Speaker is one active speaker with a level from 0 to 1.
type Speaker = wire.Speaker

// State is where a session is in its life.
type State int

// Session states, in the order a session normally passes through them.
const (
	StateConnecting State = iota
	StateConnected
	StateReconnecting
	StateLeft
)

// String names the state for logs and the UI.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateLeft:
		return "left"
	}
	return "unknown"
}

// VideoSource is a latest-frame slot a video tile draws from
// (media.FrameSlot implements it).
//
// Seq returns the sequence number of the newest frame: 0 before the first,
// then growing with each new frame; it is cheap, for polling.
//
// Render draws the newest frame into dst scaled to width x height (the
// frame's own size when either is not positive), flipped left to right if
// mirror is set. dst, which the caller owns, is resized to that size with
// its origin at (0,0) and Stride 4*width, reusing its pixels when they
// are large enough; Render returns the image written (dst or a new one),
// the frame's own size (for letterboxing) and its sequence number, or
// (dst, (0,0), 0) before the first frame. A caller that keeps dst and its
// size allocates nothing per frame.
type VideoSource interface {
	Seq() uint64
	Render(dst *image.RGBA, width, height int, mirror bool) (*image.RGBA, image.Point, uint64)
}

// Event is something that happened in the session. Events arrive in order
// on Session.Events.
type Event interface{ event() }

// Welcome is the first event of a session and of every successful rejoin:
// who you are, who is here, and the newest chat messages.
type Welcome struct {
	Room         string
	You          Participant
	Participants []Participant
	Chat         []ChatMessage
	ChatMore     bool
	Rejoined     bool
	// Recording is true when the room is being recorded (recording.go).
	Recording bool
	// CanRecord is true when this participant may start and stop
	// recording (StartRecording): the token has the admin grant and the
	// server records.
	CanRecord bool
}

// StateChanged reports a new session state. Err says why for
// StateReconnecting and for an unexpected StateLeft.
type StateChanged struct {
	State State
	Err   error
}

// ParticipantJoined reports someone entering the room.
type ParticipantJoined struct{ Participant Participant }

// ParticipantLeft reports someone leaving the room.
type ParticipantLeft struct{ ID, Reason string }

// ParticipantUpdated reports a change of mic, camera or screen state.
type ParticipantUpdated struct{ Participant Participant }

// VideoAdded reports a video to show: a remote camera or screen share, or
// the local camera (ParticipantID is then your own id and Local is true).
type VideoAdded struct {
	ParticipantID string
	Source        string
	Local         bool
	Video         VideoSource
}

// VideoRemoved reports that a video stopped.
type VideoRemoved struct {
	ParticipantID string
	Source        string
}

// SpeakersChanged lists the active speakers, loudest first.
type SpeakersChanged struct{ Speakers []Speaker }

// ChatReceived reports a chat message. Own is true for your own message
// coming back stored: that is the "sent" acknowledgement of SendChat.
type ChatReceived struct {
	Message ChatMessage
	Own     bool
}

// ChatFailed reports that your message ID could not be sent; it can be
// retried with RetryChat.
type ChatFailed struct {
	ID  string
	Err error
}

// HistoryLoaded answers LoadOlderChat, oldest message first.
type HistoryLoaded struct {
	Messages []ChatMessage
	More     bool
}

// ErrorEvent reports a problem that does not end the session.
type ErrorEvent struct{ Err error }

func (Welcome) event()            {}
func (StateChanged) event()       {}
func (ParticipantJoined) event()  {}
func (ParticipantLeft) event()    {}
func (ParticipantUpdated) event() {}
func (VideoAdded) event()         {}
func (VideoRemoved) event()       {}
func (SpeakersChanged) event()    {}
func (ChatReceived) event()       {}
func (ChatFailed) event()         {}
func (HistoryLoaded) event()      {}
func (ErrorEvent) event()         {}
