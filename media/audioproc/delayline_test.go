package audioproc

import (
	"testing"
	"time"
)

// TestDelayLine checks that the far-end reference reaches the canceller
// as late as the known delays say (less the margin), from the first frame
// on, and that it is realigned when one side stalls or runs ahead.
func TestDelayLine(t *testing.T) {
	p, err := New(WithSettings(Settings{}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetRenderDelay(30 * time.Millisecond)
	p.SetCaptureDelay(MicLatencyForTest)
	hold := p.hold()
	if want := int((30*time.Millisecond + MicLatencyForTest - DefaultMargin) * SampleRate / time.Second); hold != want {
		t.Fatalf("hold %d samples, want %d", hold, want)
	}
	lagFrames := hold / FrameSamples
	frame := func(v int16) []int16 {
		f := make([]int16, FrameSamples)
		for i := range f {
			f[i] = v
		}
		return f
	}
	// Render frame k carries the value k+1; capture frame k must get the
	// reference rendered lagFrames earlier (silence before the start).
	mic := make([]int16, FrameSamples)
	for k := range 50 {
		p.ProcessRender(frame(int16(k + 1)))
		if err := p.ProcessCapture(mic); err != nil {
			t.Fatal(err)
		}
		want := int16(max(0, k+1-lagFrames))
		if got := p.farBuf[0]; got != want || p.farBuf[FrameSamples-1] != want {
			t.Fatalf("capture frame %d got reference %d, want %d", k, got, want)
		}
	}
	if st := p.Stats(); st.Underruns != 0 || st.Realignments != 0 || st.Frames != 50 {
		t.Fatalf("steady run: %+v", st)
	}
	// The output runs ahead by 100 ms (a burst after a stall): the line
	// is cut back to its length.
	for k := 50; k < 60; k++ {
		p.ProcessRender(frame(int16(k + 1)))
	}
	p.ProcessRender(frame(61))
	if err := p.ProcessCapture(mic); err != nil {
		t.Fatal(err)
	}
	if got, want := p.farBuf[0], int16(61-lagFrames); got != want {
		t.Fatalf("after a burst got reference %d, want %d", got, want)
	}
	if st := p.Stats(); st.Realignments != 1 {
		t.Fatalf("realignments %d, want 1", st.Realignments)
	}
	// The output stops: the capture side goes on with silence.
	for range 5 {
		if err := p.ProcessCapture(mic); err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.Underruns == 0 {
		t.Fatal("a stalled output was not noticed")
	}
}

// MicLatencyForTest stands for capture.MicLatency (20 ms), which this
// package does not import.
const MicLatencyForTest = 20 * time.Millisecond
