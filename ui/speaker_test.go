package ui

import (
	"errors"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
)

// UseSpeaker makes fakeCall a SpeakerSwitcher: it records the choice, and
// the speaker "broken" fails to open.
func (c *fakeCall) UseSpeaker(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = append(c.used, "speaker "+id)
	if id == "broken" {
		return errors.New("init device: no such device")
	}
	return nil
}

func TestSwitchSpeakerDuringACall(t *testing.T) {
	h := newHarness(t, Options{})
	h.b.devices.Speakers = append(h.b.devices.Speakers, Device{ID: "hp", Label: "Headphones"}, Device{ID: "broken", Label: "Unplugged"})
	cs, c := h.welcome(fox)
	test.Tap(cs.Controls().Devices)
	dp := cs.Devices()
	if dp == nil || dp.Speaker == nil || len(dp.Speaker.Options) != 3 {
		t.Fatalf("device picker without a speaker choice of 3: %+v", dp)
	}
	dp.Speaker.SetSelected("Headphones")
	eventually(t, "the call plays on the headphones", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = slices.Contains(c.used, "speaker hp") })
		return
	})
	h.q.until(t, "the choice kept for next time", func() bool {
		return h.fa.Preferences().String(prefSpeaker) == "hp"
	})
	// A speaker that cannot play: the sound stays, a notice says why.
	dp.Speaker.SetSelected("Unplugged")
	h.q.until(t, "a notice about the unplugged speaker", func() bool {
		return cs.Notice() != ""
	})
	if got := cs.Notice(); got[:len("Couldn't play on Unplugged.")] != "Couldn't play on Unplugged." {
		t.Errorf("notice %q", got)
	}
	if got := h.fa.Preferences().String(prefSpeaker); got != "hp" {
		t.Errorf("speaker preference %q after a failed switch, want hp", got)
	}
}

// The entry screen's sound processing checks follow a change made in a
// call, and a change there is remembered for the next call.
func TestEntrySoundProcessingChecks(t *testing.T) {
	h, ab := newAudioHarness(t, test.NewTempApp(t))
	e := h.app.Entry()
	if e.Audio == nil || !e.Audio.EchoCancel.Checked {
		t.Fatal("no sound processing checks on the entry screen, or echo cancellation off at first")
	}
	test.Tap(e.Audio.EchoCancel)
	if h.fa.Preferences().BoolWithFallback(prefEchoCancel, true) {
		t.Error("turning echo cancellation off on the entry screen is not remembered")
	}
	if got, _ := ab.last(); got.EchoCancel || !got.NoiseSuppression {
		t.Errorf("the backend got %+v, want echo cancellation off", got)
	}
	h.fa.Preferences().SetBool(prefEchoCancel, true) // as the call's pop-up does
	e.loadDevices()
	if !e.Audio.EchoCancel.Checked {
		t.Error("the entry screen does not show the choice made in the call")
	}
}
