package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
)

// DevicePicker is the call screen's pop-up that moves the call to another
// camera or microphone and turns the sound processing on and off. Its
// fields exist while it shows.
type DevicePicker struct {
	// Camera, Microphone and Speaker pick the devices; Speaker is nil when
	// the call cannot move its sound.
	Camera, Microphone, Speaker *widget.Select
	// Audio turns the microphone's sound processing on and off; nil when
	// the backend cannot.
	Audio *AudioChecks

	pop *widget.PopUp
}

// Devices returns the device picker on show, or nil.
func (cs *CallScreen) Devices() *DevicePicker { return cs.devices }

// showDevices opens the device picker above its button. A call that
// cannot switch devices says so instead.
func (cs *CallScreen) showDevices() {
	if cs.detached {
		return
	}
	sw, ok := cs.call.(DeviceSwitcher)
	if !ok {
		cs.showNotice("This call can't change devices; leave and pick them on the first screen.")
		return
	}
	devs := cs.app.backend.Devices()
	prefs := cs.app.fyneApp.Preferences()
	dp := &DevicePicker{}
	dp.Camera = widget.NewSelect(nil, nil)
	dp.Microphone = widget.NewSelect(nil, nil)
	camIDs := fillSelect(dp.Camera, devs.Cameras, cs.req.CameraID, "No camera found")
	micIDs := fillSelect(dp.Microphone, devs.Microphones, cs.req.MicID, "No microphone found")
	if cs.req.UseTestPattern {
		// The call runs on the test pattern: no hardware camera is chosen.
		dp.Camera.ClearSelected()
		dp.Camera.PlaceHolder = "Test pattern"
		dp.Camera.Refresh()
	}
	dp.Camera.OnChanged = func(label string) {
		id, ok := camIDs[label]
		if !ok || cs.detached {
			return
		}
		cs.req.CameraID, cs.req.UseTestPattern = id, false
		prefs.SetString(prefCamera, id)
		cs.switchDevice(func() { sw.UseCamera(id) }, func(p client.Participant) bool { return p.Camera },
			func(on bool) error { return cs.call.SetCameraOn(on) }, "Couldn't switch the camera")
	}
	dp.Microphone.OnChanged = func(label string) {
		id, ok := micIDs[label]
		if !ok || cs.detached {
			return
		}
		cs.req.MicID = id
		prefs.SetString(prefMic, id)
		cs.switchDevice(func() { sw.UseMicrophone(id) }, func(p client.Participant) bool { return p.Mic },
			func(on bool) error { return cs.call.SetMicMuted(!on) }, "Couldn't switch the microphone")
	}
	title := widget.NewLabelWithStyle("Devices", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	form := container.New(layout.NewFormLayout(),
		fieldLabel("Camera"), dp.Camera,
		fieldLabel("Microphone"), dp.Microphone)
	if ss, ok := cs.call.(SpeakerSwitcher); ok {
		dp.Speaker = widget.NewSelect(nil, nil)
		spkIDs := fillSelect(dp.Speaker, devs.Speakers, cs.req.SpeakerID, "No speaker found")
		dp.Speaker.OnChanged = func(label string) {
			id, ok := spkIDs[label]
			if !ok || cs.detached || id == cs.req.SpeakerID {
				return
			}
			cs.switchSpeaker(ss, id, label)
		}
		form.Add(fieldLabel("Speaker"))
		form.Add(dp.Speaker)
	}
	box := container.NewVBox(title, form)
	if dp.Audio = newAudioChecks(cs.app); dp.Audio != nil {
		box.Add(widget.NewSeparator())
		box.Add(dp.Audio.object())
	}
	box.Add(canvasRect(320))
	c := cs.app.win.Canvas()
	dp.pop = widget.NewPopUp(container.NewPadded(box), c)
	size := dp.pop.MinSize()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(cs.controls.Devices)
	x := min(pos.X, c.Size().Width-size.Width-8)
	dp.pop.ShowAtPosition(fyne.NewPos(max(x, 8), max(pos.Y-size.Height-8, 8)))
	cs.devices = dp
}

// switchSpeaker moves the call's sound to speaker id at once; if that
// device cannot play, sound stays where it was and a notice says so.
func (cs *CallScreen) switchSpeaker(ss SpeakerSwitcher, id, label string) {
	prev := cs.req.SpeakerID
	cs.req.SpeakerID = id
	prefs := cs.app.fyneApp.Preferences()
	do := cs.app.do
	cs.ops <- func() {
		err := ss.UseSpeaker(id)
		do(func() {
			if cs.detached {
				return
			}
			if err != nil {
				cs.req.SpeakerID = prev
				cs.showNotice("Couldn't play on " + label + ". " + causeText(err, cs.req.Server))
				return
			}
			prefs.SetString(prefSpeaker, id)
		})
	}
}

// switchDevice chooses another device and, if that device is on now,
// restarts it so the choice takes effect; the calls run in order off the
// UI goroutine.
func (cs *CallScreen) switchDevice(use func(), isOn func(client.Participant) bool, set func(on bool) error, what string) {
	on := isOn(cs.model.self)
	do := cs.app.do
	cs.ops <- func() {
		use()
		if !on {
			return
		}
		err := set(false)
		if err == nil {
			err = set(true)
		}
		if err != nil {
			do(func() {
				if !cs.detached {
					cs.showNotice(what + ". " + causeText(err, cs.req.Server))
				}
			})
		}
	}
}

// canvasRect is an invisible spacer that is w wide.
func canvasRect(w float32) fyne.CanvasObject {
	r := canvas.NewRectangle(nil)
	r.SetMinSize(fyne.NewSize(w, 1))
	return r
}

// ScreenPicker is the pop-up that asks which screen to share.
type ScreenPicker struct {
	// Screens lists the screens; ShareButton shares the one selected and
	// CancelButton closes the pop-up.
	Screens                   *widget.RadioGroup
	ShareButton, CancelButton *widget.Button

	pop *widget.PopUp
}

// ScreenPicker returns the screen picker on show, or nil.
func (cs *CallScreen) ScreenPicker() *ScreenPicker {
	if cs.picker == nil || !cs.picker.pop.Visible() {
		return nil
	}
	return cs.picker
}

// showScreenPicker asks which screen to share, when the call can choose
// and there is a screen to list. It reports whether it showed.
func (cs *CallScreen) showScreenPicker() bool {
	sw, ok := cs.call.(DeviceSwitcher)
	if !ok || cs.detached {
		return false
	}
	screens := cs.app.backend.Devices().Screens
	if len(screens) == 0 {
		return false
	}
	sp := &ScreenPicker{}
	ids := map[string]string{}
	var labels []string
	for i, d := range screens {
		label := d.Label
		if label == "" {
			label = "Screen"
		}
		label = fmt.Sprintf("%s (%d)", label, i+1)
		ids[label] = d.ID
		labels = append(labels, label)
	}
	sp.Screens = widget.NewRadioGroup(labels, nil)
	sp.Screens.Required = true
	sp.Screens.SetSelected(labels[0])
	sp.ShareButton = widget.NewButtonWithIcon("Share", iconScreenShare, func() {
		sp.pop.Hide()
		if cs.detached || cs.model.self.Screen {
			return
		}
		id := ids[sp.Screens.Selected]
		cs.ops <- func() { sw.UseScreen(id) }
		cs.share()
	})
	sp.ShareButton.Importance = widget.HighImportance
	sp.CancelButton = widget.NewButton("Cancel", func() { sp.pop.Hide() })
	title := widget.NewLabelWithStyle("Share your screen", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	note := widget.NewLabel("Everyone in the call will see it.")
	note.Importance = widget.LowImportance
	c := cs.app.win.Canvas()
	sp.pop = widget.NewModalPopUp(container.NewPadded(container.NewVBox(title, note, sp.Screens,
		container.NewHBox(layout.NewSpacer(), sp.CancelButton, sp.ShareButton), canvasRect(320))), c)
	sp.pop.Show()
	cs.picker = sp
	return true
}
