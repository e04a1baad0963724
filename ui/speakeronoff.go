package ui

import "fyne.io/fyne/v2"

// Speaker icons (Material Design, Apache 2.0).
var (
	iconSpeakerOn  = svgIcon("volume_up", "M3 9v6h4l5 5V4L7 9H3zm13.5 3c0-1.77-1.02-3.29-2.5-4.03v8.05c1.48-.73 2.5-2.25 2.5-4.02zM14 3.23v2.06c2.89.86 5 3.54 5 6.71s-2.11 5.85-5 6.71v2.06c4.01-.91 7-4.49 7-8.77s-2.99-7.86-7-8.77z")
	iconSpeakerOff = svgIcon("volume_off", "M16.5 12c0-1.77-1.02-3.29-2.5-4.03v2.21l2.45 2.45c.03-.2.05-.41.05-.63zm2.5 0c0 .94-.2 1.82-.54 2.64l1.51 1.51C20.63 14.91 21 13.5 21 12c0-4.28-2.99-7.86-7-8.77v2.06c2.89.86 5 3.54 5 6.71zM4.27 3L3 4.27 7.73 9H3v6h4l5 5v-6.73l4.25 4.25c-.67.52-1.42.93-2.25 1.18v2.06c1.38-.31 2.63-.95 3.69-1.81L19.73 21 21 19.73l-9-9L4.27 3zM12 4L9.91 6.09 12 8.18V4z")
)

// setupSpeakerToggle makes the bar's speaker button turn all of the
// call's sound off and on (the call keeps going; the others still hear
// you). A call that cannot has no button.
func (cs *CallScreen) setupSpeakerToggle() {
	b := cs.controls.Speaker
	sm, ok := cs.call.(SpeakerMuter)
	if !ok {
		b.Hide()
		return
	}
	on := true
	show := func() {
		if on {
			b.set(iconSpeakerOn, "Turn the sound off (you still talk)", lookNormal)
		} else {
			b.set(iconSpeakerOff, "Turn the sound on", lookOff)
		}
	}
	b.OnTapped = func() {
		if cs.detached {
			return
		}
		on = !on
		sm.SetSpeakerOn(on)
		show()
		if !on {
			cs.showNotice("Sound off: you hear nobody until you turn it on.")
		}
	}
	show()
}

// SpeakerButton returns the call bar's speaker on/off button.
func (cs *CallScreen) SpeakerButton() *ControlButton { return cs.controls.Speaker }

var _ fyne.Widget = (*ControlButton)(nil)
