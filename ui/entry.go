package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/assets"
	"github.com/confab/confab/signaling/wire"
)

// Preference keys of the entry screen.
const (
	prefName    = "name"
	prefRoom    = "room"
	prefServer  = "server"
	prefCamera  = "camera"
	prefMic     = "microphone"
	prefSpeaker = "speaker"
)

// defaultRoom is the room offered the first time.
const defaultRoom = "lobby"

// joinTimeout bounds how long joining may take.
const joinTimeout = 30 * time.Second

// EntryScreen is where a person types a name and a room, picks devices
// while watching a preview, and joins. All methods run on the UI
// goroutine.
type EntryScreen struct {
	// NameEntry, RoomEntry and ServerEntry are the text fields; NameError
	// and RoomError show what is wrong with them.
	NameEntry, RoomEntry, ServerEntry *widget.Entry
	NameError, RoomError              *widget.Label
	// ServerHint tells which server is used when none is typed.
	ServerHint *widget.Label
	// NetworkCheck opens the built-in server to the local network; it is
	// there when the backend is a NetworkHost.
	NetworkCheck *widget.Check
	// CameraSelect, MicSelect and SpeakerSelect pick devices.
	CameraSelect, MicSelect, SpeakerSelect *widget.Select
	// TestPattern joins with a moving test picture instead of a camera.
	TestPattern *widget.Check
	// Audio turns the microphone's sound processing on and off, under a
	// folded "Sound processing" heading; nil when the backend cannot.
	Audio *AudioChecks
	// NoCamera says that no camera was found.
	NoCamera *widget.Label
	// Preview shows the chosen camera; PreviewNote covers it when there
	// is nothing to show.
	Preview     *VideoView
	PreviewNote *widget.Label
	// MicMeter shows the chosen microphone's level.
	MicMeter *LevelMeter
	// MicToggle and CameraToggle, over the preview, choose to join with
	// the microphone muted or the camera off.
	MicToggle, CameraToggle *ControlButton
	// JoinButton joins, Progress spins while joining and CancelButton
	// stops a join under way.
	JoinButton   *widget.Button
	CancelButton *widget.Button
	Progress     *widget.Activity
	// ErrorLabel shows why joining failed.
	ErrorLabel *widget.Label

	app        *App
	content    fyne.CanvasObject
	joinExtras *fyne.Container

	devices                Devices
	camIDs, micIDs, spkIDs map[string]string // label -> id
	joining                bool
	networkBusy            bool // the built-in server is restarting
	cancel                 context.CancelFunc
	visible                bool
	triedJoin              bool
	rejoin                 bool // the last call dropped: Join says Rejoin
	previewStop, micStop   func()
	micOff, cameraOff      bool
	previewGen, micGen     int
	level                  func() float64
	stopTick               func()
}

// newEntryScreen builds the entry screen, prefilled from the options and
// the preferences.
func newEntryScreen(a *App) *EntryScreen {
	s := &EntryScreen{app: a}
	prefs := a.fyneApp.Preferences()

	s.NameEntry = widget.NewEntry()
	s.NameEntry.SetPlaceHolder("How others will see you")
	s.NameEntry.SetText(firstNonEmpty(a.opts.Name, prefs.String(prefName)))
	s.RoomEntry = widget.NewEntry()
	s.RoomEntry.SetPlaceHolder("Room name")
	s.RoomEntry.SetText(firstNonEmpty(a.opts.Room, prefs.String(prefRoom), defaultRoom))
	s.ServerEntry = widget.NewEntry()
	s.ServerEntry.SetPlaceHolder("Built-in server")
	s.ServerEntry.SetText(firstNonEmpty(a.opts.Server, prefs.String(prefServer)))
	s.NameEntry.OnSubmitted = func(string) { s.join() }
	s.RoomEntry.OnSubmitted = func(string) { s.join() }
	s.ServerEntry.OnSubmitted = func(string) { s.join() }
	s.NameEntry.OnChanged = func(string) { s.validateLive() }
	s.RoomEntry.OnChanged = func(string) {
		if s.rejoin {
			s.rejoin = false
			s.setJoining(s.joining)
		}
		s.validateLive()
	}

	s.NameError = errorLabel()
	s.RoomError = errorLabel()
	s.ErrorLabel = errorLabel()
	s.ServerHint = widget.NewLabel("")
	s.ServerHint.Importance = widget.LowImportance
	s.ServerHint.SizeName = theme.SizeNameCaptionText
	s.ServerHint.Wrapping = fyne.TextWrapWord
	s.NetworkCheck = widget.NewCheck("Let others on my network join", s.networkChanged)
	if nh, ok := a.backend.(NetworkHost); ok {
		s.NetworkCheck.Checked = nh.NetworkAccess()
	} else {
		s.NetworkCheck.Hide()
	}
	s.ServerEntry.OnChanged = func(string) { s.updateServerHint() }
	if sw, ok := a.backend.(ServerWatcher); ok {
		sw.OnServerChanged(func() { a.do(s.updateServerHint) })
	}

	s.CameraSelect = widget.NewSelect(nil, func(string) { s.deviceChanged(prefCamera) })
	s.MicSelect = widget.NewSelect(nil, func(string) { s.deviceChanged(prefMic) })
	s.SpeakerSelect = widget.NewSelect(nil, func(string) { s.deviceChanged(prefSpeaker) })
	s.TestPattern = widget.NewCheck("Use a test pattern instead of a camera", func(bool) { s.startPreview() })
	s.NoCamera = widget.NewLabel("No camera was found. You can join with a test pattern, or without video.")
	s.NoCamera.Wrapping = fyne.TextWrapWord
	s.NoCamera.Importance = widget.WarningImportance
	s.NoCamera.Hide()

	s.Preview = NewVideoView(true)
	s.PreviewNote = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	s.PreviewNote.Wrapping = fyne.TextWrapWord
	s.MicMeter = NewLevelMeter()
	s.MicToggle = newControlButton(iconMic, "", lookNormal, a.tips, s.toggleMic)
	s.CameraToggle = newControlButton(iconCamera, "", lookNormal, a.tips, s.toggleCamera)
	s.updateToggles()

	s.JoinButton = widget.NewButtonWithIcon("Join room", theme.LoginIcon(), s.join)
	s.JoinButton.Importance = widget.HighImportance
	s.CancelButton = widget.NewButton("Cancel", s.cancelJoin)
	s.CancelButton.Hide()
	s.Progress = widget.NewActivity()
	s.Progress.Hide()

	s.content = s.build()
	return s
}

// build lays the screen out: a card with the preview and devices on the
// left and the fields on the right.
func (s *EntryScreen) build() fyne.CanvasObject {
	logo := canvas.NewImageFromResource(fyne.NewStaticResource("icon.png", assets.IconPNG))
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSize(44, 44))
	title := canvas.NewText("Confab", colorText)
	title.TextSize = 26
	title.TextStyle.Bold = true
	subtitle := canvas.NewText("Video calls and chat, nothing to set up.", colorTextDim)
	subtitle.TextSize = 13
	head := container.NewHBox(logo, container.NewVBox(layout.NewSpacer(), title, subtitle, layout.NewSpacer()))

	previewBg := canvas.NewRectangle(colorStage)
	previewBg.CornerRadius = 10
	previewSize := canvas.NewRectangle(nil)
	previewSize.SetMinSize(fyne.NewSize(400, 225))
	// The note gets the preview's width (less a margin) so long messages
	// wrap inside the box instead of running out of it.
	note := container.New(layout.NewCustomPaddedLayout(0, 0, 24, 24),
		container.NewVBox(layout.NewSpacer(), s.PreviewNote, layout.NewSpacer()))
	toggles := container.NewVBox(layout.NewSpacer(),
		container.NewCenter(container.NewHBox(s.MicToggle, s.CameraToggle)), widget.NewLabel(""))
	preview := container.NewStack(previewSize, previewBg, s.Preview, note, toggles)

	micIcon := widget.NewIcon(iconMic)
	meter := container.NewBorder(nil, nil, micIcon, nil, container.NewVBox(layout.NewSpacer(), s.MicMeter, layout.NewSpacer()))

	devices := container.New(layout.NewFormLayout(),
		fieldLabel("Camera"), s.CameraSelect,
		fieldLabel("Microphone"), s.MicSelect,
		fieldLabel("Speaker"), s.SpeakerSelect)
	left := container.NewVBox(preview, meter, devices, s.TestPattern, s.NoCamera)
	if s.Audio = newAudioChecks(s.app); s.Audio != nil {
		left.Add(widget.NewAccordion(widget.NewAccordionItem("Sound processing", s.Audio.object())))
	}

	s.joinExtras = container.NewHBox(s.Progress, s.CancelButton)
	s.joinExtras.Hide()
	joinRow := container.NewBorder(nil, nil, nil, s.joinExtras, s.JoinButton)
	right := container.NewVBox(
		head,
		widget.NewSeparator(),
		fieldLabel("Your name"), s.NameEntry, s.NameError,
		fieldLabel("Room"), s.RoomEntry, s.RoomError,
		fieldLabel("Server"), s.ServerEntry, s.ServerHint, s.NetworkCheck,
		s.ErrorLabel,
		joinRow,
	)
	if b := s.app.supportButton(); b != nil {
		right.Add(b)
	}
	if b := s.app.peopleButton(); b != nil {
		right.Add(b)
	}
	rightWidth := canvas.NewRectangle(nil)
	rightWidth.SetMinSize(fyne.NewSize(340, 1))
	cardBg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	cardBg.CornerRadius = 14
	cols := container.New(layout.NewCustomPaddedHBoxLayout(28), left, container.NewStack(rightWidth, right))
	card := container.NewStack(cardBg, container.New(layout.NewCustomPaddedLayout(24, 24, 28, 28), cols))
	return container.NewCenter(card) // on the window's background, the stage colour
}

// fieldLabel is the caption over a field.
func fieldLabel(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return l
}

// errorLabel is a hidden red label for inline messages.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// setMessage shows text in l, or hides l for "".
func setMessage(l *widget.Label, text string) {
	l.SetText(text)
	setVisible(l, text != "")
}

// firstNonEmpty returns the first of ss that is not empty.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// shown is called when the screen comes on: it lists the devices, starts
// the preview and the meter, and shows errMsg.
func (s *EntryScreen) shown(errMsg string) {
	s.visible = true
	s.setJoining(false)
	setMessage(s.ErrorLabel, errMsg)
	s.updateServerHint()
	s.loadDevices()
	s.startPreview()
	s.startMic()
	if s.app.tick > 0 && s.stopTick == nil {
		s.stopTick = startTicker(s.app.tick, s.app.do, func(time.Duration) { s.tick() })
	}
}

// hidden is called when the screen goes away: it stops the devices.
func (s *EntryScreen) hidden() {
	s.visible = false
	if s.stopTick != nil {
		s.stopTick()
		s.stopTick = nil
	}
	s.stopPreview()
	s.stopMic()
}

// tick redraws the preview and the level meter.
func (s *EntryScreen) tick() {
	if !s.visible {
		return
	}
	s.Preview.Update()
	if s.level != nil {
		s.MicMeter.SetLevel(s.level())
	}
}

// request collects the fields.
func (s *EntryScreen) request() JoinRequest {
	return JoinRequest{
		Name:           strings.TrimSpace(s.NameEntry.Text),
		Room:           strings.TrimSpace(s.RoomEntry.Text),
		Server:         strings.TrimSpace(s.ServerEntry.Text),
		CameraID:       s.selectedCamera(),
		MicID:          s.micIDs[s.MicSelect.Selected],
		SpeakerID:      s.spkIDs[s.SpeakerSelect.Selected],
		UseTestPattern: s.TestPattern.Checked,
		MicOff:         s.micOff,
		CameraOff:      s.cameraOff,
	}
}

// validate shows what is wrong with the name and room and reports
// whether both are fine.
func (s *EntryScreen) validate() bool {
	req := s.request()
	nameMsg := validationText("name", wire.ValidateName("name", req.Name))
	roomMsg := validationText("room name", wire.ValidateName("room", req.Room))
	setMessage(s.NameError, nameMsg)
	setMessage(s.RoomError, roomMsg)
	if strings.ContainsAny(req.Server, " \t") {
		setMessage(s.ErrorLabel, "The server address can't contain spaces.")
		return false
	}
	return nameMsg == "" && roomMsg == ""
}

// validateLive updates the inline messages while typing, once a join has
// been tried, so errors go away as they are fixed.
func (s *EntryScreen) validateLive() {
	if s.triedJoin {
		s.validate()
	}
}

// join validates the fields and joins in the background.
func (s *EntryScreen) join() {
	if s.joining || !s.visible {
		return
	}
	s.triedJoin = true
	setMessage(s.ErrorLabel, "")
	if !s.validate() {
		return
	}
	req := s.request()
	s.setJoining(true)
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	s.cancel = cancel
	b, do := s.app.backend, s.app.do
	go func() {
		call, err := b.Join(ctx, req)
		do(func() { s.joined(ctx, cancel, req, call, err) })
	}()
}

// joined finishes a join: the call screen on success, the reason on
// failure.
func (s *EntryScreen) joined(ctx context.Context, cancel context.CancelFunc, req JoinRequest, call Call, err error) {
	cancelled := errors.Is(ctx.Err(), context.Canceled)
	cancel()
	s.cancel = nil
	if err == nil && call == nil {
		err = errors.New("no call was returned")
	}
	if err != nil || cancelled || !s.visible || s.app.closing {
		if call != nil {
			go func() { _ = call.Leave() }()
		}
		if !s.app.closing && s.visible {
			s.setJoining(false)
			if cancelled {
				setMessage(s.ErrorLabel, "")
			} else {
				setMessage(s.ErrorLabel, ErrorText(err, req.Server))
			}
		}
		return
	}
	prefs := s.app.fyneApp.Preferences()
	prefs.SetString(prefName, req.Name)
	prefs.SetString(prefRoom, req.Room)
	prefs.SetString(prefServer, req.Server)
	s.rejoin = false
	s.setJoining(false)
	s.app.showCall(call, req)
}

// cancelJoin stops a join under way.
func (s *EntryScreen) cancelJoin() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// networkChanged opens or closes the built-in server to the network off
// the UI goroutine; a failure puts the box back and says why.
func (s *EntryScreen) networkChanged(on bool) {
	nh, ok := s.app.backend.(NetworkHost)
	if !ok || s.networkBusy {
		return
	}
	s.networkBusy = true
	s.NetworkCheck.Disable()
	setMessage(s.ServerHint, "Restarting the built-in server…")
	go func() {
		err := nh.SetNetworkAccess(on)
		s.app.do(func() {
			s.networkBusy = false
			if err != nil {
				s.NetworkCheck.Checked = nh.NetworkAccess()
				s.NetworkCheck.Refresh()
				setMessage(s.ErrorLabel, "Could not change who can join: "+err.Error())
			} else {
				setMessage(s.ErrorLabel, "")
			}
			if !s.joining {
				s.NetworkCheck.Enable()
			}
			s.updateServerHint()
		})
	}()
}

// updateServerHint says which server a join will use: the one typed, or
// the built-in one as the backend describes it now. The box that opens
// the built-in server to the network only shows when that is used.
func (s *EntryScreen) updateServerHint() {
	if s.networkBusy {
		return
	}
	typed := strings.TrimSpace(s.ServerEntry.Text)
	nh, hosts := s.app.backend.(NetworkHost)
	if typed != "" {
		setMessage(s.ServerHint, "Joining the server at "+typed+"; the built-in server is not used.")
		s.NetworkCheck.Hide()
		return
	}
	setMessage(s.ServerHint, s.app.backend.ServerHint())
	if hosts {
		if on := nh.NetworkAccess(); on != s.NetworkCheck.Checked {
			cb := s.NetworkCheck.OnChanged
			s.NetworkCheck.OnChanged = nil
			s.NetworkCheck.SetChecked(on)
			s.NetworkCheck.OnChanged = cb
		}
		s.NetworkCheck.Show()
	}
}

// setJoining shows or hides the join progress and locks the fields.
func (s *EntryScreen) setJoining(on bool) {
	s.joining = on
	for _, w := range []fyne.Disableable{s.NameEntry, s.RoomEntry, s.ServerEntry, s.JoinButton, s.NetworkCheck} {
		if on {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if s.networkBusy {
		s.NetworkCheck.Disable()
	}
	if on {
		s.JoinButton.SetText("Joining…")
		s.Progress.Show()
		s.Progress.Start()
		s.CancelButton.Show()
		s.joinExtras.Show()
	} else if s.rejoin {
		s.JoinButton.SetText("Rejoin " + truncateText(s.RoomEntry.Text, 180, theme.TextSize(), fyne.TextStyle{Bold: true}))
	} else {
		s.JoinButton.SetText("Join room")
	}
	if !on {
		s.Progress.Stop()
		s.Progress.Hide()
		s.CancelButton.Hide()
		s.joinExtras.Hide()
	}
}

// toggleMic chooses to join with the microphone muted, or not.
func (s *EntryScreen) toggleMic() {
	s.micOff = !s.micOff
	s.updateToggles()
	if s.micOff {
		s.stopMic()
	} else {
		s.startMic()
	}
}

// toggleCamera chooses to join with the camera off, or not.
func (s *EntryScreen) toggleCamera() {
	s.cameraOff = !s.cameraOff
	s.updateToggles()
	s.startPreview()
}

// updateToggles shows the mic and camera choices on their buttons.
func (s *EntryScreen) updateToggles() {
	if s.micOff {
		s.MicToggle.set(iconMicOff, "Join with the microphone muted; click to unmute", lookOff)
	} else {
		s.MicToggle.set(iconMic, "Join with the microphone on; click to mute", lookNormal)
	}
	if s.cameraOff {
		s.CameraToggle.set(iconCameraOff, "Join with the camera off; click to turn it on", lookOff)
	} else {
		s.CameraToggle.set(iconCamera, "Join with the camera on; click to turn it off", lookNormal)
	}
}

// MicOff reports the choice to join with the microphone muted.
func (s *EntryScreen) MicOff() bool { return s.micOff }

// CameraOff reports the choice to join with the camera off.
func (s *EntryScreen) CameraOff() bool { return s.cameraOff }

// offerRejoin turns the Join button into "Rejoin ROOM" after a call
// dropped; editing the room puts it back.
func (s *EntryScreen) offerRejoin() {
	s.rejoin = true
	s.setJoining(false)
}

// Joining reports whether a join is under way.
func (s *EntryScreen) Joining() bool { return s.joining }
