package ui

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// inviteWait is how long making an invite link may take before the
// screen copies how to join with the app instead.
const inviteWait = 10 * time.Second

// iconPersonAdd is the Invite action's icon.
var iconPersonAdd = svgIcon("person_add", "M15 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm-9-2V7H4v3H1v2h3v3h2v-3h3v-2H6zm9 4c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z")

// copyInvite puts an invite to this call on the clipboard: a link made at
// the server when the call is an Inviter, else how to join with the app.
// It runs on the UI goroutine; the link is made off it, and the Invite
// buttons are disabled meanwhile.
func (cs *CallScreen) copyInvite() {
	inv, ok := cs.call.(Inviter)
	if !ok {
		cs.app.fyneApp.Clipboard().SetContent(cs.inviteText())
		cs.showNotice("Invite copied")
		return
	}
	if cs.controls.Invite.Disabled() {
		return // a link is being made
	}
	cs.setInviting(true)
	do := cs.app.do
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), inviteWait)
		link, expires, err := inv.InviteLink(ctx)
		cancel()
		do(func() {
			cs.setInviting(false)
			if cs.detached {
				return
			}
			if err != nil {
				cs.app.fyneApp.Clipboard().SetContent(cs.inviteText())
				cs.showNotice("Invite copied. " + inviteFailure(err))
				return
			}
			cs.app.fyneApp.Clipboard().SetContent(link)
			cs.showNotice(fmt.Sprintf("Invite link copied; it works until %s: %s", expires.Local().Format("15:04"), link))
		})
	}()
}

// inviteFailure says in plain words why no link was made.
func inviteFailure(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "The server did not answer in time, so it says how to join with the app."
	}
	return "This server makes no invite links, so it says how to join with the app."
}

// setInviting disables the Invite buttons while a link is being made.
func (cs *CallScreen) setInviting(on bool) {
	cs.controls.Invite.setDisabled(on)
	if on {
		cs.InviteButton.Disable()
	} else {
		cs.InviteButton.Enable()
	}
}

// inviteText says how someone else joins this call with the app.
func (cs *CallScreen) inviteText() string {
	room := cs.model.room
	server := cs.req.Server
	if server == "" {
		server = cs.app.backend.ServerHint()
		if nh, ok := cs.app.backend.(NetworkHost); !ok || !nh.NetworkAccess() {
			return fmt.Sprintf("Join me in Confab: open the app on this computer and join the room %s.", quoteRoom(room))
		}
		return fmt.Sprintf("Join me in Confab: join the room %s. %s", quoteRoom(room), server)
	}
	return fmt.Sprintf("Join me in Confab: confab --server %s --room %s", server, quoteRoom(room))
}
