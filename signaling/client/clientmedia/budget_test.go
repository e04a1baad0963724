package clientmedia

import (
	"testing"
	"time"

	"github.com/confab/confab/media/capture"
)

// TestSendBudget: the camera's encoder follows the send estimate, less the
// microphone's share, between the floor and its configured rate.
func TestSendBudget(t *testing.T) {
	m, err := New(Options{Fake: true, NoSpeaker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tr, err := m.OpenCamera()
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	cam := tr.(videoTrack).VideoTrack
	cases := []struct{ budget, want int }{
		{500_000, 500_000 - audioReserve},
		{50_000, capture.MinVideoBitRate},        // a starved link: the floor
		{5_000_000, capture.DefaultVideoBitRate}, // plenty: the configured rate
		{300_000, 300_000 - audioReserve},        // and down again
	}
	for _, c := range cases {
		m.SetSendBudget(c.budget)
		if got := cam.BitRate(); got != c.want {
			t.Errorf("budget %d: camera at %d bit/s, want %d", c.budget, got, c.want)
		}
	}
	tr.Close()
	m.SetSendBudget(1_000_000) // a closed camera is left alone
	if got := cam.BitRate(); got != 300_000-audioReserve {
		t.Errorf("a closed camera's rate changed to %d", got)
	}
}

// TestPreviewAtOnce: with PreviewAtOnce the own camera's preview has
// frames before anyone looks at it (the app's tile draws one at once);
// without it the preview starts only when first looked at.
func TestPreviewAtOnce(t *testing.T) {
	for _, eager := range []bool{true, false} {
		m, err := New(Options{Fake: true, NoSpeaker: true, PreviewAtOnce: eager})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := m.OpenCamera()
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // several frames at 30 fps
		seq := tr.(videoTrack).Preview().Seq()
		if eager && seq == 0 {
			t.Error("PreviewAtOnce: no preview frame before the first look")
		}
		if !eager && seq != 0 {
			t.Errorf("lazy preview had %d frames before the first look", seq)
		}
		tr.Close()
		m.Close()
	}
}
