package ui

import (
	"errors"
	"image/color"
	"net/url"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// Recorder is implemented by a Call that can ask the server to start and
// stop recording the room (PROTOCOL.md start_recording, stop_recording).
// The call bar's Record button shows only while the server says the user
// may (client.Welcome.CanRecord). Both are called off the UI goroutine
// and return at once: the outcome arrives as a client.RecordingChanged,
// a refusal as a client.ErrorEvent.
type Recorder interface {
	StartRecording() error
	StopRecording() error
}

// RecordingFolder is implemented by a Call whose server keeps its
// recordings on this computer (the app's built-in server). After a
// recording stops, the call screen says which folder it went to, with a
// button that opens it. It is called off the UI goroutine and may read
// the disk; "" when the recordings are not on this computer.
type RecordingFolder interface {
	RecordingFolder(room string) string
}

// Icons of the Record button (Material Design, Apache 2.0), red and not
// themed: a dot, and a stop square while recording. The button itself
// stays grey, so that it is not taken for Leave beside it in a narrow
// window.
var (
	iconRecord     = redIcon("fiber_manual_record", "M12 5a7 7 0 1 0 0 14a7 7 0 1 0 0-14z")
	iconRecordStop = redIcon("stop", "M7 7h10v10H7z")
)

func redIcon(name, path string) fyne.Resource {
	return fyne.NewStaticResource(name+".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24"><path fill="#e53935" d="`+path+`"/></svg>`))
}

// recordControl is the state of the Record button and of the notice that
// says where a recording went. It is owned by the UI goroutine.
type recordControl struct {
	// can is true while the server lets the user record and the call is
	// a Recorder.
	can bool
	// pending is true from a start or stop until the server answers;
	// starting says which it was.
	pending, starting bool

	saved     *fyne.Container // "Recording saved in …" with OpenFolder
	savedText *widget.Label
	folder    string // the folder saved shows
	// OpenFolder opens the folder in the file manager; open does it
	// (fyne's OpenURL; tests replace it).
	OpenFolder *widget.Button
	open       func(*url.URL) error
	lookups    int // folder look-ups started, so only the latest shows
}

// newSavedBar builds the bar that says where a stopped recording went.
func (cs *CallScreen) newSavedBar() {
	r := &cs.rec
	r.open = cs.app.fyneApp.OpenURL
	r.savedText = widget.NewLabel("")
	r.savedText.Wrapping = fyne.TextWrapBreak
	r.OpenFolder = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), cs.openRecordingFolder)
	closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		r.saved.Hide()
		cs.updateControls()
	})
	closeBtn.Importance = widget.LowImportance
	bg := canvas.NewRectangle(colorPresenting)
	r.saved = container.NewVBox(container.NewStack(bg,
		container.NewBorder(nil, nil, nil, container.NewHBox(container.NewCenter(r.OpenFolder), container.NewCenter(closeBtn)), r.savedText)))
	r.saved.Hide()
}

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
// started or stopped recording; when the recording is on this computer,
// where it went.
func (cs *CallScreen) recordingChanged(e client.RecordingChanged) {
	was := cs.recording.box.Visible()
	cs.rec.pending = false
	cs.setRecording(e.Active)
	if was == e.Active {
		return // an admin's request that changed nothing
	}
	cs.showNotice(recordingNotice(e))
	if e.Active {
		cs.rec.saved.Hide()
		cs.updateControls()
		return
	}
	cs.lookUpRecordingFolder()
}

func (cs *CallScreen) setRecording(on bool) {
	if on {
		cs.recording.box.Show()
	} else {
		cs.recording.box.Hide()
	}
	cs.updateRecordButton()
}

// recordingAllowed follows the server's word, at each join, on whether
// the user may record.
func (cs *CallScreen) recordingAllowed(can bool) {
	_, ok := cs.call.(Recorder)
	cs.rec.can = can && ok
	cs.rec.pending = false // an answer lost with the connection never comes
	cs.updateRecordButton()
}

// updateRecordButton shows the Record button when the user may record,
// as Record or Stop recording, and disabled while the server answers.
func (cs *CallScreen) updateRecordButton() {
	c, r := cs.controls, &cs.rec
	setVisible(c.recordSlot, r.can)
	on := cs.recording.box.Visible()
	switch {
	case r.pending && r.starting:
		c.Record.set(iconRecord, "Starting to record…", lookNormal)
		c.Record.setText("Record")
	case r.pending:
		c.Record.set(iconRecordStop, "Stopping the recording…", lookNormal)
		c.Record.setText("Stop recording")
	case on:
		c.Record.set(iconRecordStop, "Stop recording this call", lookNormal)
		c.Record.setText("Stop recording")
	default:
		c.Record.set(iconRecord, "Record this call (everyone in it is told)", lookNormal)
		c.Record.setText("Record")
	}
	c.Record.setDisabled(r.pending)
}

// toggleRecording asks the server to start recording the room, or to
// stop. The button waits, disabled, for the server's answer: a recording
// event, or an error said in plain words.
func (cs *CallScreen) toggleRecording() {
	rc, ok := cs.call.(Recorder)
	r := &cs.rec
	if !ok || cs.detached || !r.can || r.pending {
		return
	}
	start := !cs.recording.box.Visible()
	r.pending, r.starting = true, start
	cs.updateRecordButton()
	do, server := cs.app.do, cs.req.Server
	cs.ops <- func() {
		var err error
		if start {
			err = rc.StartRecording()
		} else {
			err = rc.StopRecording()
		}
		if err == nil {
			return
		}
		do(func() {
			if cs.detached {
				return
			}
			r.pending = false
			cs.updateRecordButton()
			cs.showNotice(recordVerb(start) + ". " + causeText(err, server))
		})
	}
}

// RecordButton returns the call bar's Record / Stop recording button;
// it shows only when the user may record.
func (cs *CallScreen) RecordButton() *ControlButton { return cs.controls.Record }

// CanRecord reports whether the Record button shows.
func (cs *CallScreen) CanRecord() bool { return cs.controls.recordSlot.Visible() }

// recordVerb is the start of a notice about a failed start or stop.
func recordVerb(start bool) string {
	if start {
		return "Couldn't start recording"
	}
	return "Couldn't stop recording"
}

// recordingRefused shows, in plain words, the server's refusal of a
// start or stop and reports whether err was one.
func (cs *CallScreen) recordingRefused(err error) bool {
	var we *wire.Error
	if !errors.As(err, &we) {
		return false
	}
	r := &cs.rec
	var why string
	switch {
	case we.Code == wire.CodeRecordingUnavailable:
		why = "this server does not keep recordings."
	case we.Code == wire.CodePermissionDenied && r.pending:
		why = "only someone the server made an admin may record this call."
	default:
		return false
	}
	start := r.starting
	if !r.pending {
		start = !cs.recording.box.Visible()
	}
	r.pending = false
	cs.updateRecordButton()
	cs.showNotice(recordVerb(start) + ": " + why)
	return true
}

// lookUpRecordingFolder asks a call whose recordings are on this
// computer where the one just stopped went (off the UI goroutine, after
// the call's other operations), and says so.
func (cs *CallScreen) lookUpRecordingFolder() {
	rf, ok := cs.call.(RecordingFolder)
	if !ok {
		return
	}
	cs.rec.lookups++
	n, room, do := cs.rec.lookups, cs.model.room, cs.app.do
	cs.ops <- func() {
		dir := rf.RecordingFolder(room)
		do(func() {
			if cs.detached || dir == "" || n != cs.rec.lookups || cs.recording.box.Visible() {
				return
			}
			cs.rec.folder = dir
			cs.rec.savedText.SetText("The recording is saved in " + dir)
			cs.rec.saved.Show()
			cs.updateControls()
		})
	}
}

// RecordingSaved returns what the bar about a stopped recording says, ""
// while it does not show.
func (cs *CallScreen) RecordingSaved() string {
	if !cs.rec.saved.Visible() {
		return ""
	}
	return cs.rec.savedText.Text
}

// openRecordingFolder opens the folder of the recording in the file
// manager.
func (cs *CallScreen) openRecordingFolder() {
	if cs.rec.folder == "" {
		return
	}
	if err := cs.rec.open(fileURL(cs.rec.folder)); err != nil {
		cs.showNotice("Couldn't open the folder: " + err.Error())
	}
}

// fileURL is the file:// URL of a local path (C:\x becomes file:///C:/x).
func fileURL(path string) *url.URL {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}
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
