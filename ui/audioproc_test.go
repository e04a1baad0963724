package ui

import (
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// audioBackend is a fakeBackend that records SetAudioProcessing.
type audioBackend struct {
	*fakeBackend
	mu  sync.Mutex
	got []AudioSettings
}

func (b *audioBackend) SetAudioProcessing(s AudioSettings) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, s)
}

// last returns the last settings handed over and how many there were.
func (b *audioBackend) last() (AudioSettings, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.got) == 0 {
		return AudioSettings{}, 0
	}
	return b.got[len(b.got)-1], len(b.got)
}

// newAudioHarness is newHarnessOn with an audioBackend.
func newAudioHarness(t *testing.T, fa fyne.App) (*harness, *audioBackend) {
	t.Helper()
	ab := &audioBackend{fakeBackend: newFakeBackend()}
	q := newQueue()
	app := newApp(fa, ab, Options{}, q.do, 0)
	app.win.Resize(fyne.NewSize(1100, 720))
	q.drain()
	return &harness{t: t, fa: fa, app: app, b: ab.fakeBackend, q: q}, ab
}

// TestAudioProcessingChecks turns the sound processing off and on in the
// call's device pop-up: the backend gets each change at once, the choice
// is kept in the preferences, and the next app starts with it.
func TestAudioProcessingChecks(t *testing.T) {
	fa := test.NewTempApp(t)
	h, ab := newAudioHarness(t, fa)
	all := AudioSettings{EchoCancel: true, NoiseSuppression: true, GainControl: true}
	if got, n := ab.last(); n == 0 || got != all {
		t.Fatalf("before joining the backend got %+v (%d calls), want everything on", got, n)
	}

	cs, _ := h.welcome(fox)
	test.Tap(cs.Controls().Devices)
	dp := cs.Devices()
	if dp == nil || dp.Audio == nil {
		t.Fatal("no sound processing check boxes in the device pop-up")
	}
	if dp.Audio.Settings() != all {
		t.Fatalf("check boxes %+v, want all on by default", dp.Audio.Settings())
	}
	if dp.Audio.Hint.Text == "" || !dp.Audio.Hint.Visible() {
		t.Error("no hint about headphones")
	}
	test.Tap(dp.Audio.EchoCancel)
	want := AudioSettings{NoiseSuppression: true, GainControl: true}
	if got, _ := ab.last(); got != want {
		t.Fatalf("after unchecking echo cancellation the backend has %+v, want %+v", got, want)
	}
	test.Tap(dp.Audio.GainControl)
	want.GainControl = false
	if got, _ := ab.last(); got != want {
		t.Fatalf("after unchecking gain control the backend has %+v, want %+v", got, want)
	}
	prefs := fa.Preferences()
	if prefs.BoolWithFallback(prefEchoCancel, true) || !prefs.BoolWithFallback(prefNoiseSuppression, false) ||
		prefs.BoolWithFallback(prefGainControl, true) {
		t.Errorf("preferences: echo cancellation %v, noise suppression %v, gain control %v; want off, on, off",
			prefs.Bool(prefEchoCancel), prefs.Bool(prefNoiseSuppression), prefs.Bool(prefGainControl))
	}

	// The next start of the app (same preferences) hands the choice over
	// before any join, and the pop-up shows it.
	h2, ab2 := newAudioHarness(t, fa)
	if got, n := ab2.last(); n == 0 || got != want {
		t.Fatalf("a new app handed %+v (%d calls), want the saved %+v", got, n, want)
	}
	cs2, _ := h2.welcome(fox)
	test.Tap(cs2.Controls().Devices)
	if got := cs2.Devices().Audio.Settings(); got != want {
		t.Errorf("the pop-up shows %+v, want the saved %+v", got, want)
	}
	test.Tap(cs2.Devices().Audio.EchoCancel)
	if got, _ := ab2.last(); !got.EchoCancel {
		t.Error("echo cancellation did not come back on")
	}
}

// TestNoAudioChecksWithoutBackendSupport: a backend that cannot change
// the sound processing gets no check boxes.
func TestNoAudioChecksWithoutBackendSupport(t *testing.T) {
	h := newHarness(t, Options{})
	cs, _ := h.welcome(fox)
	test.Tap(cs.Controls().Devices)
	if dp := cs.Devices(); dp == nil || dp.Audio != nil {
		t.Fatalf("device picker %+v: want it without sound check boxes", dp)
	}
}
