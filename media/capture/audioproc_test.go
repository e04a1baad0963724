package capture_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab/confab/media/audioproc"
	"github.com/confab/confab/media/capture"
)

// silencer is an AudioProcessor that zeroes what it gets and counts it.
type silencer struct{ samples atomic.Int64 }

func (s *silencer) ProcessCapture(pcm []int16) error {
	clear(pcm)
	s.samples.Add(int64(len(pcm)))
	return nil
}

// TestMicrophoneGoesThroughTheProcessor checks that the processor sits
// before the meter (and so before the encoders): a processor that
// silences makes the -15 dBov test tone read as silence.
func TestMicrophoneGoesThroughTheProcessor(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &silencer{}
	mic, err := c.OpenMicrophone("", capture.WithAudioProcessor(s))
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.samples.Load() < capture.ProcessingRate/10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.samples.Load(); n < capture.ProcessingRate/10 {
		t.Fatalf("processor got %d samples, want >= 100 ms of them", n)
	}
	if l := mic.Level(); l != 0 {
		t.Fatalf("level %.2f after a silencing processor, want 0", l)
	}
}

// TestMicrophoneWithAudioproc runs the test tone through the real stage
// (all three parts on) and checks it keeps up and passes audio.
func TestMicrophoneWithAudioproc(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	p, err := audioproc.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mic, err := c.OpenMicrophone("", capture.WithAudioProcessor(p))
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Frames < 50 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := p.Stats(); st.Frames < 50 {
		t.Fatalf("processed %d frames, want >= 50", st.Frames)
	}
	// A steady tone is not speech to the noise suppressor, but the meter
	// still reads the processed chunks: it must move.
	if l := mic.Level(); l <= 0 || l > 1 {
		t.Fatalf("level %.2f", l)
	}
}
