package decode

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/pion/rtp"
	"gopkg.in/hraban/opus.v2"

	"github.com/confab/confab/media"
)

// opusClip encodes n 20 ms frames of a 440 Hz sine at half scale.
func opusClip(t *testing.T, n int) [][]byte {
	t.Helper()
	enc, err := opus.NewEncoder(48000, 1, opus.AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 960)
	out := make([][]byte, n)
	phase := 0
	for i := range out {
		for j := range pcm {
			pcm[j] = int16(16384 * math.Sin(2*math.Pi*440*float64(phase)/48000))
			phase++
		}
		buf := make([]byte, 1000)
		m, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = buf[:m]
	}
	return out
}

func pkt(seq uint16, payload []byte) *rtp.Packet {
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960},
		Payload: payload,
	}
}

// read pulls n frames of 20 ms and returns the samples played.
func read(d *AudioDecoder, frames int) int {
	buf := make([]int16, 960)
	total := 0
	for range frames {
		total += d.ReadPCM(buf)
	}
	return total
}

func TestJitterBuffer(t *testing.T) {
	clip := opusClip(t, 64)
	tests := []struct {
		name   string
		base   uint16
		order  []int // indexes into clip pushed before reading
		frames int   // frames read
		played int   // samples expected
		check  func(t *testing.T, s AudioStats)
	}{
		{
			name: "buffers to target first", order: []int{0, 1}, frames: 1, played: 0,
			check: func(t *testing.T, s AudioStats) {
				if s.Decoded != 0 {
					t.Errorf("decoded before the target delay: %+v", s)
				}
			},
		},
		{
			name: "reorders", order: []int{0, 2, 1, 3, 5, 4}, frames: 6, played: 6 * 960,
			check: func(t *testing.T, s AudioStats) {
				if s.Decoded != 6 || s.Lost != 0 {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "conceals a loss", order: []int{0, 1, 2, 4, 5}, frames: 5, played: 5 * 960,
			check: func(t *testing.T, s AudioStats) {
				if s.Lost != 1 || s.Concealed != 1 || s.Decoded != 4 {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "wraps around", base: 65534, order: []int{0, 1, 2, 3, 4}, frames: 5, played: 5 * 960,
			check: func(t *testing.T, s AudioStats) {
				if s.Decoded != 5 || s.Lost != 0 {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "underruns then refills", order: []int{0, 1, 2}, frames: 5, played: 3 * 960,
			check: func(t *testing.T, s AudioStats) {
				if s.Underruns != 1 {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "ignores duplicates", order: []int{0, 0, 1, 1, 2}, frames: 3, played: 3 * 960,
			check: func(t *testing.T, s AudioStats) {
				if s.Duplicate != 2 || s.Decoded != 3 {
					t.Errorf("%+v", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewAudioDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, i := range tt.order {
				d.Push(pkt(tt.base+uint16(i), clip[i]))
			}
			if got := read(d, tt.frames); got != tt.played {
				t.Errorf("played %d samples, want %d", got, tt.played)
			}
			tt.check(t, d.Stats())
		})
	}
}

func TestJitterBufferLateAndOverflow(t *testing.T) {
	clip := opusClip(t, 64)
	d, err := NewAudioDecoder(WithJitter(60*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < 4; i++ {
		d.Push(pkt(uint16(i), clip[i]))
	}
	read(d, 3) // plays 0, 1, 2
	d.Push(pkt(1, clip[1]))
	if s := d.Stats(); s.Late != 1 {
		t.Fatalf("late packet not dropped: %+v", s)
	}
	// A burst of 20 packets (400 ms) is cut back to the 60 ms target.
	for i := 4; i < 24; i++ {
		d.Push(pkt(uint16(i), clip[i]))
	}
	s := d.Stats()
	if s.Dropped == 0 {
		t.Fatalf("burst not trimmed: %+v", s)
	}
	if got := read(d, 10); got > 4*960 {
		t.Fatalf("played %d samples after trimming to 60 ms", got)
	}
	// A sender restart far away in sequence space starts over.
	for i := 0; i < 3; i++ {
		d.Push(pkt(uint16(30000+i), clip[i]))
	}
	if got := read(d, 3); got != 3*960 {
		t.Fatalf("after a restart played %d samples", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d.Push(pkt(30003, clip[3]))
	if read(d, 1) != 0 {
		t.Fatal("closed decoder plays")
	}
	if _, err := NewAudioDecoder(WithJitter(time.Second, time.Millisecond)); err == nil {
		t.Fatal("target above max accepted")
	}
}

func TestAudioDecoderSurvivesGarbage(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	d, err := NewAudioDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf := make([]int16, 480)
	for i := 0; i < 2000; i++ {
		payload := make([]byte, rng.Intn(400))
		rng.Read(payload)
		d.Push(pkt(uint16(rng.Intn(70000)), payload))
		d.Push(nil)
		d.ReadPCM(buf)
	}
	// In sequence, so that garbage reaches libopus.
	for i := 0; i < 2000; i++ {
		payload := make([]byte, rng.Intn(400))
		rng.Read(payload)
		d.Push(pkt(uint16(i), payload))
		d.ReadPCM(buf)
	}
	s := d.Stats()
	t.Logf("stats %+v", s)
	if s.Errors == 0 {
		t.Error("no garbage reached the decoder")
	}
}

func TestAudioDecoderIsCorrectAndConcurrent(t *testing.T) {
	clip := opusClip(t, 50)
	d, err := NewAudioDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	done := make(chan struct{})
	go func() { // the network goroutine
		defer close(done)
		for i, p := range clip {
			d.Push(pkt(uint16(i), p))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var out []int16
	buf := make([]int16, 480)
	for deadline := time.Now().Add(5 * time.Second); len(out) < 40*960 && time.Now().Before(deadline); {
		n := d.ReadPCM(buf)
		out = append(out, buf[:n]...)
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	<-done
	if rms := media.RMSInt16(out[960:]); rms < 0.3 || rms > 0.4 { // half-scale sine: 0.354
		t.Fatalf("rms %.3f of %d samples; stats %+v", rms, len(out), d.Stats())
	}
}
