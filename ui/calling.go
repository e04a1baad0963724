package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/calls"
)

// stripFlash is how long an end reason stays on the strip.
const stripFlash = 6 * time.Second

// CallStrip is the bar at the top of the window during a call between
// people: "Ringing Ben…" with Cancel, each invitee's state in a group
// call, Add people, and at the end why the call ended, in plain words.
type CallStrip struct {
	// Text says what the call is doing.
	Text *widget.Label
	// Cancel withdraws the invitations still ringing; Add asks more
	// people in.
	Cancel, Add *widget.Button

	h       *peopleHub
	root    *fyne.Container
	flashID int
}

func newCallStrip(h *peopleHub) *CallStrip {
	s := &CallStrip{h: h}
	s.Text = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	s.Text.Wrapping = fyne.TextWrapWord
	s.Cancel = widget.NewButtonWithIcon("Cancel", iconCallEnd, h.cancelRinging)
	s.Cancel.Importance = widget.DangerImportance
	s.Add = widget.NewButtonWithIcon("Add people", iconPersonAdd, h.showAddPeople)
	bg := canvas.NewRectangle(colorBanner)
	s.root = container.NewStack(bg, container.NewBorder(nil, nil, nil, container.NewHBox(s.Add, s.Cancel), s.Text))
	s.root.Hide()
	return s
}

// Strip returns the call strip (for tests); it shows only during calls.
func (a *App) Strip() *CallStrip { return a.people.strip }

// Visible reports whether the strip shows.
func (s *CallStrip) Visible() bool { return s.root.Visible() }

// show puts text on the strip; cancel shows the Cancel button.
func (s *CallStrip) show(text string, cancel bool) {
	s.flashID++
	s.Text.SetText(text)
	setVisible(s.Cancel, cancel)
	setVisible(s.Add, false)
	s.root.Show()
}

// flash shows text for stripFlash, then hides the strip.
func (s *CallStrip) flash(text string) {
	s.show(text, false)
	id, do := s.flashID, s.h.app.do
	time.AfterFunc(stripFlash, func() {
		do(func() {
			if s.flashID == id {
				s.root.Hide()
			}
		})
	})
}

// update shows the current call's invitees.
func (s *CallStrip) update() {
	h := s.h
	c := h.current
	if c == nil || c.Ended != "" {
		return
	}
	var parts []string
	ringing, mine := 0, false
	var ringNames []string
	for _, m := range c.Members {
		if m.ID == h.me.ID {
			continue
		}
		if m.State == calls.StateRinging {
			ringing++
			ringNames = append(ringNames, m.Name)
			mine = mine || m.InvitedBy == h.me.ID || c.From == h.me.ID
		}
		parts = append(parts, m.Name+": "+stateWords(m.State))
	}
	text := ""
	switch {
	case len(c.Members) == 2 && ringing == 1:
		text = "Ringing " + ringNames[0] + "…"
	case len(c.Members) == 2:
		s.flashID++
		s.root.Hide()
		return
	default:
		text = strings.Join(parts, " · ")
	}
	s.flashID++
	s.Text.SetText(text)
	setVisible(s.Cancel, ringing > 0 && mine)
	setVisible(s.Add, h.app.call != nil && len(h.people) > 0)
	s.root.Show()
}

// stateWords is a member's state in plain words.
func stateWords(state string) string {
	switch state {
	case calls.StateRinging:
		return "ringing"
	case calls.StateAccepted:
		return "joining"
	case calls.StateJoined:
		return "joined"
	case calls.StateDeclined:
		return "declined"
	case calls.StateNoAnswer:
		return "no answer"
	case calls.StateBusy:
		return "busy"
	case calls.StateCancelled:
		return "cancelled"
	case calls.StateLeft:
		return "left"
	case calls.StateFailed:
		return "failed"
	}
	return state
}

// endWords says why c ended, as the user with identity me sees it.
func endWords(c calls.Call, me string) string {
	other := ""
	for _, m := range c.Members {
		if m.ID != me {
			if other != "" {
				other = "Everyone"
				break
			}
			other = m.Name
		}
	}
	if c.From != me {
		other = c.FromName
	}
	switch c.Ended {
	case calls.EndDeclined:
		if c.From == me {
			return other + " declined the call."
		}
		return "You declined the call."
	case calls.EndNoAnswer:
		if c.From == me {
			return other + " didn't answer."
		}
		return "Missed call from " + c.FromName + "."
	case calls.EndBusy:
		return other + " is busy in another call."
	case calls.EndCancelled:
		if c.From == me {
			return "Call cancelled."
		}
		return c.FromName + " cancelled the call."
	case calls.EndHungUp:
		return "The call ended: " + hungUpBy(c, me) + "."
	case calls.EndFailed:
		return "The call failed: " + other + " went offline or the network dropped."
	}
	return "The call ended."
}

// hungUpBy names who left a call that ended with hung_up.
func hungUpBy(c calls.Call, me string) string {
	for _, m := range c.Members {
		if m.ID != me && m.State == calls.StateLeft {
			return m.Name + " hung up"
		}
	}
	return "you hung up"
}

// startCall calls the people with ids (names for the strip).
func (h *peopleHub) startCall(kind string, ids []string, names string) {
	pc := h.pc
	if pc == nil || h.current != nil || h.app.call != nil {
		return
	}
	h.strip.show("Calling "+names+"…", false)
	do := h.app.do
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := pc.Call(ctx, kind, ids...)
		cancel()
		do(func() {
			if err != nil {
				h.strip.flash("Couldn't call " + names + ": " + ErrorText(err, h.server))
				return
			}
			if out.Call.Ended != "" {
				h.strip.flash(endWords(out.Call, h.me.ID))
				return
			}
			h.current, h.othersAnswered, h.fromPeople = &out.Call, false, h.app.People() != nil
			h.strip.update()
			h.join(out, kind)
		})
	}()
}

// join enters the call's room: the call screen, with no camera opened
// for an audio call.
func (h *peopleHub) join(out *calls.CallMsg, kind string) {
	a := h.app
	if out.Join == nil || a.closing {
		return
	}
	req := a.entry.request()
	req.Name, req.Server = h.name, h.server
	req.Room, req.Token = out.Join.Room, out.Join.Token
	req.Title = callTitle(out.Call, h.me.ID)
	req.CameraOff = kind == calls.KindAudio // an audio call never opens the camera
	h.currentRoom = req.Room
	a.entry.hidden()
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	h.joinCancel = cancel
	b, do := a.backend, a.do
	go func() {
		call, err := b.Join(ctx, req)
		do(func() {
			cancel()
			if err != nil || a.closing || h.currentRoom != req.Room {
				if call != nil {
					go func() { _ = call.Leave() }()
				}
				if err != nil && !a.closing {
					h.strip.flash("Couldn't join the call: " + ErrorText(err, req.Server))
					h.hangup()
					a.showEntry("")
				}
				return
			}
			a.showCall(call, req)
			h.strip.update()
		})
	}()
}

// callTitle names a call on its screen: who else is in it.
func callTitle(c calls.Call, me string) string {
	var names []string
	for _, m := range c.Members {
		if m.ID != me {
			names = append(names, m.Name)
		}
	}
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return "Call with " + strings.Join(names, ", ")
}

// callChanged applies a call message: an incoming call rings, the
// current call's changes show on the strip, and an end is said.
func (h *peopleHub) callChanged(c calls.Call) {
	me := c.Member(h.me.ID)
	if me == nil {
		return
	}
	if h.ring != nil && h.ring.CallID == c.ID && (me.State != calls.StateRinging || c.Ended != "") {
		h.closeRing()
		if me.State == calls.StateNoAnswer || me.State == calls.StateCancelled || me.State == calls.StateFailed {
			h.addMissed(c)
			h.app.fyneApp.SendNotification(fyne.NewNotification("Missed call", "Missed call from "+c.FromName))
			h.strip.flash(endWords(c, h.me.ID))
		}
		return
	}
	if h.current != nil && h.current.ID == c.ID {
		h.current = &c
		for _, m := range c.Members {
			if m.ID != h.me.ID && m.State == calls.StateJoined {
				h.othersAnswered = true
			}
		}
		if c.Ended != "" {
			h.ended(c)
			return
		}
		h.strip.update()
		return
	}
	if me.State == calls.StateRinging && c.Ended == "" && c.From != h.me.ID {
		h.showRing(c)
	}
}

// ended leaves the call screen of a call that is over and says why.
func (h *peopleHub) ended(c calls.Call) {
	room := h.currentRoom
	answered := h.othersAnswered
	h.current, h.currentRoom = nil, ""
	if h.joinCancel != nil {
		h.joinCancel()
		h.joinCancel = nil
	}
	h.strip.flash(endWords(c, h.me.ID))
	cs := h.app.call
	if cs == nil || cs.req.Room != room || cs.detached {
		return
	}
	if answered {
		cs.Leave() // with the summary, as any call
		return
	}
	// Nobody came: no summary of a call that never happened; a call made
	// from People goes back there, to call someone else.
	cs.detach()
	if h.fromPeople {
		h.app.showPeople()
	} else {
		h.app.showEntry("")
	}
	cs.release()
}

// cancelRinging withdraws the invitations still ringing; a call nobody
// answered ends.
func (h *peopleHub) cancelRinging() {
	pc, c := h.pc, h.current
	if pc == nil || c == nil {
		return
	}
	id := c.ID
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = pc.Cancel(ctx, id)
	}()
}

// hangup tells the server the user left the current call.
func (h *peopleHub) hangup() {
	pc, c := h.pc, h.current
	h.current, h.currentRoom = nil, ""
	if pc == nil || c == nil {
		return
	}
	id := c.ID
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = pc.Hangup(ctx, id)
	}()
}

// callShown hears that the call screen opened for req: a room joined by
// name makes the user busy for calls.
func (h *peopleHub) callShown(req JoinRequest) {
	if h == nil || calls.IsCallRoom(req.Room) {
		return
	}
	h.busyRoom = true
	if pc := h.pc; pc != nil {
		go pc.SetBusy(true)
	}
}

// callGone hears that the call screen closed: the user hung up a call
// between people, or is free again after a room.
func (h *peopleHub) callGone(cs *CallScreen) {
	if h == nil {
		return
	}
	if calls.IsCallRoom(cs.req.Room) {
		if cs.req.Room == h.currentRoom {
			h.hangup()
			h.strip.root.Hide()
		}
		return
	}
	h.busyRoom = false
	if pc := h.pc; pc != nil {
		go pc.SetBusy(false)
	}
}

// showAddPeople offers the people online who are not in the call.
func (h *peopleHub) showAddPeople() {
	c := h.current
	if c == nil || h.pc == nil {
		return
	}
	var options []string
	ids := map[string]string{}
	for _, p := range h.sortedPeople() {
		if m := c.Member(p.ID); m != nil && calls.Active(m.State) {
			continue
		}
		label := p.Name
		if _, dup := ids[label]; dup {
			label += " (" + p.ID + ")"
		}
		ids[label] = p.ID
		options = append(options, label)
	}
	if len(options) == 0 {
		h.strip.flash("Nobody else is online to invite.")
		return
	}
	group := widget.NewCheckGroup(options, nil)
	var pop *widget.PopUp
	invite := widget.NewButtonWithIcon("Invite", iconPersonAdd, func() {
		pop.Hide()
		var to []string
		for _, l := range group.Selected {
			to = append(to, ids[l])
		}
		if len(to) == 0 || h.current == nil {
			return
		}
		pc, id := h.pc, h.current.ID
		do := h.app.do
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := pc.InviteMore(ctx, id, to...)
			cancel()
			do(func() {
				if err != nil {
					h.strip.flash("Couldn't invite: " + ErrorText(err, h.server))
					return
				}
				h.callChanged(out.Call)
			})
		}()
	})
	invite.Importance = widget.HighImportance
	title := widget.NewLabelWithStyle("Invite to this call", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	pop = widget.NewPopUp(container.NewVBox(title, container.NewVScroll(group), invite), h.app.win.Canvas())
	pop.ShowAtPosition(fyne.NewPos(h.app.win.Canvas().Size().Width-320, 48))
}
