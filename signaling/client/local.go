package client

import (
	"fmt"

	"github.com/confab/confab/signaling/wire"
)

// open opens one local source.
func (s *Session) open(source string) (LocalTrack, error) {
	m := s.cfg.Media
	if m == nil {
		return nil, ErrNoMedia
	}
	switch source {
	case wire.SourceMicrophone:
		return m.OpenMicrophone()
	case wire.SourceCamera:
		return m.OpenCamera()
	default:
		return m.OpenScreen()
	}
}

// openEnabled opens every source that is on and not open yet. A device
// that fails to open is reported and turned off, not fatal to the call.
func (s *Session) openEnabled() {
	s.mu.Lock()
	var want []string
	for src, on := range s.enabled {
		if on && s.local[src] == nil {
			want = append(want, src)
		}
	}
	s.mu.Unlock()
	for _, src := range want {
		t, err := s.open(src)
		s.mu.Lock()
		if err != nil {
			s.enabled[src] = false
			s.mu.Unlock()
			s.events.push(ErrorEvent{Err: fmt.Errorf("%s: %w", src, err)})
			continue
		}
		s.local[src] = t
		s.mu.Unlock()
	}
}

// closeLocal releases every local source (the camera light goes off).
func (s *Session) closeLocal() {
	s.mu.Lock()
	local := s.local
	s.local = map[string]LocalTrack{}
	s.mu.Unlock()
	for src, t := range local {
		_ = t.Close()
		if src != wire.SourceMicrophone {
			s.events.push(VideoRemoved{ParticipantID: s.Self().ID, Source: src})
		}
	}
}

// announceLocalVideo reports the open local video sources as videos.
func (s *Session) announceLocalVideo() {
	s.mu.Lock()
	id := s.self.ID
	var evs []Event
	for src, t := range s.local {
		if p, ok := t.(Previewer); ok && src != wire.SourceMicrophone {
			evs = append(evs, VideoAdded{ParticipantID: id, Source: src, Local: true, Video: p.Preview()})
		}
	}
	s.mu.Unlock()
	for _, ev := range evs {
		s.events.push(ev)
	}
}

// SetMicMuted stops or resumes sending the microphone. Muted, nothing is
// sent and the device is closed.
func (s *Session) SetMicMuted(muted bool) error { return s.setSource(wire.SourceMicrophone, !muted) }

// SetCameraOn turns the camera on or off; off releases the device.
func (s *Session) SetCameraOn(on bool) error { return s.setSource(wire.SourceCamera, on) }

// SetScreenShare starts or stops sharing the screen.
func (s *Session) SetScreenShare(on bool) error { return s.setSource(wire.SourceScreen, on) }

// setSource opens or closes a source, swaps it into its sender, and tells
// the room.
func (s *Session) setSource(source string, on bool) error {
	s.mu.Lock()
	if s.finished || s.leaving {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.conn
	already := (s.local[source] != nil) == on
	s.mu.Unlock()
	if already {
		return nil
	}
	var t LocalTrack
	if on {
		var err error
		if t, err = s.open(source); err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
	}
	renegotiate := false
	c.pcMu.Lock()
	s.mu.Lock()
	old := s.local[source]
	s.enabled[source] = on
	if on {
		s.local[source] = t
	} else {
		delete(s.local, source)
	}
	id := s.self.ID
	sendLayers := s.sendLayers
	s.mu.Unlock()
	if on && source == wire.SourceCamera {
		sendLayersTo(t, sendLayers) // what the server said last (standby.go)
	}
	if tr := c.slots[source]; tr != nil {
		switch {
		case tr.Sender() == nil && on:
			if err := c.attachLocal(tr, source, t); err != nil {
				s.log.Warn("attach", "source", source, "err", err)
			}
			renegotiate = true
		case tr.Sender() != nil && on:
			_ = c.replace(tr, source, t)
		case tr.Sender() != nil:
			_ = c.replace(tr, source, nil) // stops sending; the m-line stays
		}
	}
	c.pcMu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	if source != wire.SourceMicrophone {
		if on {
			if p, ok := t.(Previewer); ok {
				s.events.push(VideoAdded{ParticipantID: id, Source: source, Local: true, Video: p.Preview()})
			}
		} else {
			s.events.push(VideoRemoved{ParticipantID: id, Source: source})
		}
	}
	c.sendMsg(wire.TypeSetSource, wire.SetSource{Source: source, Enabled: on})
	if renegotiate {
		c.sendMsg(wire.TypeRenegotiate, struct{}{})
	}
	return nil
}
