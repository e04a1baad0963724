package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// AudioSettings says which stages of the microphone's sound processing
// run: echo cancellation, noise suppression and automatic gain control.
type AudioSettings struct {
	EchoCancel, NoiseSuppression, GainControl bool
}

// Preference keys of the sound processing; each is on unless turned off.
const (
	prefEchoCancel       = "echo cancellation"
	prefNoiseSuppression = "noise suppression"
	prefGainControl      = "automatic gain control"
)

// audioPrefs returns the sound processing the user chose (all on at
// first).
func audioPrefs(prefs fyne.Preferences) AudioSettings {
	return AudioSettings{
		EchoCancel:       prefs.BoolWithFallback(prefEchoCancel, true),
		NoiseSuppression: prefs.BoolWithFallback(prefNoiseSuppression, true),
		GainControl:      prefs.BoolWithFallback(prefGainControl, true),
	}
}

// applyAudioPrefs hands the user's choice to a backend that can apply it,
// before any join (the entry screen calls it when it shows).
func applyAudioPrefs(a *App) {
	if ap, ok := a.backend.(AudioProcessing); ok {
		ap.SetAudioProcessing(audioPrefs(a.fyneApp.Preferences()))
	}
}

// AudioChecks are the check boxes that turn the microphone's sound
// processing on and off. A change is remembered in the preferences and
// applied at once, in a call in progress and for the next join. They
// belong to the UI goroutine.
type AudioChecks struct {
	EchoCancel, NoiseSuppression, GainControl *widget.Check
	// Hint says when to turn echo cancellation off.
	Hint *widget.Label

	app *App
	box fyne.CanvasObject
}

// newAudioChecks builds the check boxes from the preferences, or returns
// nil when the backend cannot change the sound processing.
func newAudioChecks(a *App) *AudioChecks {
	if _, ok := a.backend.(AudioProcessing); !ok {
		return nil
	}
	s := audioPrefs(a.fyneApp.Preferences())
	ac := &AudioChecks{app: a}
	check := func(label string, on bool) *widget.Check {
		c := widget.NewCheck(label, nil)
		c.Checked = on
		c.OnChanged = func(bool) { ac.changed() }
		return c
	}
	ac.EchoCancel = check("Echo cancellation", s.EchoCancel)
	ac.NoiseSuppression = check("Noise suppression", s.NoiseSuppression)
	ac.GainControl = check("Automatic gain control", s.GainControl)
	ac.Hint = widget.NewLabel("Turn echo cancellation off with headphones.")
	ac.Hint.Importance = widget.LowImportance
	ac.box = container.NewVBox(fieldLabel("Sound"), ac.EchoCancel, ac.NoiseSuppression, ac.GainControl, ac.Hint)
	return ac
}

// Settings returns what the check boxes say.
func (ac *AudioChecks) Settings() AudioSettings {
	return AudioSettings{
		EchoCancel:       ac.EchoCancel.Checked,
		NoiseSuppression: ac.NoiseSuppression.Checked,
		GainControl:      ac.GainControl.Checked,
	}
}

// load shows the choice in the preferences, without applying it again.
func (ac *AudioChecks) load() {
	s := audioPrefs(ac.app.fyneApp.Preferences())
	for c, on := range map[*widget.Check]bool{ac.EchoCancel: s.EchoCancel, ac.NoiseSuppression: s.NoiseSuppression, ac.GainControl: s.GainControl} {
		if c.Checked != on {
			c.Checked = on
			c.Refresh()
		}
	}
}

// changed remembers the choice and hands it to the backend.
func (ac *AudioChecks) changed() {
	s := ac.Settings()
	prefs := ac.app.fyneApp.Preferences()
	prefs.SetBool(prefEchoCancel, s.EchoCancel)
	prefs.SetBool(prefNoiseSuppression, s.NoiseSuppression)
	prefs.SetBool(prefGainControl, s.GainControl)
	if ap, ok := ac.app.backend.(AudioProcessing); ok {
		ap.SetAudioProcessing(s)
	}
}

// object is the check boxes with their caption and hint.
func (ac *AudioChecks) object() fyne.CanvasObject { return ac.box }
