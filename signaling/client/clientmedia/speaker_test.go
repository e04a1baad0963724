package clientmedia

import (
	"errors"
	"testing"

	"github.com/confab/confab/media/playout"
)

func TestUseSpeaker(t *testing.T) {
	m, err := New(Options{Fake: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.UseSpeaker("zz"); !errors.Is(err, playout.ErrBadDeviceID) {
		t.Errorf("UseSpeaker(zz) = %v, want ErrBadDeviceID", err)
	}
	devs, _ := playout.Devices()
	if len(devs) == 0 {
		t.Skip("no playback device on this machine to switch to")
	}
	if err := m.UseSpeaker(devs[0].ID); err != nil {
		t.Fatalf("UseSpeaker(%s %q): %v", devs[0].ID, devs[0].Name, err)
	}
	if !m.Speaker() {
		t.Errorf("after switching to %q the call has no speaker", devs[0].Name)
	}
}
