package main

import (
	"testing"
	"time"
)

func TestFPSMeter(t *testing.T) {
	var m fpsMeter
	t0 := time.Unix(1000, 0)
	steps := []struct {
		frames          uint64
		first           time.Time
		at              time.Duration
		overall, recent float64
	}{
		{0, time.Time{}, time.Second, 0, 0},         // nothing yet
		{1, t0.Add(time.Second), time.Second, 0, 0}, // one frame: no rate
		{31, t0.Add(time.Second), 2 * time.Second, 30, 30},
		{46, t0.Add(time.Second), 3 * time.Second, 22.5, 15},
		{46, t0.Add(time.Second), 5 * time.Second, 11.3, 0}, // stalled
		{106, t0.Add(time.Second), 7 * time.Second, 17.5, 30},
		// The final report, 10 ms after the last: the last recent rate,
		// not 2 frames in 10 ms.
		{108, t0.Add(time.Second), 7*time.Second + 10*time.Millisecond, 17.8, 30},
	}
	for i, s := range steps {
		o, r := m.rates("a", s.frames, s.first, t0.Add(s.at))
		if o != s.overall || r != s.recent {
			t.Errorf("step %d: rates %v, %v; want %v, %v", i, o, r, s.overall, s.recent)
		}
	}
	if o, r := m.rates("b", 61, t0, t0.Add(2*time.Second)); o != 30 || r != 30 {
		t.Errorf("another participant: %v, %v", o, r)
	}
}
