package client

import (
	"time"

	"github.com/confab/confab/signaling/wire"
)

// Recording (PROTOCOL.md §5.1 start_recording, stop_recording; §5.2
// recording). Whether the room is recorded when you join comes in
// Welcome.Recording, before any media flows; changes come as
// RecordingChanged. A participant whose token has the admin grant starts
// and stops it with StartRecording and StopRecording.

// RecordingChanged reports that recording of the room started or
// stopped. Reason is one of the wire.Recording* reasons: an admin
// (ByName, By), the server's policy, a full disk or another write
// error (the call goes on), the end of the meeting or a server stop.
// Since is when the recording started, while Active. An admin whose
// start or stop changed nothing gets one with the current state.
type RecordingChanged struct {
	Active     bool
	Reason     string
	By, ByName string
	Since      time.Time
}

func (RecordingChanged) event() {}

// StartRecording asks the server to record the room. It needs the admin
// grant: without it an ErrorEvent with wire.CodePermissionDenied follows
// (wire.CodeRecordingUnavailable on a server that does not record).
// ErrNotConnected while reconnecting, ErrClosed after the session ended.
func (s *Session) StartRecording() error { return s.sendRecording(wire.TypeStartRecording) }

// StopRecording asks the server to stop recording the room; as
// StartRecording.
func (s *Session) StopRecording() error { return s.sendRecording(wire.TypeStopRecording) }

func (s *Session) sendRecording(typ string) error {
	s.mu.Lock()
	if s.finished || s.leaving {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.conn
	st := s.state
	s.mu.Unlock()
	if st != StateConnected {
		return ErrNotConnected
	}
	c.sendMsg(typ, nil)
	return nil
}

func (s *Session) recordingArrived(env wire.Envelope) error {
	var r wire.Recording
	if err := wire.DecodeData(env, &r); err != nil {
		return err
	}
	ev := RecordingChanged{Active: r.Active, Reason: r.Reason, By: r.By, ByName: r.ByName}
	if r.Since > 0 {
		ev.Since = time.UnixMilli(r.Since)
	}
	s.events.push(ev)
	return nil
}
