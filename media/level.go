package media

import "math"

// Audio levels follow RFC 6464: the level is the signal's RMS power in
// -dBov, 0 (loudest, a full-scale square wave) to 127 (silence or quieter).

// SilentDBov is the RFC 6464 level of digital silence.
const SilentDBov = 127

// meterFloorDB is the quietest level the UI meter shows above zero.
const meterFloorDB = 60.0

// RMSInt16 returns the RMS of pcm normalised to 0..1 of full scale.
func RMSInt16(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		f := float64(s)
		sum += f * f
	}
	return math.Sqrt(sum/float64(len(pcm))) / 32768
}

// RMSFloat32 returns the RMS of samples in -1..1, normalised to 0..1.
func RMSFloat32(samples []float32) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		f := float64(s)
		sum += f * f
	}
	return math.Min(1, math.Sqrt(sum/float64(len(samples))))
}

// DBov converts an RMS in 0..1 of full scale into the RFC 6464 level:
// 0..127, the magnitude of the level in dBov, rounded.
func DBov(rms float64) uint8 {
	if rms <= 0 || math.IsNaN(rms) {
		return SilentDBov
	}
	db := -20 * math.Log10(rms)
	switch {
	case db <= 0:
		return 0
	case db >= SilentDBov:
		return SilentDBov
	}
	return uint8(math.Round(db))
}

// MeterLevel maps an RMS in 0..1 of full scale onto 0..1 for a level
// meter: linear in decibels, -60 dBov and below is 0, 0 dBov is 1.
func MeterLevel(rms float64) float64 {
	if rms <= 0 || math.IsNaN(rms) {
		return 0
	}
	v := (meterFloorDB + 20*math.Log10(rms)) / meterFloorDB
	return math.Max(0, math.Min(1, v))
}
