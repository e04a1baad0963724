package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/signaling/support"
)

// SupportDesk is implemented by a Backend that can sign an agent in to a
// server's support desk. The entry screen then has a Support desk button:
// a sign-in (server address and key) and then the Support view.
// SignInAgent is called off the UI goroutine; the others on it.
type SupportDesk interface {
	// SavedAgentSignIn returns the server of a remembered sign-in, if any.
	SavedAgentSignIn() (server string, ok bool)
	// SignInAgent signs in at server ("" is the built-in one) with key;
	// an empty key uses the remembered one. With remember the server and
	// key are kept for next time (in a file only the user can read).
	SignInAgent(ctx context.Context, server, key string, remember bool) (AgentSession, error)
	// ForgetAgentSignIn drops the remembered sign-in.
	ForgetAgentSignIn() error
}

// AgentSession is a signed-in agent. Its methods send at once and do not
// block for an answer; what the server says arrives on Events.
type AgentSession interface {
	// Agent is who signed in.
	Agent() support.AgentInfo
	// Server is the server's address, for joining its video calls.
	Server() string
	// Events delivers the server's messages (support.Event); it is
	// closed after SignOut, or after a refusal (then an *support.Error is
	// the last event).
	Events() <-chan support.Event
	Send(conv, text string) error
	Open(conv string, before int64) error
	MarkRead(conv string, seq int64) error
	StartVideo(conv string) error
	EndVideo() error
	CloseConversation(conv string) error
	// SignOut closes the connection.
	SignOut()
}

// supportDesk is the app's side of the support desk: the entry screen's
// button, the sign-in dialog, and while signed in the session and the
// Support view. Its methods run on the UI goroutine. nil when the
// backend is no SupportDesk.
type supportDesk struct {
	app  *App
	desk SupportDesk

	button  *widget.Button
	signIn  *SignInDialog
	session AgentSession
	screen  *SupportScreen
	// home: the Support view comes on instead of the entry screen (after
	// a call, or until the agent goes back to the entry screen).
	home bool
}

func newSupportDesk(a *App) *supportDesk {
	d, ok := a.backend.(SupportDesk)
	if !ok {
		return nil
	}
	sd := &supportDesk{app: a, desk: d}
	sd.button = widget.NewButtonWithIcon("Support desk", theme.MailComposeIcon(), sd.open)
	sd.button.Importance = widget.LowImportance
	return sd
}

// entryButton is the entry screen's Support desk button, or nil.
func (a *App) supportButton() fyne.CanvasObject {
	if a.support == nil {
		return nil
	}
	return a.support.button
}

// Support returns the Support view while an agent is signed in, else nil.
func (a *App) Support() *SupportScreen {
	if a.support == nil {
		return nil
	}
	return a.support.screen
}

// SupportSignIn returns the agent sign-in dialog while it shows, else nil.
func (a *App) SupportSignIn() *SignInDialog {
	if a.support == nil || a.support.signIn == nil || !a.support.signIn.visible {
		return nil
	}
	return a.support.signIn
}

// SupportButton returns the entry screen's Support desk button (nil when
// the backend has no support desk).
func (a *App) SupportButton() *widget.Button {
	if a.support == nil {
		return nil
	}
	return a.support.button
}

// showInstead puts the Support view up in place of the entry screen when
// it is the agent's home; it reports whether it did.
func (sd *supportDesk) showInstead() bool {
	if sd == nil || sd.screen == nil || !sd.home || sd.app.closing {
		return false
	}
	sd.show()
	return true
}

// show switches the window to the Support view.
func (sd *supportDesk) show() {
	sd.home = true
	sd.app.entry.hidden()
	sd.app.setScreen(sd.screen.content)
	sd.screen.shown()
}

// open is the Support desk button: the view if signed in, else a sign-in
// with the remembered key, else the sign-in dialog.
func (sd *supportDesk) open() {
	if sd.screen != nil {
		sd.show()
		return
	}
	if server, ok := sd.desk.SavedAgentSignIn(); ok {
		sd.button.Disable()
		sd.signInWith(server, "", true, func(err error) {
			sd.button.Enable()
			if err != nil {
				sd.showDialog(server, "We could not sign you in with the remembered key: "+signInErrorText(err, server))
			}
		})
		return
	}
	sd.showDialog(strings.TrimSpace(sd.app.entry.ServerEntry.Text), "")
}

// showDialog shows the sign-in dialog with server filled in and msg.
func (sd *supportDesk) showDialog(server, msg string) {
	if sd.signIn == nil {
		sd.signIn = newSignInDialog(sd)
	}
	sd.signIn.show(server, msg)
}

// signInWith signs in off the UI goroutine and, on success, opens the
// Support view; done runs on the UI goroutine with the outcome.
func (sd *supportDesk) signInWith(server, key string, remember bool, done func(error)) {
	desk, do := sd.desk, sd.app.do
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		s, err := desk.SignInAgent(ctx, server, key, remember)
		cancel()
		do(func() {
			if err == nil && (sd.app.closing || sd.session != nil) {
				s.SignOut()
				err = errors.New("signed in already")
			}
			if err == nil {
				sd.started(s)
			}
			done(err)
		})
	}()
}

// started makes the Support view for a new session and shows it.
func (sd *supportDesk) started(s AgentSession) {
	sd.session = s
	sd.screen = newSupportScreen(sd, s)
	sd.button.SetText("Support desk")
	if sd.app.call == nil {
		sd.show()
	} else {
		sd.home = true // after the call
	}
	sd.screen.start()
}

// signOut ends the session, forgets the remembered key and goes back to
// the entry screen with msg.
func (sd *supportDesk) signOut(msg string) {
	if sd.session != nil {
		s := sd.session
		go s.SignOut()
	}
	_ = sd.desk.ForgetAgentSignIn()
	sd.ended()
	if sd.app.call == nil {
		sd.app.showEntry(msg)
	}
}

// ended forgets the session and its view.
func (sd *supportDesk) ended() {
	if sd.screen != nil {
		sd.screen.stop()
	}
	sd.session, sd.screen, sd.home = nil, nil, false
	sd.button.SetText("Support desk")
}

// leaveToEntry shows the entry screen while staying signed in: new
// conversations are still announced, and the entry screen's button says
// how many messages wait.
func (sd *supportDesk) leaveToEntry() {
	sd.home = false
	sd.app.showEntry("")
	sd.updateButton()
}

// updateButton puts the unread count on the entry screen's button.
func (sd *supportDesk) updateButton() {
	if sd.screen == nil {
		sd.button.SetText("Support desk")
		return
	}
	if n := sd.screen.model.unread(); n > 0 {
		sd.button.SetText(fmt.Sprintf("Support desk (%d unread)", n))
	} else {
		sd.button.SetText("Support desk (signed in)")
	}
}

// shutdown signs out as the window closes (the key stays remembered).
func (sd *supportDesk) shutdown() {
	if sd == nil || sd.session == nil {
		return
	}
	s := sd.session
	sd.ended()
	go s.SignOut()
}

// joinVideo joins the agent's video call, once its customer is in: the
// devices chosen on the entry screen, the call's token, the server of the
// session. It runs on the UI goroutine; the join runs off it.
func (sd *supportDesk) joinVideo(v *support.Video, customer string) {
	a := sd.app
	if a.call != nil || sd.session == nil {
		return
	}
	req := a.entry.request()
	req.Server, req.Room, req.Name, req.Token = sd.session.Server(), v.Room, sd.session.Agent().Name, v.Token
	req.MicOff, req.CameraOff = false, false
	b, do := a.backend, a.do
	sd.screen.setBanner(customer + " is in the video call: joining it…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
		call, err := b.Join(ctx, req)
		cancel()
		do(func() {
			if err != nil {
				if sd.screen != nil {
					sd.screen.setBanner("Could not join the video call: " + ErrorText(err, req.Server))
				}
				return
			}
			if a.closing || a.call != nil {
				go call.Leave()
				return
			}
			a.showCall(call, req)
			a.call.showNotice(customer + " joined the video call, so you were brought in.")
			if sp, ok := call.(SoundPlayer); ok {
				go sp.PlaySound(sounds.Join)
			}
		})
	}()
}

// signInErrorText says in plain words why a sign-in failed.
func signInErrorText(err error, server string) string {
	var se *support.Error
	switch {
	case errors.As(err, &se) && se.Code == support.CodeAgentKeyInvalid:
		return "This key does not sign anyone in on this server. Check it with the server's admin."
	case errors.As(err, &se) && se.Code == "rate_limited":
		return "Too many wrong keys came from this computer. Wait a minute, then try again."
	case errors.As(err, &se):
		return "The server refused: " + se.Message
	case errors.Is(err, support.ErrNoSupport):
		return "This server has no support desk (it may run an older Confab)."
	}
	return ErrorText(err, server)
}
