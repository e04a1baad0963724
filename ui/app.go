// Package ui is Confab's desktop interface, built with Fyne: the entry
// screen where a person picks a name, a room and devices, and the call
// screen with video tiles, controls and chat.
//
// Only the UI goroutine touches widgets. Background goroutines (joining,
// reading a call's events, the video ticker) hand their results over with
// fyne.Do.
package ui

import (
	"slices"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"github.com/confab/confab/assets"
)

// Options configure the app window.
type Options struct {
	// Name, Room and Server prefill the entry screen; empty fields fall back
	// to what was used last time ("lobby" for the room).
	Name, Room, Server string
	// AutoJoin joins at once when the name and room are valid.
	AutoJoin bool
	// Title is the window title, "Confab" when empty.
	Title string
}

// videoTick is how often the call screen looks for new video frames.
const videoTick = time.Second / 30

// minWindowSize is the smallest the window gets.
var minWindowSize = fyne.NewSize(720, 480)

// leaveWait bounds how long closing the window waits for the call to end.
const leaveWait = 3 * time.Second

// App is the Confab window and the screen on show in it.
type App struct {
	fyneApp fyne.App
	win     fyne.Window
	backend Backend
	opts    Options

	tips  *tooltipLayer
	root  *fyne.Container
	entry *EntryScreen
	call  *CallScreen

	// do hands work to the UI goroutine (through dispatch), until the
	// app stops.
	do func(func())
	// dispatch is fyne.Do, or a queue in tests.
	dispatch func(func())
	// stopped is set by Stop: Fyne's loop is ending or has ended, and work
	// handed to it would run on the goroutine that handed it over.
	stopped atomic.Bool
	// tick is the video refresh interval; 0 turns the tickers off (tests).
	tick    time.Duration
	focused bool
	closing bool
	// support is the support desk (supportdesk.go); nil without one.
	support *supportDesk
	// summary is the post-call summary shown over the entry screen
	// (summary.go), nil if none.
	summary *SummaryView
	// people is presence and calls between people (people.go).
	people *peopleHub
}

// New builds the window on a, drawing on b, and shows the entry screen.
// Call ShowAndRun (or show the window and run the app) afterwards.
func New(a fyne.App, b Backend, opts Options) *App {
	return newApp(a, b, opts, fyne.Do, videoTick)
}

// newApp is New with the dispatcher and the tick interval chosen.
func newApp(a fyne.App, b Backend, opts Options, do func(func()), tick time.Duration) *App {
	app := &App{fyneApp: a, backend: b, opts: opts, dispatch: do, tick: tick, focused: true}
	app.do = app.handOver
	if app.opts.Title == "" {
		app.opts.Title = "Confab"
	}
	a.Settings().SetTheme(confabTheme{})
	icon := fyne.NewStaticResource("icon.png", assets.IconPNG)
	if a.Icon() == nil {
		a.SetIcon(icon)
	}
	app.win = a.NewWindow(app.opts.Title)
	app.win.SetIcon(icon)
	app.win.Resize(fyne.NewSize(1180, 760))
	app.win.SetPadded(false)
	app.tips = newTooltipLayer(app.do)
	if tick <= 0 {
		app.tips.delay = 0
	}
	app.root = container.NewStack()
	// The window can't shrink below what the call's controls bar and a
	// readable grid need.
	minSize := canvas.NewRectangle(nil)
	minSize.SetMinSize(minWindowSize)
	app.people = newPeopleHub(app)
	app.win.SetContent(container.NewStack(minSize, app.root, app.people.overlay, app.tips.root))
	app.win.SetCloseIntercept(app.closeWindow)
	a.Lifecycle().SetOnEnteredForeground(func() { app.focused = true })
	a.Lifecycle().SetOnExitedForeground(func() { app.focused = false })

	app.support = newSupportDesk(app)
	app.entry = newEntryScreen(app)
	app.showEntry("")
	if opts.AutoJoin {
		app.entry.join()
	}
	return app
}

// Window returns the app's window.
func (a *App) Window() fyne.Window { return a.win }

// ShowAndRun shows the window and runs the app until it quits. Then it
// stops the app (Stop).
func (a *App) ShowAndRun() {
	a.win.ShowAndRun()
	a.Stop()
}

// Stop tells the app that Fyne's loop is ending: from then on nothing is
// handed to the UI goroutine. Once the loop has ended, fyne.Do runs its
// function at once on the caller's goroutine, with the window gone (a
// panic in GLFW). Fyne ends its loop by itself on SIGINT and SIGTERM, so
// a signal handler calls Stop at once; ShowAndRun calls it on return.
// The calls are then left by the backend, not through the window. Safe
// from any goroutine.
func (a *App) Stop() { a.stopped.Store(true) }

// handOver is the app's do: dispatch, unless the app has stopped.
func (a *App) handOver(f func()) {
	if a.stopped.Load() {
		return
	}
	a.dispatch(f)
}

// Entry returns the entry screen. It exists for the app's whole life.
func (a *App) Entry() *EntryScreen { return a.entry }

// Call returns the call screen, or nil when not in a call.
func (a *App) Call() *CallScreen { return a.call }

// setScreen puts obj in the window.
func (a *App) setScreen(obj fyne.CanvasObject) {
	a.tips.hide()
	a.root.Objects = []fyne.CanvasObject{obj}
	a.root.Refresh()
}

// showEntry switches to the entry screen, showing errMsg if not empty.
func (a *App) showEntry(errMsg string) {
	if a.closing || a.support.showInstead() {
		return
	}
	a.setScreen(a.entry.content)
	a.entry.shown(errMsg)
}

// showCall switches to the call screen for a call just joined.
func (a *App) showCall(call Call, req JoinRequest) {
	a.closeSummary()
	a.entry.hidden()
	// Joining with Enter leaves the focus in the hidden form: typing
	// would edit it and the call's shortcuts would not reach the window.
	a.win.Canvas().Unfocus()
	cs := newCallScreen(a, call, req)
	a.call = cs
	a.people.callShown(req)
	a.setScreen(cs.content)
	cs.start(a.tick)
}

// Close closes the window as its close button does: the call, if any, is
// left and its devices released first. It runs on the UI goroutine (a
// signal handler hands it over with fyne.Do).
func (a *App) Close() { a.closeWindow() }

// closeWindow leaves the call, if any, before the window closes.
func (a *App) closeWindow() {
	if a.closing {
		return
	}
	a.closing = true
	a.support.shutdown()
	a.people.shutdown()
	a.entry.hidden()
	a.entry.cancelJoin()
	cs := a.call
	if cs == nil {
		a.win.Close()
		return
	}
	cs.detach()
	a.win.Hide()
	go func() {
		_ = cs.call.Leave()
		select {
		case <-cs.done:
		case <-time.After(leaveWait):
		}
		a.do(a.win.Close)
	}()
}

// maxIdentities is how many of the user's past identities are kept per
// server.
const maxIdentities = 200

// ownIdentities remembers id as the user's identity on server ("" for
// the built-in one) and returns every identity the user had there, so
// messages from earlier calls show as theirs. Servers hand out a new
// identity with every token.
func (a *App) ownIdentities(server, id string) []string {
	key := "identities " + server
	if server == "" {
		key = "identities (built-in)"
	}
	prefs := a.fyneApp.Preferences()
	ids := prefs.StringList(key)
	if id != "" && !slices.Contains(ids, id) {
		ids = append(ids, id)
		if len(ids) > maxIdentities {
			ids = ids[len(ids)-maxIdentities:]
		}
		prefs.SetStringList(key, ids)
	}
	return ids
}
