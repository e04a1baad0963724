package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// updateControls shows the user's own state, the count and the status.
func (cs *CallScreen) updateControls() {
	c := cs.controls
	self := cs.model.self
	if self.Mic {
		c.Mic.set(iconMic, withShortcut("Mute microphone", shortcutMic), lookNormal)
	} else {
		c.Mic.set(iconMicOff, withShortcut("Unmute microphone", shortcutMic), lookOff)
	}
	if self.Camera {
		c.Camera.set(iconCamera, withShortcut("Turn camera off", shortcutCam), lookNormal)
	} else {
		c.Camera.set(iconCameraOff, withShortcut("Turn camera on", shortcutCam), lookOff)
	}
	if self.Screen {
		c.Share.set(iconScreenShare, withShortcut("Stop sharing your screen", shortcutShare), lookActive)
	} else {
		c.Share.set(iconScreenShare, withShortcut("Share your screen", shortcutShare), lookNormal)
	}
	if self.HandRaisedAt > 0 {
		c.Hand.set(iconHand, withShortcut("Lower your hand", shortcutHand), lookActive)
	} else {
		c.Hand.set(iconHand, withShortcut("Raise your hand", shortcutHand), lookNormal)
	}
	if cs.chatOpen {
		c.Chat.set(iconChat, withShortcut("Close chat", shortcutChat), lookActive)
	} else {
		c.Chat.set(iconChat, withShortcut("Open chat", shortcutChat), lookNormal)
	}
	c.Chat.setBadge(cs.unread)
	if cs.speakerView {
		c.View.set(iconGridView, "Grid view", lookActive)
	} else {
		c.View.set(iconSpeakerView, "Speaker view", lookNormal)
	}
	n := len(cs.model.people)
	c.People.setText(fmt.Sprint(max(n, 1)))
	if n == 1 {
		c.People.tooltip = "1 person in the call"
	} else {
		c.People.tooltip = fmt.Sprintf("%d people in the call", n)
	}

	room := firstNonEmpty(cs.req.Title, cs.model.room)
	c.Room.Text = truncateText(room, 220, c.Room.TextSize, c.Room.TextStyle)
	c.Room.Refresh()
	status := ""
	switch cs.model.state {
	case client.StateConnecting:
		status = "Connecting…"
	case client.StateConnected:
		status = "Connected"
	case client.StateReconnecting:
		status = "Reconnecting…"
	case client.StateLeft:
		status = "Left the call"
	}
	if c.Status.Text != status {
		c.Status.Text = status
		c.Status.Refresh()
	}
	connecting := cs.model.state == client.StateConnecting && cs.model.selfID == ""
	cs.connText.SetText("Joining " + room + "…")
	setVisible(cs.connecting, connecting)
	cs.setSpinning(connecting)
	setVisible(cs.stage, !connecting)
	if cs.model.state == client.StateReconnecting {
		cs.bannerText.SetText(reconnectText(cs.retry, cs.req.Server))
		cs.banner.Show()
	} else {
		cs.banner.Hide()
	}
	setVisible(cs.topBars, cs.banner.Visible() || cs.presenting.Visible() || cs.rec.saved.Visible())
}

// setSpinning starts or stops the joining spinner's animation.
func (cs *CallScreen) setSpinning(on bool) {
	if cs.spinning == on {
		return
	}
	cs.spinning = on
	if on {
		cs.spinner.Start()
	} else {
		cs.spinner.Stop()
	}
}

// reconnectText says what the call is doing about a lost connection: why
// the last attempts failed, how many there were, and until when it keeps
// trying on its own.
func reconnectText(r client.Reconnecting, server string) string {
	if r.Attempt == 0 {
		return "Connection lost. Reconnecting…"
	}
	where := "the built-in server"
	if server != "" {
		where = "the server at " + server
	}
	why := "can't reach " + where
	var we *wire.Error
	if r.Err != nil && !errors.Is(r.Err, client.ErrUnreachable) && !isNetError(r.Err) && !isTimeout(r.Err) {
		why = strings.TrimSuffix(lowerFirst(causeText(r.Err, server)), ".")
	}
	if errors.As(r.Err, &we) && we.Code == wire.CodeRateLimited {
		why = "the server is busy"
	}
	tries := "1 try"
	if r.Attempt > 1 {
		tries = fmt.Sprintf("%d tries", r.Attempt)
	}
	return fmt.Sprintf("Connection lost: %s (%s so far). Still trying until %s.", why, tries, r.Until.Format("15:04"))
}

// lowerFirst lower-cases the first letter of s.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// showNotice shows msg at the bottom of the stage for a few seconds.
func (cs *CallScreen) showNotice(msg string) {
	cs.noticeGen++
	cs.presence = false
	gen := cs.noticeGen
	cs.noticeText.SetText(msg)
	cs.notice.Show()
	do := cs.app.do
	time.AfterFunc(noticeTime, func() {
		do(func() {
			if cs.noticeGen == gen {
				cs.notice.Hide()
			}
		})
	})
}

// togglePin pins or unpins a tile.
func (cs *CallScreen) togglePin(key string) {
	cs.model.togglePin(key)
	cs.sync()
}

// setChatOpen shows or hides the chat panel.
func (cs *CallScreen) setChatOpen(open bool) {
	if cs.chatOpen == open {
		return
	}
	cs.chatOpen = open
	if open {
		cs.unread = 0
		cs.body.Objects = []fyne.CanvasObject{cs.splitView}
	} else {
		cs.body.Objects = []fyne.CanvasObject{cs.stageWrap}
	}
	cs.body.Refresh()
	cs.updateControls()
	c := cs.app.win.Canvas()
	if open {
		cs.chat.Scroll.ScrollToBottom()
		c.Focus(cs.chat.Entry)
	} else if c.Focused() == cs.chat.Entry {
		c.Unfocus()
	}
}

// toggleMic mutes or unmutes the microphone.
func (cs *CallScreen) toggleMic() {
	was := cs.model.self.Mic
	cs.setSelf(func(p *client.Participant) { p.Mic = !was },
		func() error { return cs.call.SetMicMuted(was) },
		func(p *client.Participant) { p.Mic = was }, "Couldn't change the microphone")
}

// toggleCamera turns the camera on or off.
func (cs *CallScreen) toggleCamera() {
	was := cs.model.self.Camera
	cs.setSelf(func(p *client.Participant) { p.Camera = !was },
		func() error { return cs.call.SetCameraOn(!was) },
		func(p *client.Participant) { p.Camera = was }, "Couldn't change the camera")
}

// toggleShare stops sharing the screen, or asks which screen to share
// and shares it.
func (cs *CallScreen) toggleShare() {
	if !cs.model.self.Screen && cs.showScreenPicker() {
		return
	}
	cs.share()
}

// share starts or stops sharing the screen.
func (cs *CallScreen) share() {
	was := cs.model.self.Screen
	cs.setSelf(func(p *client.Participant) { p.Screen = !was },
		func() error { return cs.call.SetScreenShare(!was) },
		func(p *client.Participant) { p.Screen = was }, "Couldn't change screen sharing")
}

// setSelf changes the user's own state at once, asks the call to follow
// in the background, and undoes the change if the call refuses. The calls
// run one at a time, in order, so quick toggles end in the right state.
func (cs *CallScreen) setSelf(change func(*client.Participant), apply func() error, undo func(*client.Participant), what string) {
	if cs.detached {
		return
	}
	cs.model.setSelf(change)
	cs.sync()
	do := cs.app.do
	cs.ops <- func() {
		if err := apply(); err != nil {
			do(func() {
				if cs.detached {
					return
				}
				cs.model.setSelf(undo)
				cs.sync()
				cs.showNotice(what + ". " + causeText(err, cs.req.Server))
			})
		}
	}
}

// showPeople lists who is in the call in a pop-up above the button.
func (cs *CallScreen) showPeople() {
	box := container.NewVBox(widget.NewLabelWithStyle("In the call", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	specs := cs.model.tiles()
	// Raised hands first, in the order they went up.
	slices.SortStableFunc(specs, func(a, b tileSpec) int {
		switch {
		case a.Hand > 0 && b.Hand > 0:
			return a.Hand - b.Hand
		case a.Hand > 0:
			return -1
		case b.Hand > 0:
			return 1
		}
		return 0
	})
	for _, s := range specs {
		if s.Screen {
			continue
		}
		name := s.Name
		if s.Self {
			name += " (you)"
		}
		if s.Hand > 0 {
			name = handText(s.Hand) + "  " + name
		}
		icon := widget.NewIcon(iconMic)
		if s.MicMuted {
			icon.SetResource(theme.NewErrorThemedResource(iconMicOff))
		}
		box.Add(container.NewBorder(nil, nil, nil, icon, widget.NewLabel(name)))
	}
	c := cs.app.win.Canvas()
	pop := widget.NewPopUp(container.NewPadded(box), c)
	size := pop.MinSize()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(cs.controls.People)
	x := min(pos.X, c.Size().Width-size.Width-8)
	pop.ShowAtPosition(fyne.NewPos(max(x, 8), max(pos.Y-size.Height-8, 8)))
}
