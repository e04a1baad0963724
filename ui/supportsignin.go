package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// SignInDialog is the agent sign-in: the server's address (empty: the
// built-in server), the key the admin gave, and whether to remember them.
// It keeps its widgets so tests can type and tap.
type SignInDialog struct {
	ServerEntry *widget.Entry
	KeyEntry    *widget.Entry
	Remember    *widget.Check
	SignIn      *widget.Button
	Cancel      *widget.Button
	Progress    *widget.Activity
	ErrorLabel  *widget.Label

	sd      *supportDesk
	dlg     *widget.PopUp
	visible bool
}

func newSignInDialog(sd *supportDesk) *SignInDialog {
	d := &SignInDialog{sd: sd}
	d.ServerEntry = widget.NewEntry()
	d.ServerEntry.SetPlaceHolder("Empty: the server built into this app")
	d.KeyEntry = widget.NewPasswordEntry()
	d.KeyEntry.SetPlaceHolder("a-1f2e3d4c.…")
	d.KeyEntry.OnSubmitted = func(string) { d.submit() }
	d.Remember = widget.NewCheck("Remember on this computer", nil)
	d.Remember.SetChecked(true)
	d.ErrorLabel = errorLabel()
	d.Progress = widget.NewActivity()
	d.Progress.Hide()
	d.SignIn = widget.NewButton("Sign in", d.submit)
	d.SignIn.Importance = widget.HighImportance
	d.Cancel = widget.NewButton("Cancel", func() { d.hide() })
	intro := widget.NewLabel("Sign in as a support agent with the key your server's admin made for you (confab-server agent add).")
	intro.Wrapping = fyne.TextWrapWord
	width := widget.NewLabel("")
	width.Hide()
	form := container.NewVBox(intro,
		fieldLabel("Server"), d.ServerEntry,
		fieldLabel("Agent key"), d.KeyEntry,
		d.Remember, d.ErrorLabel,
		container.NewHBox(layout.NewSpacer(), d.Progress, d.Cancel, d.SignIn))
	title := widget.NewLabelWithStyle("Support desk", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	sized := container.NewGridWrap(fyne.NewSize(440, form.MinSize().Height+40),
		container.NewPadded(container.NewBorder(title, nil, nil, nil, form)))
	d.dlg = widget.NewModalPopUp(sized, sd.app.win.Canvas())
	return d
}

// show opens the dialog with server filled in and msg as its error.
func (d *SignInDialog) show(server, msg string) {
	d.ServerEntry.SetText(server)
	d.KeyEntry.SetText("")
	setMessage(d.ErrorLabel, msg)
	d.busy(false)
	d.visible = true
	d.dlg.Show()
	d.sd.app.win.Canvas().Focus(d.KeyEntry)
}

// busy shows the sign-in under way.
func (d *SignInDialog) busy(on bool) {
	setVisible(d.Progress, on)
	if on {
		d.Progress.Start()
		d.SignIn.Disable()
	} else {
		d.Progress.Stop()
		d.SignIn.Enable()
	}
}

// submit signs in with what was typed.
func (d *SignInDialog) submit() {
	if d.SignIn.Disabled() {
		return
	}
	server, key := strings.TrimSpace(d.ServerEntry.Text), strings.TrimSpace(d.KeyEntry.Text)
	if key == "" {
		setMessage(d.ErrorLabel, "Paste the key you were given.")
		return
	}
	setMessage(d.ErrorLabel, "")
	d.busy(true)
	d.sd.signInWith(server, key, d.Remember.Checked, func(err error) {
		d.busy(false)
		if err != nil {
			setMessage(d.ErrorLabel, signInErrorText(err, server))
			return
		}
		d.KeyEntry.SetText("")
		d.hide()
	})
}

// hide closes the dialog.
func (d *SignInDialog) hide() {
	d.visible = false
	d.dlg.Hide()
}

// Visible reports whether the dialog shows.
func (d *SignInDialog) Visible() bool { return d.visible }
