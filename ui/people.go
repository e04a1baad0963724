package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/wire"
)

// Caller is implemented by a Backend that keeps the user online on a
// server so people can call each other (PROTOCOL.md, "Presence and
// calls"). The entry screen then has a People button.
type Caller interface {
	// Online signs in to presence on server ("" is the built-in one). It
	// is called off the UI goroutine.
	Online(ctx context.Context, server string, hello calls.Hello) (PeopleConn, error)
	// StartRinging plays the ring tone until the returned func is called.
	// Both are called on the UI goroutine and must not block.
	StartRinging() (stop func())
}

// PeopleConn is one presence connection: it keeps the user online,
// delivers people and calls on Events (closed after Close) and makes and
// answers calls. signaling/calls.Client is the real one; its methods are
// safe for concurrent use and the hub calls the blocking ones off the UI
// goroutine.
type PeopleConn interface {
	Ready() calls.Ready
	Events() <-chan calls.Event
	Call(ctx context.Context, kind string, to ...string) (*calls.CallMsg, error)
	InviteMore(ctx context.Context, call string, to ...string) (*calls.CallMsg, error)
	Accept(ctx context.Context, call string) (*calls.CallMsg, error)
	Decline(ctx context.Context, call string) (*calls.CallMsg, error)
	Cancel(ctx context.Context, call string, to ...string) (*calls.CallMsg, error)
	Hangup(ctx context.Context, call string) (*calls.CallMsg, error)
	SetBusy(busy bool) error
	Close() error
}

var _ PeopleConn = (*calls.Client)(nil)

// SpeakerMuter is implemented by a Call whose sound can be turned off
// and on without leaving (the call bar's speaker button).
type SpeakerMuter interface {
	SetSpeakerOn(on bool)
}

// Preference keys of presence: the key that is the user's identity on a
// server, and the missed calls there.
const (
	prefPresenceKey = "presence key "
	prefMissed      = "missed calls "
	maxMissed       = 20
)

// missedCall is a call that rang out, or was cancelled, before an answer.
type missedCall struct {
	At         time.Time
	ID, Name   string
	Kind       string
	CallerGone bool
}

// peopleHub is the app's presence: the connection, who is online, the
// calls between people the user is in or is rung for. Its methods run on
// the UI goroutine; a reader goroutine per connection hands events over
// with App.do.
type peopleHub struct {
	app    *App
	caller Caller

	pc             PeopleConn
	server, name   string // what pc signed in with
	gen            int    // connection generation: events of older ones are dropped
	status         string
	me             calls.Person
	people         map[string]calls.Person
	readers        sync.WaitGroup
	connecting     bool
	ringTimeoutMS  int64
	missed         []missedCall
	screen         *PeopleScreen
	button         *widget.Button // the entry screen's People button
	ring           *RingDialog
	strip          *CallStrip
	overlay        *fyne.Container
	stopRing       func()
	busyRoom       bool // in a room joined by name: set_busy
	joinCancel     context.CancelFunc
	current        *calls.Call // the call the user is in
	currentRoom    string
	othersAnswered bool // someone else joined the current call
	fromPeople     bool // the user made the current call from the People view
}

func newPeopleHub(a *App) *peopleHub {
	h := &peopleHub{app: a, people: map[string]calls.Person{}}
	h.caller, _ = a.backend.(Caller)
	h.strip = newCallStrip(h)
	h.overlay = container.NewVBox(h.strip.root)
	if h.caller != nil {
		prefs := a.fyneApp.Preferences()
		h.ensure(firstNonEmpty(a.opts.Server, prefs.String(prefServer)), firstNonEmpty(a.opts.Name, prefs.String(prefName)))
	}
	return h
}

// presenceKey is the user's secret key on server, made the first time.
func (h *peopleHub) presenceKey(server string) string {
	prefs := h.app.fyneApp.Preferences()
	k := prefPresenceKey + serverKey(server)
	key := prefs.String(k)
	if len(key) < calls.MinKeyBytes {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		key = hex.EncodeToString(b)
		prefs.SetString(k, key)
	}
	return key
}

func serverKey(server string) string {
	if server = strings.TrimSpace(server); server == "" {
		return "(built-in)"
	}
	return server
}

// ensure keeps the user online on server as name: it connects, or
// reconnects when either changed. An invalid name keeps the user offline.
func (h *peopleHub) ensure(server, name string) {
	if h.caller == nil || h.app.closing {
		return
	}
	server, name = strings.TrimSpace(server), strings.TrimSpace(name)
	if (h.pc != nil || h.connecting) && server == h.server && name == h.name {
		return
	}
	if wire.ValidateName("name", name) != nil {
		h.status = "Type your name on the first screen to be reachable."
		h.refresh()
		return
	}
	h.disconnect()
	h.gen++
	gen := h.gen
	h.server, h.name, h.connecting = server, name, true
	h.status = "Going online…"
	h.loadMissed()
	h.refresh()
	hello := calls.Hello{Key: h.presenceKey(server), Name: name}
	caller, do := h.caller, h.app.do
	h.readers.Add(1)
	go func() {
		defer h.readers.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		pc, err := caller.Online(ctx, server, hello)
		cancel()
		do(func() { h.online(gen, pc, err) })
		if err != nil {
			return
		}
		for ev := range pc.Events() {
			do(func() { h.event(gen, ev) })
		}
	}()
}

// online takes a new connection (or its failure).
func (h *peopleHub) online(gen int, pc PeopleConn, err error) {
	if gen != h.gen || h.app.closing {
		if pc != nil {
			go pc.Close()
		}
		return
	}
	h.connecting = false
	if err != nil {
		h.status = onlineErrorText(err, h.server)
		h.refresh()
		return
	}
	h.pc = pc
	h.ready(pc.Ready())
	if h.busyRoom {
		go pc.SetBusy(true)
	}
}

// tokenOnlyText is what the People view says on a server with tokens: it
// lists only people signed in with a token, and the app signs in with its
// key (it has no token of its own to show there).
const tokenOnlyText = "This server only lists people signed in with an invitation from its administrator, so you can't call anyone or be called here."

// onlineErrorText says in plain words why the user is not online.
func onlineErrorText(err error, server string) string {
	var ce *calls.Error
	switch {
	case errors.As(err, &ce) && ce.Code == wire.CodePermissionDenied:
		return tokenOnlyText
	case errors.As(err, &ce) && ce.Code == calls.CodeTooManyConnections:
		return "Not online: you are online from too many windows or computers. Close one and try again."
	case errors.As(err, &ce) && ce.Code == wire.CodeRateLimited:
		return "Not online: too many attempts. Wait a moment and try again."
	case errors.As(err, &ce):
		return "Not online: the server refused: " + sentence(ce.Message)
	case errors.Is(err, calls.ErrNoPresence):
		return "This server does not list who is online (it runs an older Confab)."
	}
	return "Not online: " + ErrorText(err, server)
}

func (h *peopleHub) ready(r calls.Ready) {
	h.me, h.ringTimeoutMS = r.You, r.RingTimeoutMS
	clear(h.people)
	for _, p := range r.People {
		h.people[p.ID] = p
	}
	h.status = ""
	h.refresh()
}

// disconnect closes the connection, if any, in the background.
func (h *peopleHub) disconnect() {
	if pc := h.pc; pc != nil {
		go pc.Close()
	}
	h.pc, h.connecting = nil, false
	clear(h.people)
	h.closeRing()
}

// shutdown goes offline with the window and waits for the readers.
func (h *peopleHub) shutdown() {
	h.gen++
	pc := h.pc
	h.disconnect()
	if pc != nil {
		pc.Close()
	}
	if h.joinCancel != nil {
		h.joinCancel()
	}
	h.readers.Wait()
}

// event applies one presence event.
func (h *peopleHub) event(gen int, ev calls.Event) {
	if gen != h.gen {
		return
	}
	switch ev := ev.(type) {
	case *calls.Ready:
		h.ready(*ev)
	case calls.PersonOnline:
		h.people[ev.ID] = ev.Person
	case calls.PersonUpdated:
		h.people[ev.ID] = ev.Person
	case calls.PersonOffline:
		delete(h.people, ev.ID)
	case calls.Disconnected:
		h.status = "Connection to the server lost; going online again…"
		clear(h.people)
	case *calls.CallMsg:
		h.callChanged(ev.Call)
	case *calls.Error:
		h.status = "Not online: " + ev.Message
	}
	h.refresh()
}

// refresh redraws what shows presence.
func (h *peopleHub) refresh() {
	if h.screen != nil {
		h.screen.update()
	}
	h.strip.update()
}

// sortedPeople is who is online, by name.
func (h *peopleHub) sortedPeople() []calls.Person {
	out := make([]calls.Person, 0, len(h.people))
	for _, p := range h.people {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name); a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// loadMissed reads the missed calls of the current server.
func (h *peopleHub) loadMissed() {
	h.missed = h.missed[:0]
	for _, line := range h.app.fyneApp.Preferences().StringList(prefMissed + serverKey(h.server)) {
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 {
			continue
		}
		ms, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		h.missed = append(h.missed, missedCall{At: time.UnixMilli(ms), ID: f[1], Kind: f[2], Name: f[3]})
	}
}

// addMissed remembers a call that was not answered here.
func (h *peopleHub) addMissed(c calls.Call) {
	h.missed = append([]missedCall{{At: time.Now(), ID: c.From, Name: c.FromName, Kind: c.Kind}}, h.missed...)
	if len(h.missed) > maxMissed {
		h.missed = h.missed[:maxMissed]
	}
	lines := make([]string, len(h.missed))
	for i, m := range h.missed {
		lines[i] = fmt.Sprintf("%d\t%s\t%s\t%s", m.At.UnixMilli(), m.ID, m.Kind, m.Name)
	}
	h.app.fyneApp.Preferences().SetStringList(prefMissed+serverKey(h.server), lines)
}

// Missed returns the missed calls listed, newest first (for tests).
func (a *App) Missed() []missedCall { return append([]missedCall(nil), a.people.missed...) }

// peopleButton is the entry screen's People button, nil without a Caller.
func (a *App) peopleButton() fyne.CanvasObject {
	if b := a.PeopleButton(); b != nil {
		return b
	}
	return nil
}

// PeopleButton returns the entry screen's People button, nil when the
// backend cannot go online.
func (a *App) PeopleButton() *widget.Button {
	h := a.people
	if h == nil || h.caller == nil {
		return nil
	}
	if h.button == nil {
		h.button = widget.NewButtonWithIcon("People: call someone", iconPeople, a.showPeople)
	}
	return h.button
}

// Online returns who the user is online as, and false while not online.
func (a *App) Online() (calls.Person, bool) {
	if a.people == nil || a.people.pc == nil {
		return calls.Person{}, false
	}
	return a.people.me, true
}

// showPeople switches to the People view, going online with the entry
// screen's name and server first.
func (a *App) showPeople() {
	h := a.people
	if h == nil || h.caller == nil || a.closing || a.call != nil {
		return
	}
	req := a.entry.request()
	h.ensure(req.Server, req.Name)
	a.closeSummary()
	a.entry.hidden()
	if h.screen == nil {
		h.screen = newPeopleScreen(h)
	}
	a.setScreen(h.screen.content)
	h.screen.update()
}

// People returns the People view while it shows, else nil.
func (a *App) People() *PeopleScreen {
	if a.people == nil || a.people.screen == nil || a.call != nil {
		return nil
	}
	if len(a.root.Objects) == 0 || a.root.Objects[0] != a.people.screen.content {
		return nil
	}
	return a.people.screen
}

// PeopleScreen lists who is online on the server with buttons to call
// them (audio or video), check boxes to call several at once, and the
// calls missed here with a Call back button each.
type PeopleScreen struct {
	// Status says whether the user is online and as whom.
	Status *widget.Label
	// Rows are the people online, in order.
	Rows []*PersonRow
	// CallVideo and CallAudio call everyone checked.
	CallVideo, CallAudio *widget.Button
	// MissedRows are the missed calls, newest first.
	MissedRows []*MissedRow
	// Back returns to the first screen.
	Back *widget.Button

	h        *peopleHub
	content  fyne.CanvasObject
	list     *fyne.Container
	missed   *fyne.Container
	selected map[string]bool
	note     *widget.Label
}

// PersonRow is one person online.
type PersonRow struct {
	ID, Name   string
	Busy       bool
	Check      *widget.Check
	Audio, Vid *widget.Button
	BusyLabel  *widget.Label
	object     fyne.CanvasObject
}

// MissedRow is one missed call.
type MissedRow struct {
	Text     *widget.Label
	CallBack *widget.Button
}

func newPeopleScreen(h *peopleHub) *PeopleScreen {
	s := &PeopleScreen{h: h, selected: map[string]bool{}}
	s.Status = widget.NewLabel("")
	s.Status.Wrapping = fyne.TextWrapWord
	s.note = errorLabel()
	s.Back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), func() { h.app.showEntry("") })
	s.CallVideo = widget.NewButtonWithIcon("Video call selected", iconCamera, func() { s.callSelected(calls.KindVideo) })
	s.CallVideo.Importance = widget.HighImportance
	s.CallAudio = widget.NewButtonWithIcon("Audio call selected", iconMic, func() { s.callSelected(calls.KindAudio) })
	s.list = container.NewVBox()
	s.missed = container.NewVBox()

	title := canvas.NewText("People", colorText)
	title.TextSize = 24
	title.TextStyle.Bold = true
	head := container.NewBorder(nil, nil, s.Back, nil, container.NewHBox(widget.NewLabel(" "), title))
	online := widget.NewLabelWithStyle("Online now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	missedTitle := widget.NewLabelWithStyle("Missed calls", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	group := container.NewHBox(s.CallVideo, s.CallAudio)
	left := container.NewBorder(container.NewVBox(online), container.NewVBox(s.note, group), nil, nil,
		container.NewVScroll(s.list))
	right := container.NewBorder(missedTitle, nil, nil, nil, container.NewVScroll(s.missed))
	leftSize := canvas.NewRectangle(nil)
	leftSize.SetMinSize(fyne.NewSize(520, 420))
	rightSize := canvas.NewRectangle(nil)
	rightSize.SetMinSize(fyne.NewSize(340, 420))
	cols := container.New(layout.NewCustomPaddedHBoxLayout(28), container.NewStack(leftSize, left), container.NewStack(rightSize, right))
	cardBg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	cardBg.CornerRadius = 14
	body := container.NewBorder(container.NewVBox(head, s.Status, widget.NewSeparator()), nil, nil, nil, cols)
	card := container.NewStack(cardBg, container.New(layout.NewCustomPaddedLayout(24, 24, 28, 28), body))
	s.content = container.NewCenter(card) // on the window's background, the stage colour
	return s
}

// update rebuilds the lists from the hub.
func (s *PeopleScreen) update() {
	h := s.h
	switch {
	case h.status != "":
		s.Status.SetText(h.status)
	case h.pc != nil:
		where := "the built-in server"
		if h.server != "" {
			where = h.server
		}
		s.Status.SetText(fmt.Sprintf("You are online on %s as %s. Others see you here and can call you.", where, h.me.Name))
	}
	people := h.sortedPeople()
	s.Rows = s.Rows[:0]
	objs := make([]fyne.CanvasObject, 0, len(people)+1)
	for id := range s.selected {
		if _, ok := h.people[id]; !ok {
			delete(s.selected, id)
		}
	}
	for _, p := range people {
		r := s.row(p)
		s.Rows = append(s.Rows, r)
		objs = append(objs, r.object)
	}
	if len(people) == 0 {
		empty := widget.NewLabel("Nobody else is online on this server right now. People appear here while their Confab is open.")
		empty.Wrapping = fyne.TextWrapWord
		empty.Importance = widget.LowImportance
		objs = append(objs, empty)
	}
	s.list.Objects = objs
	s.list.Refresh()

	s.MissedRows = s.MissedRows[:0]
	mobjs := []fyne.CanvasObject{}
	for _, m := range h.missed {
		kind := "video call"
		if m.Kind == calls.KindAudio {
			kind = "audio call"
		}
		t := widget.NewLabel(fmt.Sprintf("%s — %s, %s", m.Name, kind, missedTime(m.At, time.Now())))
		t.Truncation = fyne.TextTruncateEllipsis
		id, name, k := m.ID, m.Name, m.Kind
		b := widget.NewButtonWithIcon("Call back", iconCallBack(k), func() { h.startCall(k, []string{id}, name) })
		if _, online := h.people[id]; !online {
			b.Disable()
			b.SetText("Offline")
		}
		s.MissedRows = append(s.MissedRows, &MissedRow{Text: t, CallBack: b})
		mobjs = append(mobjs, container.NewBorder(nil, nil, nil, b, t))
	}
	if len(mobjs) == 0 {
		l := widget.NewLabel("No missed calls.")
		l.Importance = widget.LowImportance
		mobjs = append(mobjs, l)
	}
	s.missed.Objects = mobjs
	s.missed.Refresh()
	s.updateGroupButtons()
}

func iconCallBack(kind string) fyne.Resource {
	if kind == calls.KindAudio {
		return iconMic
	}
	return iconCamera
}

// missedTime says when a call was missed: the time today, else the date.
func missedTime(at, now time.Time) string {
	if y1, m1, d1 := at.Date(); true {
		if y2, m2, d2 := now.Date(); y1 == y2 && m1 == m2 && d1 == d2 {
			return at.Format("15:04")
		}
	}
	return at.Format("2 Jan 15:04")
}

// row builds one person's row.
func (s *PeopleScreen) row(p calls.Person) *PersonRow {
	r := &PersonRow{ID: p.ID, Name: p.Name, Busy: p.Busy}
	r.Check = widget.NewCheck("", func(on bool) {
		if on {
			s.selected[p.ID] = true
		} else {
			delete(s.selected, p.ID)
		}
		s.updateGroupButtons()
	})
	r.Check.Checked = s.selected[p.ID]
	avatar := canvas.NewCircle(avatarColor(p.ID))
	letters := canvas.NewText(initials(p.Name), colorText)
	letters.TextStyle.Bold = true
	letters.Alignment = fyne.TextAlignCenter
	size := canvas.NewRectangle(nil)
	size.SetMinSize(fyne.NewSize(34, 34))
	face := container.NewStack(size, avatar, container.NewCenter(letters))
	name := widget.NewLabelWithStyle(p.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	r.BusyLabel = widget.NewLabel("in a call")
	r.BusyLabel.Importance = widget.WarningImportance
	setVisible(r.BusyLabel, p.Busy)
	id, nm := p.ID, p.Name
	r.Audio = widget.NewButtonWithIcon("Audio", iconMic, func() { s.h.startCall(calls.KindAudio, []string{id}, nm) })
	r.Vid = widget.NewButtonWithIcon("Video", iconCamera, func() { s.h.startCall(calls.KindVideo, []string{id}, nm) })
	r.Vid.Importance = widget.HighImportance
	left := container.NewHBox(r.Check, face)
	right := container.NewHBox(r.BusyLabel, r.Audio, r.Vid)
	r.object = container.NewBorder(nil, nil, left, right, name)
	return r
}

// updateGroupButtons enables the group call buttons when someone is
// checked, and says how many.
func (s *PeopleScreen) updateGroupButtons() {
	n := len(s.selected)
	for _, b := range []*widget.Button{s.CallVideo, s.CallAudio} {
		if n == 0 || s.h.pc == nil {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	suffix := "selected"
	if n > 0 {
		suffix = fmt.Sprintf("%d selected", n)
	}
	s.CallVideo.SetText("Video call " + suffix)
	s.CallAudio.SetText("Audio call " + suffix)
}

// callSelected calls everyone checked.
func (s *PeopleScreen) callSelected(kind string) {
	var ids, names []string
	for _, p := range s.h.sortedPeople() {
		if s.selected[p.ID] {
			ids, names = append(ids, p.ID), append(names, p.Name)
		}
	}
	if len(ids) == 0 {
		return
	}
	if len(ids) > calls.MaxInvitees {
		setMessage(s.note, fmt.Sprintf("A call can ring at most %d people at once.", calls.MaxInvitees))
		return
	}
	clear(s.selected)
	s.h.startCall(kind, ids, strings.Join(names, ", "))
}

// Select checks or unchecks the person with id (for tests).
func (s *PeopleScreen) Select(id string, on bool) {
	for _, r := range s.Rows {
		if r.ID == id {
			r.Check.SetChecked(on)
		}
	}
}

// Row returns the row of the person called name, or nil.
func (s *PeopleScreen) Row(name string) *PersonRow {
	for _, r := range s.Rows {
		if r.Name == name {
			return r
		}
	}
	return nil
}
