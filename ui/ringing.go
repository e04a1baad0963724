package ui

import (
	"context"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/calls"
)

// RingDialog is the incoming call: who calls and how, with Accept (video),
// Accept (audio only) and Decline. It shows over whatever screen is on;
// the ring tone plays and a desktop notification goes out while it shows.
type RingDialog struct {
	// CallID is the call ringing; Caller names who calls.
	CallID string
	Caller *widget.Label
	// AcceptVideo, AcceptAudio and Decline answer.
	AcceptVideo, AcceptAudio, Decline *widget.Button
	// Shown is when the dialog came up.
	Shown time.Time

	pop  *widget.PopUp
	kind string
}

// Ringing returns the incoming call dialog while it shows, else nil.
func (a *App) Ringing() *RingDialog {
	if a.people == nil {
		return nil
	}
	return a.people.ring
}

// showRing rings for call c.
func (h *peopleHub) showRing(c calls.Call) {
	if h.ring != nil {
		return // the server marks a second call busy; one rings at a time
	}
	kind := "a video call"
	if c.Kind == calls.KindAudio {
		kind = "an audio call"
	}
	others := len(c.Members) - 2
	what := c.FromName + " is calling you: " + kind
	if others > 0 {
		what = c.FromName + " is calling you and " + count(others, "other", "others") + ": " + kind
	}
	r := &RingDialog{CallID: c.ID, kind: c.Kind}
	r.Caller = widget.NewLabelWithStyle(what, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	r.Caller.Wrapping = fyne.TextWrapWord
	id := c.ID
	r.AcceptVideo = widget.NewButtonWithIcon("Accept (video)", iconCamera, func() { h.answer(id, true, true) })
	r.AcceptVideo.Importance = widget.SuccessImportance
	r.AcceptAudio = widget.NewButtonWithIcon("Accept (audio only)", iconMic, func() { h.answer(id, true, false) })
	r.AcceptAudio.Importance = widget.SuccessImportance
	if c.Kind == calls.KindAudio {
		r.AcceptVideo.SetText("Accept with video")
		r.AcceptAudio.SetText("Accept (audio)")
	}
	r.Decline = widget.NewButtonWithIcon("Decline", iconCallEnd, func() { h.answer(id, false, false) })
	r.Decline.Importance = widget.DangerImportance

	avatar := canvas.NewCircle(avatarColor(c.From))
	letters := canvas.NewText(initials(c.FromName), colorText)
	letters.TextSize = 30
	letters.TextStyle.Bold = true
	letters.Alignment = fyne.TextAlignCenter
	size := canvas.NewRectangle(nil)
	size.SetMinSize(fyne.NewSize(88, 88))
	face := container.NewCenter(container.NewStack(size, avatar, container.NewCenter(letters)))
	secs := h.ringTimeoutMS / 1000
	hint := widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	if secs > 0 {
		hint.SetText("It rings for " + count(int(secs), "second", "seconds") + ".")
	}
	width := canvas.NewRectangle(nil)
	width.SetMinSize(fyne.NewSize(440, 1))
	body := container.NewVBox(width, face, r.Caller, hint, layout.NewSpacer(),
		container.NewCenter(container.NewHBox(r.AcceptVideo, r.AcceptAudio, r.Decline)))
	title := widget.NewLabelWithStyle("Incoming call", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.pop = widget.NewModalPopUp(container.NewPadded(container.NewVBox(title, body)), h.app.win.Canvas())
	h.ring = r
	r.pop.Show()
	r.Shown = time.Now()
	h.stopRing = h.caller.StartRinging()
	h.app.fyneApp.SendNotification(fyne.NewNotification("Incoming call", what))
	h.app.win.RequestFocus()
}

// closeRing hides the incoming call and stops the ring.
func (h *peopleHub) closeRing() {
	if h.stopRing != nil {
		h.stopRing()
		h.stopRing = nil
	}
	if h.ring != nil {
		h.ring.pop.Hide()
		h.ring = nil
	}
}

// answer accepts (with or without the camera) or declines call id.
func (h *peopleHub) answer(id string, accept, video bool) {
	h.closeRing()
	pc := h.pc
	if pc == nil {
		return
	}
	if !accept {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = pc.Decline(ctx, id)
		}()
		return
	}
	if h.app.call != nil { // leave the room joined by name first
		h.app.call.Leave()
	}
	kind := calls.KindVideo // the camera opens only for Accept (video)
	if !video {
		kind = calls.KindAudio
	}
	do := h.app.do
	h.strip.show("Joining the call…", false)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := pc.Accept(ctx, id)
		cancel()
		do(func() {
			if err != nil {
				h.strip.flash("Couldn't accept the call: " + ErrorText(err, h.server))
				return
			}
			h.current, h.othersAnswered, h.fromPeople = &out.Call, true, false
			h.join(out, kind)
		})
	}()
}

// count says n things: "1 second", "30 seconds".
func count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + plural(n, one, many)
}
