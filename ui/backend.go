package ui

import (
	"context"
	"errors"
	"time"

	"github.com/confab/confab/signaling/client"
)

// JoinRequest is what the entry screen collects before joining a room.
type JoinRequest struct {
	Name, Room, Server         string
	CameraID, MicID, SpeakerID string
	UseTestPattern             bool
	// MicOff and CameraOff join with the microphone muted and the camera
	// off; they can be turned on in the call.
	MicOff, CameraOff bool
	// Token, when set, is the join token to use (a support call's);
	// without one the server is asked for a token for Name.
	Token string
	// Title, when set, names the call on its screen instead of Room (a
	// call between people, whose room has a made-up name).
	Title string
}

// ErrDevicesInUse is what Preview and MicLevel return (wrapped or not)
// while a call still holds the camera and microphone. The entry screen
// then waits for the call to let them go and tries again.
var ErrDevicesInUse = errors.New("the camera and microphone are in use by the call")

// Device is one camera, microphone or speaker the user can pick.
type Device struct {
	ID, Label string
}

// Devices lists the media devices found on this machine.
type Devices struct {
	Cameras, Microphones, Speakers []Device
	// Screens are the screens that can be shared.
	Screens []Device
}

// Backend is what the UI needs from the rest of the app: joining rooms and
// looking at local devices. The UI calls Join, Preview and MicLevel from
// background goroutines, Devices and ServerHint from the UI goroutine.
type Backend interface {
	// Join enters a room. Errors may wrap *wire.Error or network errors;
	// the UI turns them into plain words.
	Join(ctx context.Context, req JoinRequest) (Call, error)
	// Devices lists cameras, microphones and speakers.
	Devices() Devices
	// Preview opens a camera (or the test pattern) for the entry screen's
	// live preview; the returned func stops it.
	Preview(cameraID string, testPattern bool) (client.VideoSource, func(), error)
	// MicLevel opens a microphone and returns a level source from 0 to 1
	// and a func that stops it.
	MicLevel(micID string) (func() float64, func(), error)
	// ServerHint says which server is used when none is given, such as
	// "Hosting on 127.0.0.1:7880".
	ServerHint() string
}

// Call is one joined room. SendChat, RetryChat and LoadOlderChat are
// called on the UI goroutine and must not block; the other methods are
// called from background goroutines.
type Call interface {
	// Events delivers the session's events in order. It is closed after
	// the final StateChanged{State: client.StateLeft}.
	Events() <-chan client.Event
	// SendChat sends text and returns its id at once. The acknowledgement
	// arrives as client.ChatReceived{Own: true} with Message.ID == id, a
	// failure as client.ChatFailed{ID: id}.
	SendChat(text string) (id string, err error)
	// RetryChat sends a failed message again.
	RetryChat(id string) error
	// LoadOlderChat asks for the messages before beforeSeq; the answer
	// arrives as client.HistoryLoaded.
	LoadOlderChat(beforeSeq int64) error
	// SetMicMuted mutes or unmutes the microphone.
	SetMicMuted(muted bool) error
	// SetCameraOn turns the camera on or off.
	SetCameraOn(on bool) error
	// SetScreenShare starts or stops sharing the screen.
	SetScreenShare(on bool) error
	// ReconnectNow makes a call that lost its connection try to rejoin at
	// once instead of waiting for its next attempt.
	ReconnectNow()
	// Leave ends the call. It is idempotent.
	Leave() error
}

// NetworkHost is implemented by a Backend whose built-in server can be
// opened to the local network. The entry screen then offers a check box;
// ServerHint says the address to give others.
type NetworkHost interface {
	// NetworkAccess reports whether others on the network can join.
	NetworkAccess() bool
	// SetNetworkAccess opens the built-in server to the network or closes
	// it again. It is called off the UI goroutine and may take a moment.
	SetNetworkAccess(on bool) error
}

// ServerWatcher is implemented by a Backend whose built-in server can
// change by itself: the app whose server it used quit and this one took
// over hosting it. The entry screen then says so.
type ServerWatcher interface {
	// OnServerChanged registers f, called from any goroutine after the
	// change; ServerHint and NetworkAccess then tell the new state.
	OnServerChanged(f func())
}

// SoundPlayer is implemented by a Call that can play the app's short
// sounds (the names in assets/sounds) on its speaker.
type SoundPlayer interface {
	// PlaySound plays the sound called name; it must not block.
	PlaySound(name string)
}

// SpeakerSwitcher is implemented by a Call that can move its sound to
// another speaker during the call, at once.
type SpeakerSwitcher interface {
	// UseSpeaker plays the call on the speaker with id; on an error the
	// sound stays where it was.
	UseSpeaker(id string) error
}

// DeviceSwitcher is implemented by a Call that can move to another camera
// or microphone during the call. The choice takes effect the next time
// the device starts; the call screen restarts a device that is on.
type DeviceSwitcher interface {
	// UseCamera and UseMicrophone choose the device by id.
	UseCamera(id string)
	UseMicrophone(id string)
	// UseScreen chooses the screen the next share shows.
	UseScreen(id string)
}

// AudioProcessing is implemented by a Backend that can turn the
// microphone's echo cancellation, noise suppression and automatic gain
// control on and off. The call's device pop-up then has a check box for
// each, remembered in the preferences; the entry screen hands the saved
// choice over when it shows. SetAudioProcessing is called on the UI
// goroutine and must not block; it applies at once to a call in progress
// and to the next join.
type AudioProcessing interface {
	SetAudioProcessing(AudioSettings)
}

// Inviter is implemented by a Call that can make an invite link to its
// room: a short code at the server, http://HOST:PORT/j/CODE, that opens
// the call in a browser. The call's Invite action and the alone card's
// button then copy such a link; without an Inviter, or when making a link
// fails (a server too old for links, or out of reach), they copy how to
// join with the app instead.
type Inviter interface {
	// InviteLink makes a new link and says until when it works. It is
	// called off the UI goroutine and may take a moment.
	InviteLink(ctx context.Context) (link string, expires time.Time, err error)
}
