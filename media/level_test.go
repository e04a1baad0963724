package media

import (
	"math"
	"testing"
)

func TestDBov(t *testing.T) {
	tests := []struct {
		rms  float64
		want uint8
	}{
		{0, 127}, {-1, 127}, {math.NaN(), 127}, {1, 0}, {2, 0},
		{0.5, 6}, {0.1, 20}, {1e-3, 60}, {1e-7, 127},
	}
	for _, tt := range tests {
		if got := DBov(tt.rms); got != tt.want {
			t.Errorf("DBov(%v) = %d, want %d", tt.rms, got, tt.want)
		}
	}
}

func TestRMSAndMeter(t *testing.T) {
	sine := make([]int16, 960)
	for i := range sine {
		sine[i] = int16(16384 * math.Sin(2*math.Pi*float64(i)/96))
	}
	rms := RMSInt16(sine)
	if math.Abs(rms-0.5/math.Sqrt2) > 1e-3 {
		t.Fatalf("RMS of half-scale sine = %v", rms)
	}
	if got := DBov(rms); got != 9 {
		t.Fatalf("DBov(half-scale sine) = %d, want 9", got)
	}
	if m := MeterLevel(rms); m < 0.8 || m > 0.9 {
		t.Fatalf("MeterLevel = %v", m)
	}
	if MeterLevel(0) != 0 || MeterLevel(1) != 1 || MeterLevel(1e-4) != 0 {
		t.Fatal("meter ends wrong")
	}
	if RMSInt16(nil) != 0 || RMSFloat32(nil) != 0 {
		t.Fatal("empty RMS not 0")
	}
	if got := RMSFloat32([]float32{1, -1}); got != 1 {
		t.Fatalf("RMSFloat32 full scale = %v", got)
	}
}
