package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
)

// noticeTime is how long a notice about a failed action stays up.
const noticeTime = 6 * time.Second

// CallScreen is the screen of a joined call: the tiles, the controls bar
// and the chat panel. One goroutine reads the call's events and hands each
// to the UI goroutine, where the screen's methods run.
type CallScreen struct {
	app  *App
	call Call
	req  JoinRequest
	// summary counts who was there and who talked (summary.go).
	summary callSummary

	model    *callModel
	chat     *ChatPanel
	controls *Controls

	stage      *fyne.Container
	stageLay   *stageLayout
	stageWrap  *fyne.Container
	tiles      map[string]*Tile
	order      []*Tile
	connecting *fyne.Container
	// spinner turns while connecting and only then: a running Fyne
	// animation repaints the whole window every frame, hidden or not.
	spinner    *widget.Activity
	spinning   bool
	connText   *widget.Label
	banner     *fyne.Container
	bannerText *widget.Label
	// presenting says the user shares their screen; StopPresenting stops.
	presenting     *fyne.Container
	StopPresenting *widget.Button
	// RejoinNow, on the reconnecting banner, tries to rejoin at once.
	RejoinNow  *widget.Button
	retry      client.Reconnecting // the latest reconnect attempt
	notice     *fyne.Container
	noticeText *widget.Label
	recording  *recordingBadge // the red indicator while the room is recorded (recording.go)
	rec        recordControl   // the Record button's state and where a recording went (recording.go)
	// alone says "You're the only one here" with InviteButton, which
	// copies how to join to the clipboard.
	alone        *fyne.Container
	InviteButton *widget.Button
	noticeGen    int
	// presence is true while the notice says who came or went; a rejoin's
	// Welcome, which tells who is here now, takes it down.
	presence bool
	body     *fyne.Container
	split    *container.Split
	// splitView is split with a theme that makes its divider visible.
	splitView fyne.CanvasObject
	content   fyne.CanvasObject

	devices *DevicePicker // the device pop-up, once opened
	picker  *ScreenPicker // the screen picker, once opened
	// speakerView shows the active speaker large over a strip of the
	// others when nothing is pinned; off, everyone is in the grid.
	speakerView bool
	chatOpen    bool
	unread      int
	detached    bool
	done        chan struct{} // closed once the events channel is closed
	ops         chan func()   // mic, camera and share changes, run in order off the UI goroutine
	stopTick    func()
	quality     *qualityMeter
	reactions   *widget.PopUp       // the reaction picker, once opened
	asked       map[string]videoAsk // what was asked of each remote video, by tile key
	asksAt      time.Time           // when requestVideos last looked
	topBars     *fyne.Container     // holds banner and presenting; hidden when both are
	// ReactionButtons are the reaction picker's choices while it shows.
	ReactionButtons []*emojiButton
	// ticks counts the video checks run and handled the events applied;
	// tests read them.
	ticks   int
	handled int
	// pacer holds video back while the draw loop is busy (ticker.go).
	pacer videoPacer
}

// newCallScreen builds the screen for call; start begins reading events.
func newCallScreen(a *App, call Call, req JoinRequest) *CallScreen {
	cs := &CallScreen{app: a, call: call, req: req, model: newCallModel(), tiles: map[string]*Tile{}, quality: newQualityMeter(),
		done: make(chan struct{}), ops: make(chan func(), 64)}
	cs.model.room = firstNonEmpty(req.Title, req.Room)
	// Until the server says otherwise, show what the user asked for.
	cs.model.self = client.Participant{Name: req.Name, Mic: req.MicID != "" && !req.MicOff,
		Camera: (req.CameraID != "" || req.UseTestPattern) && !req.CameraOff}

	cs.chat = newChatPanel()
	cs.chat.send = call.SendChat
	cs.chat.retry = call.RetryChat
	cs.chat.loadOlder = call.LoadOlderChat
	cs.chat.onClose = func() { cs.setChatOpen(false) }
	cs.chat.Entry.onShortcut = cs.handleShortcut

	cs.controls = newControls(a.tips, cs.toggleMic, cs.toggleCamera, cs.toggleShare, cs.toggleHand, cs.showReactions,
		func() { cs.setChatOpen(!cs.chatOpen) }, cs.showPeople, cs.showDevices, cs.toggleView, cs.Leave)

	cs.stageLay = &stageLayout{gap: 10}
	cs.stage = container.New(cs.stageLay)

	cs.connText = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	cs.spinner = widget.NewActivity()
	cs.connecting = container.NewCenter(container.NewVBox(cs.spinner, cs.connText))

	cs.bannerText = widget.NewLabel("")
	cs.bannerText.Wrapping = fyne.TextWrapWord
	cs.bannerText.Alignment = fyne.TextAlignCenter
	bannerBg := canvas.NewRectangle(colorBanner)
	cs.RejoinNow = widget.NewButton("Rejoin now", cs.rejoinNow)
	cs.banner = container.NewVBox(container.NewStack(bannerBg,
		container.NewBorder(nil, nil, nil, container.NewCenter(cs.RejoinNow), cs.bannerText)))
	cs.banner.Hide()

	presentingText := widget.NewLabelWithStyle("You are presenting your screen to everyone", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	cs.StopPresenting = widget.NewButtonWithIcon("Stop presenting", theme.MediaStopIcon(), cs.toggleShare)
	cs.StopPresenting.Importance = widget.DangerImportance
	presentingBg := canvas.NewRectangle(colorPresenting)
	cs.presenting = container.NewVBox(container.NewStack(presentingBg,
		container.NewCenter(container.NewHBox(presentingText, cs.StopPresenting))))
	cs.presenting.Hide()

	cs.noticeText = widget.NewLabel("")
	noticeBg := canvas.NewRectangle(colorTooltip)
	noticeBg.CornerRadius = 8
	cs.notice = container.NewVBox(layout.NewSpacer(),
		container.NewCenter(container.NewStack(noticeBg, container.NewPadded(cs.noticeText))))
	cs.notice.Hide()
	cs.recording = newRecordingBadge()
	cs.newSavedBar()
	cs.controls.Record.OnTapped = cs.toggleRecording

	aloneText := widget.NewLabelWithStyle("You're the only one here", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	aloneHint := widget.NewLabelWithStyle("Others join with the room name "+quoteRoom(req.Room)+".", fyne.TextAlignCenter, fyne.TextStyle{})
	cs.InviteButton = widget.NewButtonWithIcon("Copy invite", theme.ContentCopyIcon(), cs.copyInvite)
	cs.controls.Invite.OnTapped = cs.copyInvite
	cs.setupSpeakerToggle()
	aloneTop := float32(16)
	if calls.IsCallRoom(req.Room) {
		aloneTop = 56 // the alone card and the recording mark below the call strip ("Ringing Ben…")
		// A call between people: its room is private, so there is no room
		// name to give out and no invite link; more people come through
		// the call strip's Add people.
		aloneText.SetText("Waiting for the others")
		aloneHint.SetText("They join when they accept the call.")
		cs.InviteButton.Hide()
		cs.controls.Invite.Hide()
	}
	aloneBg := canvas.NewRectangle(colorTooltip)
	aloneBg.CornerRadius = 10
	cs.alone = container.NewVBox(container.NewCenter(container.NewStack(aloneBg,
		container.NewPadded(container.NewVBox(aloneText, aloneHint, container.NewCenter(cs.InviteButton))))))
	cs.alone.Hide()

	// The reconnect banner and the presenting bar sit above the tiles,
	// never over them (they would hide the tiles' hand badges).
	cs.topBars = container.NewVBox(cs.banner, cs.presenting, cs.rec.saved)
	cs.topBars.Hide()
	cs.stageWrap = container.NewStack(
		container.NewBorder(cs.topBars, nil, nil, nil,
			container.NewStack(cs.stage, cs.connecting,
				container.New(layout.NewCustomPaddedLayout(aloneTop, 0, 0, 0), cs.alone),
				container.New(layout.NewCustomPaddedLayout(0, 16, 0, 0), cs.notice),
				container.New(layout.NewCustomPaddedLayout(aloneTop-16, 0, 0, 0), cs.recording.box))))
	cs.split = container.NewHSplit(cs.stageWrap, cs.chat.content)
	cs.split.Offset = 0.72
	// The divider is drawn with the Shadow colour: a visible bar and grip.
	cs.splitView = container.NewThemeOverride(cs.split, splitTheme{})
	cs.body = container.NewStack(cs.stageWrap)
	cs.content = container.NewBorder(nil, cs.controls.bar, nil, nil, cs.body)
	cs.sync()
	return cs
}

// start reads the call's events and, with a non-zero interval, starts the
// video ticker.
func (cs *CallScreen) start(tick time.Duration) {
	events := cs.call.Events()
	do := cs.app.do
	go func() {
		defer close(cs.done)
		for ev := range events {
			// Everything already waiting goes to the UI goroutine in one
			// call: Fyne runs one queued call per turn of its loop, between
			// paints, so a call per event made a join's dozen events wait
			// a dozen paints (seconds with software GL on a busy machine).
			batch, open := drainEvents(events, ev)
			do(func() {
				for _, ev := range batch {
					cs.handle(ev)
				}
			})
			if !open {
				return
			}
		}
	}()
	go func() {
		for op := range cs.ops {
			op()
		}
	}()
	for _, s := range cs.shortcuts() {
		sc := s.sc
		act := s.act
		cs.app.win.Canvas().AddShortcut(sc.fyne(), func(fyne.Shortcut) { act() })
	}
	if tick <= 0 {
		return
	}
	cs.stopTick = startTicker(tick, do, cs.tickLate)
}

// maxEventBatch bounds the events handled in one call on the UI goroutine,
// so a flood cannot hold it for long.
const maxEventBatch = 64

// drainEvents returns first and the events already waiting behind it, up
// to maxEventBatch, and whether the channel is still open.
func drainEvents(events <-chan client.Event, first client.Event) ([]client.Event, bool) {
	batch := []client.Event{first}
	for len(batch) < maxEventBatch {
		select {
		case ev, ok := <-events:
			if !ok {
				return batch, false
			}
			batch = append(batch, ev)
		default:
			return batch, true
		}
	}
	return batch, true
}

// shortcutAction is a keyboard shortcut and what it does.
type shortcutAction struct {
	sc  shortcut
	act func()
}

// shortcuts lists the screen's keyboard shortcuts.
func (cs *CallScreen) shortcuts() []shortcutAction {
	return []shortcutAction{
		{shortcutMic, cs.toggleMic},
		{shortcutCam, cs.toggleCamera},
		{shortcutShare, cs.toggleShare},
		{shortcutChat, func() { cs.setChatOpen(!cs.chatOpen) }},
		{shortcutLeave, cs.Leave},
		{shortcutHand, cs.toggleHand},
	}
}

// handleShortcut runs the action of one of the screen's shortcuts and
// reports whether s was one.
func (cs *CallScreen) handleShortcut(s fyne.Shortcut) bool {
	for _, sa := range cs.shortcuts() {
		if sa.sc.fyne().ShortcutName() == s.ShortcutName() {
			if !cs.detached {
				sa.act()
			}
			return true
		}
	}
	return false
}

// tick redraws the tiles whose video has a new frame.
func (cs *CallScreen) tick() { cs.tickLate(0) }

// tickLate is tick for a tick that waited late for the UI goroutine: the
// video waits for a tick on time if the draw loop is busy (videoPacer).
func (cs *CallScreen) tickLate(late time.Duration) {
	if cs.detached {
		return
	}
	cs.ticks++
	now := time.Now()
	if now.Sub(cs.quality.at) >= qualityEvery {
		cs.updateQuality(now)
	}
	cs.requestVideos(now)
	shown := 0
	for _, t := range cs.order {
		if t.Visible() && !t.cameraOff && t.Video.HasFrame() {
			shown++
		}
	}
	cs.pacer.setTiles(shown)
	if !cs.pacer.allow(late, now) {
		return
	}
	drew := false
	for _, t := range cs.order {
		if t.Visible() && !t.cameraOff && t.updateVideo() {
			drew = true
		}
	}
	if drew {
		cs.pacer.drew(now)
	}
}

// handle applies one event of the call.
func (cs *CallScreen) handle(ev client.Event) {
	cs.handled++
	cs.summary.note(ev, time.Now())
	if cs.detached {
		return
	}
	switch e := ev.(type) {
	case client.Welcome:
		if cs.presence {
			cs.presence = false
			cs.notice.Hide()
		}
		cs.model.apply(e)
		cs.chat.setPastIDs(cs.app.ownIdentities(cs.req.Server, e.You.ID))
		cs.chat.welcome(e)
		cs.sync()
		cs.recordingAtJoin(e.Recording)
		cs.recordingAllowed(e.CanRecord)
	case client.RecordingChanged:
		cs.recordingChanged(e)
	case client.ChatReceived:
		if cs.chat.received(e) {
			if !cs.chatOpen {
				cs.unread++
				cs.updateControls()
			}
			if !cs.app.focused {
				cs.notify(e.Message)
			}
		}
	case client.ChatFailed:
		cs.chat.failed(e)
	case client.HistoryLoaded:
		cs.chat.history(e)
	case client.ErrorEvent:
		if cs.recordingRefused(e.Err) {
			break
		}
		cs.showNotice(ErrorText(e.Err, cs.req.Server))
	case client.Reconnecting:
		cs.retry = e
		cs.updateControls()
	case client.StateChanged:
		if e.State != client.StateReconnecting {
			cs.retry = client.Reconnecting{}
		}
		cs.model.apply(e)
		if e.State == client.StateLeft {
			cs.ended(e.Err)
			return
		}
		cs.sync()
	case client.ParticipantJoined:
		known := cs.model.knows(e.Participant.ID)
		cs.model.apply(e)
		cs.sync()
		if !known && e.Participant.ID != cs.model.selfID {
			cs.announce(e.Participant.Name+" joined", sounds.Join)
		}
	case client.ParticipantUpdated:
		before, known := cs.model.people[e.Participant.ID]
		cs.model.apply(e)
		cs.sync()
		cs.handNotice(before, known, e.Participant)
	case client.ReactionReceived:
		cs.reactionArrived(e)
	case client.ParticipantLeft:
		p, known := cs.model.people[e.ID]
		cs.model.apply(e)
		cs.sync()
		if known && e.ID != cs.model.selfID {
			cs.announce(p.Name+" left", sounds.Leave)
		}
	default:
		if cs.model.apply(ev) {
			cs.sync()
		}
	}
}

// quoteRoom puts a room name in quotes.
func quoteRoom(room string) string { return "“" + room + "”" }

// Presenting reports whether the "You are presenting" bar shows.
func (cs *CallScreen) Presenting() bool { return cs.presenting.Visible() }

// Alone reports whether the "You're the only one here" card shows.
func (cs *CallScreen) Alone() bool { return cs.alone.Visible() }

// announce shows a short notice of someone coming or going, with a
// sound when the call can play one.
func (cs *CallScreen) announce(msg, sound string) {
	cs.showNotice(msg)
	cs.presence = true
	if sp, ok := cs.call.(SoundPlayer); ok {
		sp.PlaySound(sound) // does not block; in order (a join before a leave)
	}
}

// notify raises a desktop notification for a message that arrived while
// the window was in the background.
func (cs *CallScreen) notify(m client.ChatMessage) {
	text := m.Text
	if r := []rune(text); len(r) > 200 {
		text = string(r[:200]) + "…"
	}
	cs.app.fyneApp.SendNotification(fyne.NewNotification(fmt.Sprintf("%s in %s", m.Name, cs.model.room), text))
}

// sync makes the tiles, the stage and the controls match the model.
func (cs *CallScreen) sync() {
	specs := cs.model.tiles()
	keep := map[string]bool{}
	order := make([]*Tile, 0, len(specs))
	var fresh []*Tile // tiles whose video source just changed
	objs := make([]fyne.CanvasObject, 0, len(specs))
	var pinned fyne.CanvasObject
	large := cs.model.pinned
	if large == "" && cs.speakerView && len(specs) > 1 {
		large = cs.model.featured()
	}
	for _, s := range specs {
		keep[s.Key] = true
		t := cs.tiles[s.Key]
		if t == nil {
			t = NewTile(s.Key, s.ParticipantID, s.Name, s.Screen, s.Self)
			t.tips = cs.app.tips
			key := s.Key
			t.OnTapped = func() { cs.togglePin(key) }
			cs.tiles[s.Key] = t
		}
		newSource := t.Video.Source() != s.Video
		t.Video.SetSource(s.Video)
		t.setState(s.Name, s.MicMuted, s.CameraOff, s.Speaking, s.Key == cs.model.pinned)
		t.setHand(s.Hand)
		if newSource && s.Video != nil && !s.CameraOff {
			fresh = append(fresh, t)
		}
		if s.Key == large {
			pinned = t
		}
		order = append(order, t)
		objs = append(objs, t)
	}
	for k, t := range cs.tiles {
		if !keep[k] {
			t.Video.SetSource(nil)
			delete(cs.tiles, k)
		}
	}
	cs.order = order
	cs.stageLay.pinned = pinned
	cs.stage.Objects = objs
	cs.stage.Refresh()
	// Draw a frame a new source already has now, not a tick later: the
	// own camera has frames before the call screen shows.
	for _, t := range fresh {
		t.updateVideo()
	}
	setVisible(cs.alone, cs.model.selfID != "" && len(cs.model.people) == 1 && !cs.model.self.Screen)
	setVisible(cs.presenting, cs.model.self.Screen)
	cs.updateControls()
}

// Leave leaves the call and returns to the entry screen.
func (cs *CallScreen) Leave() {
	if cs.detached {
		return
	}
	cs.detach()
	cs.app.showSummary(cs)
	cs.release()
}

// release leaves the call in the background (it may take a moment to tell
// the server and close the devices) and then lets the entry screen open
// the camera and microphone again.
func (cs *CallScreen) release() {
	call, do, entry := cs.call, cs.app.do, cs.app.entry
	go func() {
		_ = call.Leave()
		do(entry.devicesReleased)
	}()
}

// rejoinNow asks the call to try rejoining at once.
func (cs *CallScreen) rejoinNow() {
	if cs.detached {
		return
	}
	cs.bannerText.SetText("Connection lost. Rejoining now…")
	call := cs.call
	go call.ReconnectNow()
}

// ended handles the end of the session: back to the entry screen, with
// the reason when it was not the user's choice.
func (cs *CallScreen) ended(err error) {
	cs.detach()
	msg := ""
	if err != nil {
		msg = "The call ended. " + ErrorText(err, cs.req.Server)
	}
	cs.app.showEntry(msg)
	if err != nil {
		cs.app.entry.offerRejoin()
	}
	// The session is over, but the call still holds the devices until
	// Leave releases them.
	cs.release()
}

// detach stops the ticker and the shortcuts; later events are ignored.
func (cs *CallScreen) detach() {
	if cs.detached {
		return
	}
	cs.detached = true
	cs.app.people.callGone(cs) // a call between people is hung up; a room frees the user for calls
	close(cs.ops)
	if cs.stopTick != nil {
		cs.stopTick()
	}
	for _, s := range cs.shortcuts() {
		cs.app.win.Canvas().RemoveShortcut(s.sc.fyne())
	}
	cs.app.tips.hide()
	if cs.devices != nil {
		cs.devices.pop.Hide()
	}
	if cs.picker != nil {
		cs.picker.pop.Hide()
	}
	if cs.reactions != nil {
		cs.reactions.Hide()
	}
	for _, t := range cs.tiles {
		t.Video.SetSource(nil)
	}
	if cs.app.call == cs {
		cs.app.call = nil
	}
}

// Tiles returns the tiles in stage order.
func (cs *CallScreen) Tiles() []*Tile { return append([]*Tile(nil), cs.order...) }

// Tile returns the tile with key (a participant id, or id+":screen"), or nil.
func (cs *CallScreen) Tile(key string) *Tile { return cs.tiles[key] }

// Chat returns the chat panel.
func (cs *CallScreen) Chat() *ChatPanel { return cs.chat }

// Controls returns the controls bar.
func (cs *CallScreen) Controls() *Controls { return cs.controls }

// State returns the session state as the screen shows it.
func (cs *CallScreen) State() client.State { return cs.model.state }

// toggleView switches between the grid and the speaker view.
func (cs *CallScreen) toggleView() {
	cs.speakerView = !cs.speakerView
	cs.sync()
}

// SpeakerView reports whether the speaker view is on.
func (cs *CallScreen) SpeakerView() bool { return cs.speakerView }

// Large returns the key of the tile shown large, "" in the grid.
func (cs *CallScreen) Large() string {
	for k, t := range cs.tiles {
		if cs.stageLay.pinned == t {
			return k
		}
	}
	return ""
}

// Pinned returns the key of the pinned tile, "" when none is.
func (cs *CallScreen) Pinned() string { return cs.model.pinned }

// ChatOpen reports whether the chat panel shows.
func (cs *CallScreen) ChatOpen() bool { return cs.chatOpen }

// Unread returns the number of messages that arrived while the chat was
// hidden.
func (cs *CallScreen) Unread() int { return cs.unread }

// Banner returns the text of the reconnecting banner, "" when hidden.
func (cs *CallScreen) Banner() string {
	if !cs.banner.Visible() {
		return ""
	}
	return cs.bannerText.Text
}

// Notice returns the text of the notice on show, "" when none.
func (cs *CallScreen) Notice() string {
	if !cs.notice.Visible() {
		return ""
	}
	return cs.noticeText.Text
}

// Content returns the screen's root object.
func (cs *CallScreen) Content() fyne.CanvasObject { return cs.content }
