package clientmedia_test

import (
	"testing"
	"time"

	"github.com/confab/confab/media/audioproc"
	"github.com/confab/confab/signaling/client/clientmedia"
)

// TestAudioProcessingOptions checks the options and the toggles, and that
// the microphone opened for a call runs through the stage.
func TestAudioProcessingOptions(t *testing.T) {
	m, err := clientmedia.New(clientmedia.Options{Fake: true, NoSpeaker: true, NoGainControl: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got := m.AudioProcessing()
	if !got.AEC || !got.NS || got.AGC {
		t.Fatalf("settings %+v, want echo cancellation and noise suppression on, gain control off", got)
	}
	m.SetEchoCancel(false)
	m.SetGainControl(true)
	m.SetNoiseSuppression(false)
	if got := m.AudioProcessing(); got.AEC || got.NS || !got.AGC || got.TargetDBFS != audioproc.DefaultTargetDBFS {
		t.Fatalf("after toggles: %+v", got)
	}

	mic, err := m.OpenMicrophone()
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	deadline := time.Now().Add(10 * time.Second)
	for m.AudioProcessingStats().Frames < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := m.AudioProcessingStats(); st.Frames < 20 {
		t.Fatalf("the microphone's audio went through %d frames of processing, want >= 20", st.Frames)
	}
	// The toggles reached the processing stage: it runs without echo
	// cancellation and noise suppression.
	want := audioproc.Settings{AGC: true, TargetDBFS: audioproc.DefaultTargetDBFS}
	if got := m.AudioProcessingStats().InEffect; got != want {
		t.Fatalf("processing with %+v, want %+v", got, want)
	}
	// And a change while the microphone runs reaches it too.
	m.SetEchoCancel(true)
	want.AEC = true
	for m.AudioProcessingStats().InEffect != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := m.AudioProcessingStats().InEffect; got != want {
		t.Fatalf("after turning echo cancellation on, processing with %+v, want %+v", got, want)
	}
}
