package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// ChatEntry is the chat's text box: Enter sends, Shift+Enter starts a new
// line, and the call's shortcuts keep working while it has focus.
type ChatEntry struct {
	widget.Entry

	onSend     func()
	onShortcut func(fyne.Shortcut) bool
	shift      bool
}

func newChatEntry() *ChatEntry {
	e := &ChatEntry{}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.SetPlaceHolder("Message everyone")
	e.SetMinRowsVisible(2)
	e.ExtendBaseWidget(e)
	return e
}

// KeyDown tracks the Shift key.
func (e *ChatEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

// KeyUp tracks the Shift key.
func (e *ChatEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

// TypedKey sends on Enter and adds a line break on Shift+Enter.
func (e *ChatEntry) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !e.shift {
		if e.onSend != nil {
			e.onSend()
		}
		return
	}
	e.Entry.TypedKey(k)
}

// TypedShortcut gives the call's shortcuts first go.
func (e *ChatEntry) TypedShortcut(s fyne.Shortcut) {
	if e.onShortcut != nil && e.onShortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}
