package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2/widget"
)

// loadDevices fills the device pickers, keeping the previous choices, and
// hands the sound processing chosen before to the backend.
func (s *EntryScreen) loadDevices() {
	applyAudioPrefs(s.app)
	if s.Audio != nil {
		s.Audio.load() // they may have changed in a call
	}
	s.devices = s.app.backend.Devices()
	prefs := s.app.fyneApp.Preferences()
	s.camIDs = fillSelect(s.CameraSelect, s.devices.Cameras, prefs.String(prefCamera), "No camera found")
	s.micIDs = fillSelect(s.MicSelect, s.devices.Microphones, prefs.String(prefMic), "No microphone found")
	s.spkIDs = fillSelect(s.SpeakerSelect, s.devices.Speakers, prefs.String(prefSpeaker), "No speaker found")
	setVisible(s.NoCamera, len(s.devices.Cameras) == 0)
}

// fillSelect puts devices into sel, selects the one with id want (or the
// first), and returns the label to id map.
func fillSelect(sel *widget.Select, devs []Device, want, none string) map[string]string {
	ids := map[string]string{}
	labels := make([]string, 0, len(devs))
	chosen := ""
	for i, d := range devs {
		label := d.Label
		if label == "" {
			label = fmt.Sprintf("Device %d", i+1)
		}
		for n := 2; ids[label] != ""; n++ {
			label = fmt.Sprintf("%s (%d)", d.Label, n)
		}
		ids[label] = d.ID
		labels = append(labels, label)
		if i == 0 || d.ID == want {
			chosen = label
		}
	}
	cb := sel.OnChanged
	sel.OnChanged = nil
	sel.Options = labels
	sel.ClearSelected()
	if len(labels) == 0 {
		sel.PlaceHolder = none
		sel.Disable()
	} else {
		sel.PlaceHolder = "(Select one)"
		sel.Enable()
		sel.SetSelected(chosen)
	}
	sel.Refresh()
	sel.OnChanged = cb
	return ids
}

// selectedCamera returns the chosen camera's id, "" for none.
func (s *EntryScreen) selectedCamera() string { return s.camIDs[s.CameraSelect.Selected] }

// deviceChanged remembers a choice and restarts what depends on it.
func (s *EntryScreen) deviceChanged(which string) {
	prefs := s.app.fyneApp.Preferences()
	switch which {
	case prefCamera:
		prefs.SetString(prefCamera, s.selectedCamera())
		s.startPreview()
	case prefMic:
		prefs.SetString(prefMic, s.micIDs[s.MicSelect.Selected])
		s.startMic()
	case prefSpeaker:
		prefs.SetString(prefSpeaker, s.spkIDs[s.SpeakerSelect.Selected])
	}
}

// startPreview opens the chosen camera (or the test pattern) for the
// preview, in the background, replacing the previous one.
func (s *EntryScreen) startPreview() {
	if !s.visible {
		return
	}
	s.stopPreview()
	s.previewGen++
	gen := s.previewGen
	cam, pattern := s.selectedCamera(), s.TestPattern.Checked
	if s.cameraOff {
		s.Preview.SetSource(nil)
		setMessage(s.PreviewNote, "Your camera will be off when you join")
		return
	}
	if cam == "" && !pattern {
		s.Preview.SetSource(nil)
		setMessage(s.PreviewNote, "Camera off")
		return
	}
	setMessage(s.PreviewNote, "Starting camera…")
	b, do := s.app.backend, s.app.do
	go func() {
		src, stop, err := b.Preview(cam, pattern)
		do(func() {
			if gen != s.previewGen || !s.visible {
				if stop != nil {
					go stop()
				}
				return
			}
			if errors.Is(err, ErrDevicesInUse) {
				// devicesReleased starts it again once the call let go.
				s.Preview.SetSource(nil)
				setMessage(s.PreviewNote, "Waiting for the call to release the camera…")
				return
			}
			if err != nil {
				s.Preview.SetSource(nil)
				setMessage(s.PreviewNote, "Can't show the camera: "+sentence(err.Error()))
				return
			}
			s.previewStop = stop
			s.Preview.SetSource(src)
			setMessage(s.PreviewNote, "")
		})
	}()
}

// stopPreview closes the preview's camera.
func (s *EntryScreen) stopPreview() {
	s.previewGen++
	s.Preview.SetSource(nil)
	if stop := s.previewStop; stop != nil {
		s.previewStop = nil
		go stop()
	}
}

// startMic opens the chosen microphone for the level meter.
func (s *EntryScreen) startMic() {
	if !s.visible {
		return
	}
	s.stopMic()
	s.micGen++
	gen := s.micGen
	mic, ok := s.micIDs[s.MicSelect.Selected]
	if !ok || s.micOff {
		return
	}
	b, do := s.app.backend, s.app.do
	go func() {
		level, stop, err := b.MicLevel(mic)
		do(func() {
			if gen != s.micGen || !s.visible || err != nil {
				if stop != nil {
					go stop()
				}
				return
			}
			s.level, s.micStop = level, stop
		})
	}()
}

// stopMic closes the meter's microphone.
func (s *EntryScreen) stopMic() {
	s.micGen++
	s.level = nil
	s.MicMeter.SetLevel(0)
	if stop := s.micStop; stop != nil {
		s.micStop = nil
		go stop()
	}
}

// devicesReleased is called when a call has let go of the camera and
// microphone: the preview and the meter start again if they are not
// running (they may have been refused while the call was ending).
func (s *EntryScreen) devicesReleased() {
	if !s.visible {
		return
	}
	if s.previewStop == nil && !s.cameraOff {
		s.startPreview()
	}
	if s.micStop == nil && !s.micOff {
		s.startMic()
	}
}
