package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/confab/confab/media/audioproc"
	"github.com/confab/confab/ui"
)

// TestAudioProcessingReachesTheMicrophone joins the built-in server with
// the fake microphone after the user turned echo cancellation off: the
// call's processing stage runs without it, and turning it back on during
// the call reaches the stage at once.
func TestAudioProcessingReachesTheMicrophone(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	emb, err := startEmbedded("127.0.0.1:0", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(log, true)
	b.embedded = emb
	defer b.stopServer()
	var ap ui.AudioProcessing = b // the UI finds the toggles through this

	ap.SetAudioProcessing(ui.AudioSettings{NoiseSuppression: true, GainControl: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	uc, err := b.Join(ctx, ui.JoinRequest{Name: "Ada", Room: "audioproc", CameraOff: true})
	if err != nil {
		t.Fatal(err)
	}
	c := uc.(*call)
	defer c.Leave()

	waitFor := func(want audioproc.Settings) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st := c.media.AudioProcessingStats()
			if st.Frames > 0 && st.InEffect == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the microphone's processing: %d frames with %+v, want %+v", st.Frames, st.InEffect, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	want := audioproc.Settings{NS: true, AGC: true, TargetDBFS: audioproc.DefaultTargetDBFS}
	waitFor(want)

	ap.SetAudioProcessing(ui.AudioSettings{EchoCancel: true, NoiseSuppression: true})
	want.AEC, want.AGC = true, false
	waitFor(want)
}
