package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// colorRecording is the recording indicator's red.
var colorRecording = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}

// recordingBadge is the red "● Recording" indicator in the stage's
// top-left corner, shown while the room is recorded.
type recordingBadge struct {
	box  *fyne.Container // the corner overlay
	text *canvas.Text
}

func newRecordingBadge() *recordingBadge {
	b := &recordingBadge{text: canvas.NewText("● Recording", color.White)}
	b.text.TextStyle = fyne.TextStyle{Bold: true}
	b.text.TextSize = theme.TextSize()
	bg := canvas.NewRectangle(colorRecording)
	bg.CornerRadius = 6
	pill := container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(4, 4, 10, 10), b.text))
	b.box = container.New(layout.NewCustomPaddedLayout(10, 0, 10, 0),
		container.NewVBox(container.NewHBox(pill, layout.NewSpacer())))
	b.box.Hide()
	return b
}

// Recording reports whether the recording indicator shows.
func (cs *CallScreen) Recording() bool { return cs.recording.box.Visible() }

// RecordingText is the recording indicator's text.
func (cs *CallScreen) RecordingText() string { return cs.recording.text.Text }

// recordingAtJoin shows the indicator, and says so, when the room was
// recorded when the user joined (or rejoined).
func (cs *CallScreen) recordingAtJoin(on bool) {
	was := cs.recording.box.Visible()
	cs.setRecording(on)
	if on && !was {
		cs.showNotice("This call is being recorded")
	}
}

// recordingChanged shows or hides the indicator and says who or what
// started or stopped recording.
func (cs *CallScreen) recordingChanged(e client.RecordingChanged) {
	was := cs.recording.box.Visible()
	cs.setRecording(e.Active)
	if was == e.Active {
		return // an admin's request that changed nothing
	}
	cs.showNotice(recordingNotice(e))
}

func (cs *CallScreen) setRecording(on bool) {
	if on {
		cs.recording.box.Show()
	} else {
		cs.recording.box.Hide()
	}
}

// recordingNotice is the notice for a recording event.
func recordingNotice(e client.RecordingChanged) string {
	if e.Active {
		if e.Reason == wire.RecordingAdmin && e.ByName != "" {
			return e.ByName + " started recording this call"
		}
		return "This call is being recorded"
	}
	switch e.Reason {
	case wire.RecordingAdmin:
		if e.ByName != "" {
			return e.ByName + " stopped recording"
		}
	case wire.RecordingDiskFull:
		return "Recording stopped: the server's disk is full. The call goes on."
	case wire.RecordingWriteError:
		return "Recording stopped: the server could not write it. The call goes on."
	}
	return "Recording stopped"
}
